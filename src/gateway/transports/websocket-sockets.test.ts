/**
 * What bounds the WebSocket sockets one principal holds. Before, a socket with no subscription
 * counted against nothing and was never closed (its client answers the pings): one principal
 * opened 2,000 idle sockets in 0.5 s on loopback, every one accepted, each held for as long as the
 * client liked. Now a socket counts as one stream (plus one per subscription beyond its first),
 * an upgrade over the limits is answered 429 before the handshake, and a socket without a
 * subscription for `webSocketIdleMs` is closed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createGateway } from '../create-gateway.js';
import type { GatewayOptions } from '../options.js';
import { type ListeningGateway, listen } from '../adapters/listen.js';
import type { AgentContext } from '../../producer/agent.js';
import { metric, scrape } from '../../../test/helpers/metrics.js';
import { waitFor } from '../../../test/helpers/wait.js';

const LIMIT = 5;
const ALICE = { authorization: 'Bearer alice-token-1' };

const agents = {
  /** Silent until cancelled: its subscriptions stay open and send nothing. */
  async *silent(ctx: AgentContext) {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
  },
};

/** An upgrade's outcome: the open socket, or the HTTP answer that refused it. */
type Opened = { ws: WebSocket; refused?: { status: number; retryAfter: string | undefined; body: { error: { code: string; message: string } } } };

