/**
 * A client that stops reading must cost the gateway bounded memory whatever the run produces,
 * while a reading client on the same run gets every event. The gateway runs in its own process
 * (the built CLI) so its RSS is measured alone.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeProcess, ROOT, rssOf, startServe } from './helpers/process.js';
import { openSse } from './helpers/sse-client.js';
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
