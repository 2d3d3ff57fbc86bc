/**
 * A client that stops reading must cost the gateway bounded memory whatever the run produces,
 * while a reading client on the same run gets every event. The gateway runs in its own process
 * (the built CLI) so its RSS is measured alone. A client that stops reading for good is dropped
 * after the stall timeout, so it cannot hold its run paused.
 */
import { type Socket, connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createGateway } from '../src/gateway/create-gateway.js';
import { listen } from '../src/gateway/adapters/listen.js';
import type { AgentFunction } from '../src/producer/agent.js';
import type { AgentEvent } from '../src/protocol/events.js';
import type { RunState } from '../src/protocol/run-state.js';
import { metric, scrape } from './helpers/metrics.js';
import { type ServeProcess, ROOT, rssOf, startServe } from './helpers/process.js';
import { ADAPTERS, type TestServer, startNodeServer } from './helpers/servers.js';
import { collectEvents, openSse, seqs, range } from './helpers/sse-client.js';
import { waitFor } from './helpers/wait.js';

const EVENTS = 1600;
const SIZE = 64 * 1024; // 1600 × 64 KiB ≈ 100 MiB of answer text

describe('backpressure', () => {
  let server: ServeProcess;
  beforeAll(async () => {
    // V8 grows its heap lazily under heavy allocation, so an uncapped RSS mostly shows garbage not yet
    // collected. A capped heap makes RSS track what is retained. A gateway that buffered for the
    // paused client would hold ~100 MB in Buffers outside the V8 heap (not capped by these flags) or
    // exhaust the heap and crash: either fails this test.
    server = await startServe(['--agent-module', `${ROOT}test/fixtures/flood-agents.mjs`], {
      nodeArgs: ['--max-old-space-size=48', '--max-semi-space-size=2'],
    });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('keeps memory bounded with a paused client while a reading client on the same run gets all ~100 MB', async () => {
    const pid = server.child.pid as number;
    const baseline = rssOf(pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssOf(pid));
    }, 20);
    const reader = await openSse(`${server.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ agent: 'flood', input: { events: EVENTS, size: SIZE } }),
    });
    const runId = reader.response.headers.get('x-agentwire-run-id') as string;
    // The paused client: sends its request, then never reads a byte.
    const { port, hostname } = new URL(server.url);
    const paused = connect(Number(port), hostname);
    paused.pause();
    paused.write(`GET /api/runs/${runId}/events HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`);
    let expected = 1;
    let bytes = 0;
    for await (const message of reader.messages) {
      const event = JSON.parse(message.data) as { seq: number; type: string; value?: string };
      expect(event.seq).toBe(expected++);
      if (typeof event.value === "string") bytes += event.value.length;
    }
    clearInterval(sampler);
    peak = Math.max(peak, rssOf(pid));
    expect(expected - 1).toBe(EVENTS + 2);
    expect(bytes).toBe(EVENTS * SIZE);
    const growth = peak - baseline;
    console.log(`backpressure: gateway RSS ${Math.round(baseline / 2 ** 20)} MiB → peak ${Math.round(peak / 2 ** 20)} MiB (growth ${Math.round(growth / 2 ** 20)} MiB) for ${Math.round((EVENTS * SIZE) / 2 ** 20)} MiB streamed`);
    expect(growth).toBeLessThan(64 * 2 ** 20);
    paused.destroy();
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
  }, 180_000);

  it('pauses the agent while its only client stops reading, and resumes it when the client reads again', async () => {
    const { port, hostname } = new URL(server.url);
    const client = connect(Number(port), hostname);
    client.pause();
    // 100,000 events of 16 KiB, one per ~2 ms: unpaused, the log would grow by ~500 events a second.
    const body = JSON.stringify({ agent: 'flood', input: { events: 100_000, size: 16 * 1024 } });
    client.write(
      `POST /api/runs HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    try {
      const runId = await waitFor(async () => {
        const { runs } = (await (await fetch(`${server.url}/api/runs`)).json()) as { runs: { id: string; status: string }[] };
        return runs.find((run) => run.status === 'running')?.id;
      }, 'the run to start');
      const state = async () => (await (await fetch(`${server.url}/api/runs/${runId}`)).json()) as { lastSeq: number; status: string };
      // The socket buffers fill, then the log stops growing: the same lastSeq for 500 ms running.
      let last = -1;
      let since = performance.now();
      await waitFor(
        async () => {
          const { lastSeq } = await state();
          if (lastSeq !== last) {
            last = lastSeq;
            since = performance.now();
          }
          return performance.now() - since >= 500;
        },
        'the run to pause',
        30_000,
        50,
      );
      const pausedAt = await state();
      expect(pausedAt.status).toBe('running');
      expect(pausedAt.lastSeq).toBeLessThan(5_000); // a few MB of socket buffers, not the run
      client.resume(); // reads (and discards) again: the agent goes on
      await waitFor(async () => (await state()).lastSeq > pausedAt.lastSeq + 100, 'the run to resume', 30_000, 50);
      await fetch(`${server.url}/api/runs/${runId}/cancel`, { method: 'POST' });
    } finally {
      client.destroy();
    }
  }, 90_000);
});

describe('stalled readers are dropped after the stall timeout', () => {
  const STALL_MS = 600;
  /** Per run (keyed by its input's key): what its agent produced, and whether its finally ran. */
  const lifecycle = new Map<string, { produced: number; aborted: boolean; finallyRan: boolean }>();
  /** `input.events` data events of 64 KiB, a few per millisecond: a client that stops reading fills its buffers in well under a second. */
  const chunks: AgentFunction = async function* (ctx) {
    const { key, events } = ctx.input as { key: string; events: number };
    const entry = { produced: 0, aborted: false, finallyRan: false };
    lifecycle.set(key, entry);
    ctx.signal.addEventListener('abort', () => {
      entry.aborted = true;
    });
    const payload = 'x'.repeat(64 * 1024);
    try {
      for (let index = 0; index < events; index++) {
        if (index % 8 === 0) await ctx.sleep(1);
        entry.produced++;
        yield ctx.data('chunk', payload);
      }
    } finally {
      entry.finallyRan = true;
    }
  };
  const servers: TestServer[] = [];
  const sockets: (Socket | WebSocket)[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) (socket instanceof WebSocket ? socket.terminate() : socket.destroy());
    for (const server of servers.splice(0)) await server.close();
  });
  const start = async (adapter: (typeof ADAPTERS)[number][1], graceMs: number) => {
    const server = await adapter({ agents: { chunks }, heartbeatMs: 200, stallTimeoutMs: STALL_MS, graceMs, onAgentError: () => {} });
    servers.push(server);
    return server;
  };
  /** A raw TCP client that sends its request and then never reads a byte. */
  const stalledClient = (url: string, request: string) => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    socket.pause();
    socket.on('error', () => {});
    socket.write(request);
    sockets.push(socket);
    return socket;
  };
  const startAndStream = (body: unknown) => {
    const text = JSON.stringify(body);
    return `POST /api/runs HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
  };
  const dropped = async (url: string, transport: string) => metric(await scrape(url), 'agentwire_subscribers_dropped_total', `reason="stalled",transport="${transport}"`);
  const runOf = async (url: string) => {
    const { runs } = (await (await fetch(`${url}/api/runs`)).json()) as { runs: { id: string; status: string }[] };
    return runs[0]?.id;
  };

  it.each([[0], [-1], [Number.NaN], ['45s']])('stallTimeoutMs %s is refused with AW_INVALID_OPTION naming the option', (stallTimeoutMs) => {
    let error: unknown;
    try {
      createGateway({ agents: { chunks }, stallTimeoutMs: stallTimeoutMs as number });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'AW_INVALID_OPTION' });
    expect((error as Error).message).toMatch(/stallTimeoutMs/);
  });

  it.each(ADAPTERS)('%s: the only subscriber stops reading; it is dropped after the timeout (counted), then the grace period cancels the paused run', async (_name, adapter) => {
    const server = await start(adapter, 300);
    const key = `cancel-${_name}`;
    const sentAt = performance.now();
    stalledClient(server.url, startAndStream({ agent: 'chunks', input: { key, events: 1_000_000 } }));
    const runId = await waitFor(() => runOf(server.url), 'the run to start');
    // Paused for the reader meanwhile: the run's log stops growing long before a million events.
    await waitFor(async () => (await dropped(server.url, 'sse')) === 1, 'the stalled subscriber to be dropped', 10_000, 20);
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(STALL_MS);
    const entry = await waitFor(() => (lifecycle.get(key)?.finallyRan ? lifecycle.get(key) : undefined), "the agent's finally after the grace period");
    expect(entry.aborted).toBe(true);
    expect(entry.produced).toBeLessThan(1_000_000);
    const state = (await (await fetch(`${server.url}/api/runs/${runId}`)).json()) as RunState;
    expect(state.status).toBe('cancelled');
    expect(state.cancelReason).toMatch(/grace/);
    const text = await scrape(server.url);
    expect(metric(text, 'agentwire_streams_open', 'transport="sse",format="agentwire"')).toBe(0);
    expect(metric(text, 'agentwire_producers_aborted_total', 'reason="disconnect"')).toBe(1);
  });

  it('the run resumes for a client that comes back within the grace period after the drop, and it gets every event', async () => {
    const server = await start(startNodeServer, 10_000);
    const key = 'resume';
    const events = 400; // 25 MiB: far more than the stalled client's buffers hold
    stalledClient(server.url, startAndStream({ agent: 'chunks', input: { key, events } }));
    const runId = (await waitFor(() => runOf(server.url), 'the run to start')) as string;
    await waitFor(async () => (await dropped(server.url, 'sse')) === 1, 'the stalled subscriber to be dropped', 10_000, 20);
    expect(lifecycle.get(key)?.produced).toBeLessThan(events);
    const { events: all } = await collectEvents(`${server.url}/api/runs/${runId}/events`);
    expect(seqs(all)).toEqual(range(1, events + 2));
    expect((all.at(-1) as AgentEvent).type).toBe('run.finished');
  });

  it('WebSocket: a socket that stops reading is dropped after the timeout (counted), at the ping before the one that would have found it silent', async () => {
    // Pings every 1,000 ms: unanswered, one would drop the socket at the second, after ~2 s.
    const listening = await listen(createGateway({ agents: { chunks }, heartbeatMs: 1_000, stallTimeoutMs: STALL_MS, graceMs: 300, onAgentError: () => {} }), { port: 0 });
    const server = { url: listening.url, close: () => listening.close() } as TestServer;
    servers.push(server);
    const key = 'ws';
    const runId = await (async () => {
      const response = await fetch(`${server.url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'chunks', input: { key, events: 1_000_000 } }) });
      return ((await response.json()) as { id: string }).id;
    })();
    const client = new WebSocket(`${server.url.replace('http', 'ws')}/api/ws`);
    sockets.push(client);
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
    client.send(JSON.stringify({ type: 'subscribe', runId, after: 0 }));
    // The client stops reading: its socket is never read again (pongs included).
    (client as unknown as { _socket: Socket })._socket.pause();
    const sentAt = performance.now();
    await waitFor(async () => (await dropped(server.url, 'ws')) === 1, 'the stalled socket to be dropped', 10_000, 20);
    const droppedAfter = performance.now() - sentAt;
    expect(droppedAfter).toBeGreaterThanOrEqual(STALL_MS - 50);
    expect(droppedAfter).toBeLessThan(2_000);
    await waitFor(() => lifecycle.get(key)?.finallyRan, "the agent's finally after the grace period");
    expect(metric(await scrape(server.url), 'agentwire_streams_open', 'transport="ws",format="agentwire"')).toBe(0);
  });
});
