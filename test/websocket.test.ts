/**
 * The WebSocket transport with the `ws` client: several runs on one socket, resume, unsubscribe,
 * bad frames answered and not fatal, keepalive pings, auth and origin checks, and a socket that
 * stops reading does not make the gateway buffer the run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createGateway } from '../src/gateway/create-gateway.js';
import { type ListeningGateway, listen } from '../src/gateway/adapters/listen.js';
import type { AgentContext } from '../src/producer/agent.js';
import type { AgentEvent } from '../src/protocol/events.js';
import { metric, scrape } from './helpers/metrics.js';
import { collectEvents, range, startRun } from './helpers/sse-client.js';
import { waitFor } from './helpers/wait.js';

const agents = {
  async *ticker(ctx: AgentContext) {
    const count = Number(ctx.input ?? 10);
    for (let index = 0; index < count; index++) {
      await ctx.sleep(3);
      yield `${index} `;
    }
  },
  /** 32 KiB data events until cancelled: more than any socket buffer holds. */
  async *firehose(ctx: AgentContext) {
    const payload = 'y'.repeat(32 * 1024);
    for (let index = 0; !ctx.signal.aborted; index++) {
      if (index % 8 === 0) await ctx.sleep(1);
      yield ctx.data('chunk', payload);
    }
  },
};

const lastSeq = async (url: string, id: string) => ((await (await fetch(`${url}/api/runs/${id}`)).json()) as { lastSeq: number }).lastSeq;

type Frame = { type: string; runId?: string; events?: AgentEvent[]; code?: string; after?: number };

