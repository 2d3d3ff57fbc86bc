import { describe, expect, it } from 'vitest';
import { reduceAll } from '../../reducer/reduce.js';
import { MemoryStore } from '../../store/memory-store.js';
import { toStoredEvent } from '../../store/store.js';
import type { StreamSink } from '../http-types.js';
import { createSseStream } from './sse.js';

/** A sink that records its chunks and never fills up. */
function recordingSink(): StreamSink & { chunks: (string | Uint8Array)[]; text(): string; close(): void; closed: boolean } {
  const chunks: (string | Uint8Array)[] = [];
  const utf8 = new TextDecoder();
  let onClose: (() => void) | undefined;
  return {
    chunks,
    closed: false,
    onClose(callback) {
      onClose = callback;
      if (this.closed) callback?.();
    },
    /** As the adapter does when the client goes away. */
    close() {
      this.closed = true;
      onClose?.();
    },
    write: (chunk) => chunks.push(chunk) > 0,
    end: (chunk) => void chunks.push(chunk),
    ready: async () => {},
    destroy: () => {},
    text: () => chunks.map((chunk) => (typeof chunk === 'string' ? chunk : utf8.decode(chunk))).join(''),
  };
}

describe('SSE fan-out', () => {
  it('writes the same bytes to every caught-up subscriber of a run but the first', async () => {
    const store = new MemoryStore();
    const runId = 'run_fan';
    await store.createRun({ id: runId, agent: 'test', owner: undefined, createdAt: 0, status: 'running', endedAt: undefined, lastSeq: 0 });
    await store.append(runId, [toStoredEvent({ type: 'run.started', runId, agent: 'test', input: null, seq: 1, at: 0 })]);
    const sinks = Array.from({ length: 3 }, recordingSink);
    const pumps = sinks.map((sink) =>
      createSseStream({ store, runId, after: 0, heartbeatMs: 60_000, stallTimeoutMs: 60_000, retryMs: 1000 }).pump(sink),
    );
    // Each has caught up (retry, run.started) before the live events are appended.
    await expect.poll(() => sinks.every((sink) => sink.text().includes('run.started'))).toBe(true);
    await store.append(runId, [
      toStoredEvent({ type: 'text.delta', text: 'Paris', seq: 2, at: 0 }),
      toStoredEvent({ type: 'run.finished', seq: 3, at: 0 }),
    ]);
    await Promise.all(pumps);
    // The first subscriber woken frames the batch; the others write the bytes encoded once.
    const live = sinks.map((sink) => sink.chunks[sink.chunks.length - 1]);
    expect(typeof live[0]).toBe('string');
    expect(live[1]).toBeInstanceOf(Uint8Array);
    expect(live[2]).toBe(live[1]);
    for (const sink of sinks) expect(sink.text()).toMatch(/^retry: 1000\n\nid: 1\nevent: run.started\n.*\n\nid: 2\nevent: text.delta\n.*\n\nid: 3\nevent: run.finished\n.*\n\n$/s);
    await store.close();
  });
});

describe('SSE writes of a batch larger than a chunk', () => {
  it('counts each snapshot once when the client fills up mid-batch', async () => {
    const store = new MemoryStore();
    const runId = 'run_big';
    await store.createRun({ id: runId, agent: 'test', owner: undefined, createdAt: 0, status: 'running', endedAt: undefined, lastSeq: 0 });
    // One event over a chunk (and over what is shared), so the batch is cut after it, then a snapshot.
    const started = { type: 'run.started', runId, agent: 'test', input: null, seq: 1, at: 0 } as const;
    await store.append(runId, [
      toStoredEvent(started),
      toStoredEvent({ type: 'text.delta', text: 'x'.repeat(70 * 1024), seq: 2, at: 0 }),
      toStoredEvent({ type: 'run.snapshot', state: reduceAll([started]), seq: 3, at: 0 }),
      toStoredEvent({ type: 'run.finished', seq: 4, at: 0 }),
    ]);
    const sink = recordingSink();
    let full = 0;
    // Full after every chunk but the `retry:` line: each cut waits for `ready`.
    sink.write = (chunk) => (sink.chunks.push(chunk), sink.chunks.length === 1 || ++full > 5);
    let snapshots = 0;
    let waits = 0;
    const observer = { opened() {}, closed() {}, wrote() {}, dropped() {}, waited: () => void waits++, snapshot: () => void snapshots++ };
    await createSseStream({ store, runId, after: 0, heartbeatMs: 60_000, stallTimeoutMs: 60_000, retryMs: 1000, observer }).pump(sink);
    expect(waits).toBeGreaterThan(0);
    expect(snapshots).toBe(1);
    expect(sink.text()).toMatch(/id: 2\nevent: text.delta\n.*\n\nid: 3\nevent: run.snapshot\n.*\n\nid: 4\nevent: run.finished\n.*\n\n$/s);
    await store.close();
  });
});

describe('SSE stream stops', () => {
  it('when its client goes away or the gateway shuts down, during the follow or before it starts', async () => {
    const store = new MemoryStore();
    const runId = 'run_stop';
    await store.createRun({ id: runId, agent: 'test', owner: undefined, createdAt: 0, status: 'running', endedAt: undefined, lastSeq: 0 });
    await store.append(runId, [toStoredEvent({ type: 'run.started', runId, agent: 'test', input: null, seq: 1, at: 0 })]);
    const stream = (shutdownSignal?: AbortSignal) => createSseStream({ store, runId, after: 0, heartbeatMs: 60_000, stallTimeoutMs: 60_000, retryMs: 1000, shutdownSignal });
    // The run never ends: each pump below returns only because it was stopped.
    const leaving = recordingSink();
    const left = stream().pump(leaving);
    await expect.poll(() => leaving.text()).toContain('run.started');
    leaving.close();
    await left;
    const gone = recordingSink();
    gone.close();
    await stream().pump(gone);
    const shutdown = new AbortController();
    const live = recordingSink();
    const shut = stream(shutdown.signal).pump(live);
    await expect.poll(() => live.text()).toContain('run.started');
    shutdown.abort();
    await shut;
    // A shutdown signal aborted already stops a stream that starts after it.
    await stream(shutdown.signal).pump(recordingSink());
    await store.close();
  });
});