/** Opens a socket: resolves once it is open or refused (with the refusal's status and JSON body). */
const open = (url: string, headers: Record<string, string> = {}) =>
  new Promise<Opened>((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/api/ws`, { headers });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_request, response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => {
        const retryAfter = response.headers['retry-after'];
        resolve({ ws, refused: { status: response.statusCode ?? 0, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, body: JSON.parse(text) } });
      });
    });
    ws.once('error', reject);
  });

/** Sends a frame and resolves with the first reply about `runId` (`subscribed` or `error`). */
const request = (ws: WebSocket, frame: { type: string; runId: string }) =>
  new Promise<{ type: string; code?: string }>((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const reply = JSON.parse(data.toString()) as { type: string; runId?: string; code?: string };
      if (reply.runId !== frame.runId || (reply.type !== 'subscribed' && reply.type !== 'error')) return;
      ws.off('message', onMessage);
      resolve(reply);
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify(frame));
  });

/** How many upgrades were accepted (`open`) and refused, by status. */
const statuses = (opened: Opened[]) => {
  const counts: Record<string, number> = {};
  for (const { refused } of opened) counts[refused?.status ?? 'open'] = (counts[refused?.status ?? 'open'] ?? 0) + 1;
  return counts;
};

const closed = (ws: WebSocket) =>
  new Promise<{ code: number; reason: string; at: number }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString(), at: Date.now() })));

describe('WebSocket sockets per principal', () => {
  const gateways: ListeningGateway[] = [];
  const sockets: WebSocket[] = [];
  const start = async (options: Partial<GatewayOptions>) => {
    const listening = await listen(createGateway({ agents, uiDir: false, graceMs: 'continue', ...options }), { port: 0, host: '127.0.0.1' });
    gateways.push(listening);
    return listening;
  };
  const openAll = async (url: string, count: number, headers: Record<string, string> = {}) => {
    const opened = await Promise.all(Array.from({ length: count }, () => open(url, headers)));
    sockets.push(...opened.map(({ ws }) => ws));
    return opened;
  };
  const startRun = async (url: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${url}/api/runs`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'silent', input: null }) });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  };

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.terminate();
    for (const listening of gateways.splice(0)) await listening.close();
  });

  it(`holds at most maxStreamsPerPrincipal (${LIMIT}) idle sockets of one principal, refusing the rest with 429 before the handshake`, async () => {
    const { url } = await start({ auth: { tokens: { alice: 'alice-token-1', bob: 'bob-token-1' } }, limits: { maxStreamsPerPrincipal: LIMIT } });
    const opened = await openAll(url, 4 * LIMIT, ALICE);
    const accepted = opened.filter(({ refused }) => refused === undefined);
    expect(accepted).toHaveLength(LIMIT);
    for (const { refused } of opened.filter(({ refused }) => refused !== undefined)) {
      expect(refused).toMatchObject({ status: 429, retryAfter: '1', body: { error: { code: 'AW_TOO_MANY_STREAMS' } } });
    }
    expect(metric(await scrape(url), 'agentwire_requests_refused_total', 'code="AW_TOO_MANY_STREAMS"')).toBe(3 * LIMIT);
    // Refused upgrades are counted by their code, an unauthenticated one as well.
    expect((await openAll(url, 1))[0]?.refused?.status).toBe(401);
    expect(metric(await scrape(url), 'agentwire_requests_refused_total', 'code="AW_WS_401"')).toBe(1);
    // Another principal has its own budget.
    expect((await openAll(url, 1, { authorization: 'Bearer bob-token-1' }))[0]?.refused).toBeUndefined();
    // A closed socket gives its slot back.
    const gone = closed(accepted[0]!.ws);
    accepted[0]!.ws.close();
    await gone;
    await waitFor(async () => (await openAll(url, 1, ALICE))[0]?.refused === undefined, 'a slot freed by the closed socket');
  });

  it('counts a socket as one stream plus one per subscription beyond its first, as many SSE streams would', async () => {
    const { url } = await start({ auth: { tokens: { alice: 'alice-token-1' } }, limits: { maxStreamsPerPrincipal: LIMIT } });
    const runs = [await startRun(url, ALICE), await startRun(url, ALICE), await startRun(url, ALICE)];
    const [{ ws }] = (await openAll(url, 1, ALICE)) as [Opened];
    // Three subscriptions on one socket: three slots, not four.
    for (const runId of runs) expect((await request(ws, { type: 'subscribe', runId })).type).toBe('subscribed');
    const others = await openAll(url, LIMIT - runs.length + 1, ALICE);
    expect(statuses(others)).toEqual({ open: LIMIT - runs.length, 429: 1 });
    // At the limit, one more subscription is refused with a frame and the socket stays.
    const fourth = await startRun(url, ALICE);
    expect(await request(ws, { type: 'subscribe', runId: fourth })).toMatchObject({ type: 'error', code: 'AW_TOO_MANY_STREAMS' });
    // Unsubscribing gives the slot back (the socket keeps one of its own).
    ws.send(JSON.stringify({ type: 'unsubscribe', runId: runs[0] }));
    await waitFor(async () => (await request(ws, { type: 'subscribe', runId: fourth })).type === 'subscribed', 'the unsubscribed slot to be free');
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('holds anonymous callers to the gateway-wide maxStreams', async () => {
    const { url } = await start({ limits: { maxStreams: 3 } });
    const opened = await openAll(url, 5);
    expect(statuses(opened)).toEqual({ open: 3, 429: 2 });
    expect(opened.find(({ refused }) => refused)?.refused?.body.error.code).toBe('AW_TOO_MANY_STREAMS');
  });

  it('closes a socket that holds no subscription for webSocketIdleMs (1000), not one that holds a subscription, and frees its slot', async () => {
    const idleMs = 150;
    const { url } = await start({ auth: { tokens: { alice: 'alice-token-1' } }, limits: { maxStreamsPerPrincipal: 2 }, webSocketIdleMs: idleMs });
    const runId = await startRun(url, ALICE);
    const [{ ws: busy }] = (await openAll(url, 1, ALICE)) as [Opened];
    expect((await request(busy, { type: 'subscribe', runId })).type).toBe('subscribed');
    const busyClosed = closed(busy);
    const openedAt = Date.now();
    const [{ ws: idle }] = (await openAll(url, 1, ALICE)) as [Opened];
    expect((await openAll(url, 1, ALICE))[0]?.refused?.status).toBe(429);
    const idleClose = await closed(idle);
    expect(idleClose.code).toBe(1000);
    expect(idleClose.reason).toMatch(/^idle: no subscription for 150 ms/);
    expect(idleClose.at - openedAt).toBeGreaterThanOrEqual(idleMs - 20);
    // The subscribed socket, open longer than the idle one was, is still open.
    expect(busy.readyState).toBe(WebSocket.OPEN);
    // The idle socket's slot is free again.
    await waitFor(async () => (await openAll(url, 1, ALICE))[0]?.refused === undefined, 'the idle socket to give its slot back');
    // Once its last subscription ends, the busy socket is idle too, and is closed after the same wait.
    const unsubscribedAt = Date.now();
    busy.send(JSON.stringify({ type: 'unsubscribe', runId }));
    const busyClose = await busyClosed;
    expect(busyClose.code).toBe(1000);
    expect(busyClose.at - unsubscribedAt).toBeGreaterThanOrEqual(idleMs - 20);
  });

  it('rejects a webSocketIdleMs that is not a positive number', () => {
    expect(() => createGateway({ agents, webSocketIdleMs: 0 })).toThrow(/option webSocketIdleMs must be a positive number/);
  });
});