/** A ws client that records frames. */
async function client(url: string, options: WebSocket.ClientOptions = {}, query = '') {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/ws${query}`, options);
  const frames: Frame[] = [];
  const pings: number[] = [];
  /** Frames sent as binary: a browser would get a Blob, not the JSON text the protocol promises. */
  let binary = 0;
  ws.on('message', (data, isBinary) => {
    if (isBinary) binary++;
    frames.push(JSON.parse(data.toString()) as Frame);
  });
  ws.on('ping', () => pings.push(Date.now()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
  });
  const events = (runId: string) => frames.filter((frame) => frame.type === 'events' && frame.runId === runId).flatMap((frame) => frame.events ?? []);
  const ended = (runId: string) => events(runId).some((event) => event.type.startsWith('run.') && event.type !== 'run.started');
  return { ws, frames, pings, events, ended, binary: () => binary, send: (message: unknown) => ws.send(JSON.stringify(message)) };
}

describe('WebSocket transport', () => {
  let server: ListeningGateway;
  beforeAll(async () => {
    // A long heartbeat: a socket that stops reading cannot answer pings, and would be dropped as dead.
    server = await listen(createGateway({ agents, heartbeatMs: 10_000, graceMs: 'continue' }), { port: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('carries several runs on one socket with the same events and seq as SSE, and resumes after a cursor', async () => {
    const [a, b] = [await startRun(server.url, { agent: 'ticker', input: 30 }), await startRun(server.url, { agent: 'ticker', input: 20 })];
    await waitFor(async () => ((await (await fetch(`${server.url}/api/runs/${b.id}`)).json()) as { lastSeq: number }).lastSeq >= 5, 'run b to pass seq 5');
    const socket = await client(server.url);
    socket.send({ type: 'subscribe', runId: a.id });
    socket.send({ type: 'subscribe', runId: b.id, after: 5 });
    await waitFor(() => socket.ended(a.id) && socket.ended(b.id), 'both runs to end on one socket').catch((error) => {
      throw new Error(`${error}\n${JSON.stringify(socket.frames).slice(0, 1500)}`);
    });
    expect(socket.events(a.id).map((event) => event.seq)).toEqual(range(1, 32));
    expect(socket.events(b.id).map((event) => event.seq)).toEqual(range(6, 22));
    expect(socket.frames.filter((frame) => frame.type === 'subscribed').map((frame) => frame.after)).toEqual([0, 5]);
    const { events: overSse } = await collectEvents(`${server.url}/api/runs/${a.id}/events`);
    expect(socket.events(a.id)).toEqual(overSse);
    socket.ws.close();
  });

  it('sends the events of a run as text frames, the same to every socket that follows it', async () => {
    const run = await startRun(server.url, { agent: 'ticker', input: 20 });
    const sockets = [await client(server.url), await client(server.url)];
    for (const socket of sockets) socket.send({ type: 'subscribe', runId: run.id });
    await waitFor(() => sockets.every((socket) => socket.ended(run.id)), 'both sockets to see the run end');
    expect(sockets[0]?.events(run.id).map((event) => event.seq)).toEqual(range(1, 22));
    expect(sockets[1]?.events(run.id)).toEqual(sockets[0]?.events(run.id));
    for (const socket of sockets) {
      expect(socket.binary()).toBe(0);
      socket.ws.close();
    }
  });

  it('stops a subscription on unsubscribe and keeps the socket usable', async () => {
    const run = await startRun(server.url, { agent: 'ticker', input: 10_000 });
    const socket = await client(server.url);
    socket.send({ type: 'subscribe', runId: run.id });
    await waitFor(() => socket.events(run.id).length >= 5, 'a few events');
    socket.send({ type: 'unsubscribe', runId: run.id });
    await waitFor(async () => metric(await scrape(server.url), 'agentwire_streams_open', 'transport="ws",format="agentwire"') === 0, 'the subscription to end');
    const count = socket.events(run.id).length;
    // A clock made of events: another run of five ticks on the same socket, to its end. Frames
    // arrive in order, so a subscription still live (the run ticks every 3 ms) would show by then.
    const barrier = await startRun(server.url, { agent: 'ticker', input: 5 });
    socket.send({ type: 'subscribe', runId: barrier.id });
    await waitFor(() => socket.ended(barrier.id), 'the other run to end on the same socket');
    expect(socket.events(run.id).length).toBe(count);
    await fetch(`${server.url}/api/runs/${run.id}/cancel`, { method: 'POST' });
    socket.ws.close();
  });

  it('answers bad frames with an error message, not a crash, and closes a socket that sends an oversized frame', async () => {
    const socket = await client(server.url);
    socket.ws.send('not json');
    socket.send({ type: 'dance' });
    socket.send({ type: 'subscribe' });
    socket.send({ type: 'subscribe', runId: 'run_missing' });
    socket.send({ type: 'subscribe', runId: 'run_missing', after: -1 });
    await waitFor(() => socket.frames.filter((frame) => frame.type === 'error').length === 5, 'five errors');
    // The unknown run is looked up asynchronously, so its error may come after the cursor's.
    expect(socket.frames.map((frame) => frame.code).sort()).toEqual(['AW_BAD_CURSOR', 'AW_BAD_REQUEST', 'AW_BAD_REQUEST', 'AW_BAD_REQUEST', 'AW_RUN_NOT_FOUND']);
    const closed = new Promise<number>((resolve) => socket.ws.once('close', (code) => resolve(code)));
    socket.ws.send('x'.repeat(64 * 1024));
    expect(await closed).toBe(1009);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('pings every heartbeat interval, and drops a socket that stops answering', async () => {
    const pinging = await listen(createGateway({ agents, heartbeatMs: 100 }), { port: 0 });
    try {
      const socket = await client(pinging.url);
      await waitFor(() => socket.pings.length >= 3, 'three pings');
      const silent = await client(pinging.url, { autoPong: false } as WebSocket.ClientOptions);
      const closed = new Promise<void>((resolve) => silent.ws.once('close', () => resolve()));
      await closed; // no pong for two intervals: the gateway terminates it
      socket.ws.close();
    } finally {
      await pinging.close();
    }
  });

  it('feeds a socket that stops reading only as fast as it drains, while its background run keeps producing', async () => {
    const socket = await client(server.url);
    const run = await startRun(server.url, { agent: 'firehose', input: null });
    // Stop reading at the TCP level: the kernel buffers fill, then the gateway must wait.
    (socket.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    socket.send({ type: 'subscribe', runId: run.id });
    await waitFor(async () => metric(await scrape(server.url), 'agentwire_slow_consumer_waits_total') >= 1, 'the subscription to wait for the socket');
    const sent = metric(await scrape(server.url), 'agentwire_bytes_sent_total');
    const stalledAt = await lastSeq(server.url, run.id);
    // graceMs 'continue': the run does not wait for its watchers. 64 more events are 2 MiB.
    await waitFor(async () => (await lastSeq(server.url, run.id)) >= stalledAt + 64, 'the run to produce 2 MiB more');
    expect(metric(await scrape(server.url), 'agentwire_bytes_sent_total') - sent).toBeLessThan(1024 * 1024);
    socket.ws.terminate();
    await fetch(`${server.url}/api/runs/${run.id}/cancel`, { method: 'POST' });
  });
});

describe('WebSocket backpressure on a run tied to its watchers', () => {
  let server: ListeningGateway;
  beforeAll(async () => {
    server = await listen(createGateway({ agents, heartbeatMs: 10_000, graceMs: 10_000 }), { port: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('pauses the run while its only socket stops reading, and resumes it when the socket drains', async () => {
    const socket = await client(server.url);
    const run = await startRun(server.url, { agent: 'firehose', input: null });
    const tcp = (socket.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    tcp.pause();
    socket.send({ type: 'subscribe', runId: run.id });
    await waitFor(async () => metric(await scrape(server.url), 'agentwire_slow_consumer_waits_total') >= 1, 'the subscription to wait for the socket');
    const stalledAt = await lastSeq(server.url, run.id);
    // A clock made of events: a ticker run to its end (30 ticks, 3 ms apart at least), in which an
    // unpaused firehose writes hundreds of events.
    const ticker = await startRun(server.url, { agent: 'ticker', input: 30 });
    await collectEvents(`${server.url}${ticker.eventsUrl}`);
    expect((await lastSeq(server.url, run.id)) - stalledAt).toBeLessThanOrEqual(16);
    tcp.resume();
    await waitFor(async () => (await lastSeq(server.url, run.id)) >= stalledAt + 64, 'the run to produce again once the socket reads');
    socket.ws.terminate();
    await fetch(`${server.url}/api/runs/${run.id}/cancel`, { method: 'POST' });
  });
});

describe('WebSocket auth and origin', () => {
  let server: ListeningGateway;
  beforeAll(async () => {
    server = await listen(createGateway({ agents, auth: { tokens: { alice: 'alice-token-123', bob: 'bob-token-4567' } }, graceMs: 'continue' }), { port: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses an unauthenticated upgrade and a foreign origin, and hides other principals’ runs', async () => {
    await expect(client(server.url)).rejects.toThrow('HTTP 401');
    await expect(client(server.url, { headers: { authorization: 'Bearer alice-token-123', origin: 'http://evil.example' } })).rejects.toThrow('HTTP 403');
    const response = await fetch(`${server.url}/api/runs`, { method: 'POST', headers: { authorization: 'Bearer alice-token-123', 'content-type': 'application/json' }, body: '{"agent":"ticker","input":5}' });
    const { id, streamToken } = (await response.json()) as { id: string; streamToken: string };
    const bob = await client(server.url, { headers: { authorization: 'Bearer bob-token-4567' } });
    bob.send({ type: 'subscribe', runId: id });
    await waitFor(() => bob.frames.some((frame) => frame.type === 'error'), 'an error');
    expect(bob.frames[0]).toMatchObject({ type: 'error', code: 'AW_RUN_NOT_FOUND' });
    bob.ws.close();
    // A browser can use the run's stream token instead of a header, for that run only.
    const viaToken = await client(server.url, {}, `?runId=${id}&token=${streamToken}`);
    viaToken.send({ type: 'subscribe', runId: id });
    await waitFor(() => viaToken.ended(id), 'the run through the token');
    viaToken.send({ type: 'subscribe', runId: 'run_other' });
    await waitFor(() => viaToken.frames.some((frame) => frame.type === 'error'), 'the refusal');
    expect(viaToken.frames.find((frame) => frame.type === 'error')).toMatchObject({ code: 'AW_FORBIDDEN' });
    viaToken.ws.close();
    // A tampered token is refused like a missing one: 401, whatever its bytes.
    const [payload, signature] = streamToken.split('.') as [string, string];
    for (const tampered of [`${payload}.${'é'.repeat(signature.length)}`, `${streamToken}.extra`, payload]) {
      await expect(client(server.url, {}, `?runId=${id}&token=${encodeURIComponent(tampered)}`)).rejects.toThrow('HTTP 401');
    }
  }, 20_000);
});
