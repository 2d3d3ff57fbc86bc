/**
 * The WebSocket transport against clients that pipeline frames or never read: `subscribe` frames in
 * one TCP segment hold one subscription per run and no more than the cap, nothing outlives the
 * socket, replies wait for the socket like events do, and a client that floods bad frames or sends
 * too fast is closed with 1008 while the gateway's buffer for it stays small.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createGateway } from '../src/gateway/create-gateway.js';
import { type ListeningGateway, listen } from '../src/gateway/adapters/listen.js';
import type { AgentContext } from '../src/producer/agent.js';
import type { AgentEvent } from '../src/protocol/events.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { metric, scrape } from './helpers/metrics.js';
import { clientFrame, openRawWebSocket, serverFrames } from './helpers/raw-websocket.js';
import { range, startRun } from './helpers/sse-client.js';
import { deferred, waitFor, within } from './helpers/wait.js';

/** The gateway's grace period here: long enough for a loaded machine to subscribe in time. */
const GRACE_MS = 1_000;
const gates = new Map<string, ReturnType<typeof deferred<void>>>();

const agents = {
  /** Three tokens once its gate (keyed by its input) opens, then silent until cancelled. */
  async *gated(ctx: AgentContext) {
    const gate = deferred<void>();
    gates.set(String(ctx.input), gate);
    await gate.promise;
    for (const token of ['a', 'b', 'c']) yield token;
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
  },
  /** Silent until cancelled. */
  async *silent(ctx: AgentContext) {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
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

type Frame = { type: string; runId?: string; events?: AgentEvent[]; code?: string };

/** A `ws` client that records frames and can write many frames in one TCP segment. */
async function client(url: string) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/ws`);
  const frames: Frame[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Frame));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const tcp = (ws as unknown as { _socket: Socket })._socket;
  return {
    ws,
    tcp,
    frames,
    of: (type: string) => frames.filter((frame) => frame.type === type),
    events: (runId: string) => frames.filter((frame) => frame.type === 'events' && frame.runId === runId).flatMap((frame) => frame.events ?? []),
    /** Sends every message corked: one write, so one TCP segment on loopback. */
    pipeline(messages: unknown[]) {
      tcp.cork();
      for (const message of messages) ws.send(JSON.stringify(message));
      tcp.uncork();
    },
  };
}

/** Open WebSocket subscriptions by the gateway's metric; 0 while it has none yet (no line). */
const wsStreamsOpen = async (url: string) => {
  const open = metric(await scrape(url), 'agentwire_streams_open', 'transport="ws",format="agentwire"');
  return Number.isNaN(open) ? 0 : open;
};
const runStatus = async (url: string, id: string) => ((await (await fetch(`${url}/api/runs/${id}`)).json()) as { status: string }).status;

describe('WebSocket subscribe under pipelined frames', () => {
  let server: ListeningGateway;
  beforeAll(async () => {
    server = await listen(createGateway({ agents, heartbeatMs: 10_000, graceMs: GRACE_MS }), { port: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('holds one subscription for five subscribe frames in one segment, delivers each event once, and leaves nothing behind the socket', async () => {
    const key = `dup-${Date.now()}`;
    const { id } = await startRun(server.url, { agent: 'gated', input: key });
    const socket = await client(server.url);
    socket.pipeline(range(1, 5).map(() => ({ type: 'subscribe', runId: id })));
    await waitFor(() => socket.of('subscribed').length + socket.of('error').length === 5, 'an answer to each frame');
    expect(socket.of('subscribed')).toHaveLength(1);
    expect(socket.of('error').map((frame) => frame.code)).toEqual(['AW_BAD_REQUEST', 'AW_BAD_REQUEST', 'AW_BAD_REQUEST', 'AW_BAD_REQUEST']);
    expect(await wsStreamsOpen(server.url)).toBe(1);

    (await waitFor(() => gates.get(key), 'the agent to wait at its gate')).resolve();
    await waitFor(() => socket.events(id).some((event) => event.type === 'text.delta' && event.text === 'c'), 'the three tokens');
    // run.started, three tokens: each once, in order.
    expect(socket.events(id).map((event) => event.seq)).toEqual([1, 2, 3, 4]);

    // The socket vanishes while the run is silent: its subscription ends, the grace period runs,
    // and the run is cancelled although it never writes another event.
    const goneAt = Date.now();
    socket.ws.terminate();
    await waitFor(async () => (await wsStreamsOpen(server.url)) === 0, 'the subscription to end with the socket');
    await waitFor(async () => (await runStatus(server.url, id)) === 'cancelled', 'the silent run to be cancelled after its grace', 10_000, 50);
    expect(Date.now() - goneAt).toBeGreaterThanOrEqual(GRACE_MS - 50);
  });

});

/** A memory store whose run lookups wait while `hold` is set: the window in which a subscribe is pending. */
class SlowLookupStore extends MemoryStore {
  hold: Promise<void> | undefined;
  override async getRun(runId: string) {
    if (this.hold) await this.hold;
    return super.getRun(runId);
  }
}

describe('WebSocket subscribe pending its run lookup', () => {
  const store = new SlowLookupStore();
  let server: ListeningGateway;
  let gatewaySide: Socket | undefined;
  beforeAll(async () => {
    server = await listen(createGateway({ agents, store, heartbeatMs: 10_000, graceMs: GRACE_MS }), { port: 0 });
    server.server.on('upgrade', (_request, socket: Socket) => {
      gatewaySide = socket;
    });
  });
  afterAll(async () => {
    await server.close();
    await store.close();
  });

  it('ends a subscription whose socket closed during its run lookup, though the run stays silent', async () => {
    const { id } = await startRun(server.url, { agent: 'silent', input: null });
    await waitFor(async () => ((await (await fetch(`${server.url}/api/runs/${id}`)).json()) as { lastSeq: number }).lastSeq === 1, 'run.started');
    const socket = await client(server.url);
    const side = await waitFor(() => gatewaySide, 'the gateway side of the socket');
    const lookup = deferred<void>();
    store.hold = lookup.promise;
    // After run.started: nothing to send until the run's next event, which never comes.
    socket.ws.send(JSON.stringify({ type: 'subscribe', runId: id, after: 1 }));
    socket.ws.terminate();
    await waitFor(() => side.destroyed, 'the gateway to see the socket close');
    store.hold = undefined;
    lookup.resolve();
    await waitFor(async () => (await runStatus(server.url, id)) === 'cancelled', 'the run, never watched, to be cancelled after its grace', 10_000, 50);
    expect(await wsStreamsOpen(server.url)).toBe(0);
  });
});

describe('WebSocket subscription cap under pipelined frames', () => {
  let server: ListeningGateway;
  beforeAll(async () => {
    server = await listen(createGateway({ agents, heartbeatMs: 10_000, graceMs: 'continue' }), { port: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('holds at most 100 subscriptions for 110 subscribe frames in one segment, and none once the socket is gone', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 110; index++) ids.push((await startRun(server.url, { agent: 'silent', input: null })).id);
    const socket = await client(server.url);
    socket.pipeline(ids.map((id) => ({ type: 'subscribe', runId: id })));
    await waitFor(() => socket.of('subscribed').length + socket.of('error').length === 110, 'an answer to each frame');
    expect(socket.of('subscribed')).toHaveLength(100);
    expect(socket.of('error').map((frame) => frame.code)).toEqual(Array(10).fill('AW_TOO_MANY_STREAMS'));
    expect(await wsStreamsOpen(server.url)).toBe(100);
    socket.ws.terminate();
    await waitFor(async () => (await wsStreamsOpen(server.url)) === 0, 'every subscription to end with the socket');
  }, 30_000);
});

describe('WebSocket clients that send and do not read', () => {
  let server: ListeningGateway;
  /** The gateway's side of the latest upgraded connection, to watch what it buffers. */
  let gatewaySide: Socket | undefined;
  beforeAll(async () => {
    server = await listen(createGateway({ agents, heartbeatMs: 10_000, graceMs: 'continue' }), { port: 0 });
    server.server.on('upgrade', (_request, socket: Socket) => {
      gatewaySide = socket;
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('closes a socket flooding 200,000 bad frames with 1008 after a bounded number of replies, buffering little for it', async () => {
    const { socket, rest } = await openRawWebSocket(server.url);
    const side = await waitFor(() => gatewaySide, 'the gateway side of the socket');
    const silent = await startRun(server.url, { agent: 'silent', input: null });
    socket.write(clientFrame(1, JSON.stringify({ type: 'subscribe', runId: silent.id })));
    await waitFor(async () => (await wsStreamsOpen(server.url)) === 1, 'the subscription');
    const bad = clientFrame(1, 'x');
    const flood = Buffer.alloc(bad.length * 200_000);
    for (let offset = 0; offset < flood.length; offset += bad.length) bad.copy(flood, offset);
    const readBefore = side.bytesRead;
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, side.writableLength);
    }, 2);
    socket.on('error', () => {});
    socket.write(flood);
    // The client reads nothing until the gateway has read the whole flood.
    await waitFor(() => side.bytesRead - readBefore >= flood.length || side.destroyed, 'the gateway to read the flood', 20_000);
    clearInterval(sampler);
    peak = Math.max(peak, side.writableLength);
    expect(peak).toBeLessThan(256 * 1024);
    // Closed for its frames: its subscription ends now, before the client completes the closing handshake.
    await waitFor(async () => (await wsStreamsOpen(server.url)) === 0, 'the subscription to end with the close');

    const received: Buffer[] = [rest];
    const close = waitFor(() => serverFrames(Buffer.concat(received)).find((frame) => frame.opcode === 8), 'the close frame');
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.resume();
    const closeFrame = await close;
    expect(closeFrame.payload.readUInt16BE(0)).toBe(1008);
    expect(closeFrame.payload.subarray(2).toString()).toMatch(/too many bad frames/);
    const replies = serverFrames(Buffer.concat(received))
      .filter((frame) => frame.opcode === 1)
      .map((frame) => JSON.parse(frame.payload.toString()) as Frame);
    expect(replies[0]).toMatchObject({ type: 'subscribed', runId: silent.id });
    const errors = replies.filter((reply) => reply.type === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.length).toBeLessThanOrEqual(200);
    expect(new Set(errors.map((reply) => reply.code))).toEqual(new Set(['AW_BAD_REQUEST']));
    // The client completes the closing handshake; the gateway then ends the connection.
    socket.write(clientFrame(8, closeFrame.payload.subarray(0, 2)));
    await waitFor(() => side.destroyed, 'the gateway to end the connection');
    socket.destroy();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  }, 30_000);

  it('closes a socket sending valid frames faster than its budget with 1008', async () => {
    const socket = await client(server.url);
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    // Unsubscribing from nothing is valid and answered by nothing: only the rate can close it.
    socket.pipeline(range(1, 400).map(() => ({ type: 'unsubscribe', runId: 'run_none' })));
    expect(await within(closed, 5_000, 'the close')).toEqual({ code: 1008, reason: expect.stringMatching(/too many frames/) });
  });

  it('stops reading the frames of a socket whose replies cannot be written, until it drains', async () => {
    const socket = await client(server.url);
    const side = await waitFor(() => gatewaySide, 'the gateway side of the socket');
    const { id } = await startRun(server.url, { agent: 'firehose', input: null });
    socket.tcp.pause();
    socket.ws.send(JSON.stringify({ type: 'subscribe', runId: id }));
    await waitFor(async () => metric(await scrape(server.url), 'agentwire_slow_consumer_waits_total') >= 1, 'the socket buffer to fill');
    expect(side.isPaused()).toBe(false);
    socket.ws.send(JSON.stringify({ type: 'dance' }));
    await waitFor(() => side.isPaused(), 'the gateway to stop reading the socket');
    socket.ws.send(JSON.stringify({ type: 'unsubscribe', runId: id }));
    socket.tcp.resume();
    await waitFor(() => socket.of('error').length === 1, 'the reply, once the socket drains');
    await waitFor(() => !side.isPaused(), 'the gateway to read again');
    expect(socket.of('error')[0]).toMatchObject({ code: 'AW_BAD_REQUEST' });
    socket.ws.close();
    await fetch(`${server.url}/api/runs/${id}/cancel`, { method: 'POST' });
  });
});
