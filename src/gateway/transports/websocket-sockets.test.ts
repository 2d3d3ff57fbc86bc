/**
 * What bounds the WebSocket sockets one principal holds. Subscriptions count against the stream
 * limits, but a socket with none counts against nothing and is never closed (its client answers
 * the pings): one principal opened 2,000 idle sockets in 0.5 s on loopback, every one accepted,
 * `agentwire_streams_open` at 0, each held for as long as the client likes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createGateway } from '../create-gateway.js';
import { type ListeningGateway, listen } from '../adapters/listen.js';

const LIMIT = 5;

describe('WebSocket sockets per principal', () => {
  let listening: ListeningGateway;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    const gateway = createGateway({
      agents: { async *a() { yield 'x'; } },
      uiDir: false,
      auth: { tokens: { alice: 'alice-token-1' } },
      limits: { maxStreamsPerPrincipal: LIMIT },
    });
    listening = await listen(gateway, { port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.terminate();
    await listening?.close();
  });

  /** Opens a socket as alice: resolves with whether the upgrade was accepted. */
  const open = () =>
    new Promise<boolean>((resolve) => {
      const socket = new WebSocket(`${listening.url.replace('http', 'ws')}/api/ws`, { headers: { authorization: 'Bearer alice-token-1' } });
      sockets.push(socket);
      socket.once('open', () => resolve(true));
      socket.once('error', () => resolve(false));
    });

  // Fails today: nothing counts a socket. The fix belongs in transports/websocket.ts (being
  // restructured): count each open socket against the principal (at most maxStreamsPerPrincipal
  // sockets, refused with 429 at the upgrade like a stream), or close a socket that has held no
  // subscription for a while.
  it.fails(`holds at most maxStreamsPerPrincipal (${LIMIT}) idle sockets of one principal`, async () => {
    const accepted = await Promise.all(Array.from({ length: 4 * LIMIT }, open));
    expect(accepted.filter(Boolean).length).toBeLessThanOrEqual(LIMIT);
  });
});
