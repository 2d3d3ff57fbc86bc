import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { AgentEvent, EventBody, RunSnapshotEvent } from '../protocol/events.js';
import { isAgentwireError } from '../protocol/errors.js';
import { reduceAll } from '../reducer/reduce.js';
import { RunFold } from '../reducer/run-fold.js';
import { initialRunState, type RunState } from '../protocol/run-state.js';
import { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
import { stateLimits } from './state-limits.js';
import { runStoreContract } from './store-contract.js';
import { type RunRecord, type StoredEvent, toStoredEvent } from './store.js';
import { closingMemoryStores } from '../../test/helpers/memory-stores.js';

runStoreContract('MemoryStore', () => new MemoryStore());

const createStore = closingMemoryStores();

function record(id: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return { id, agent: 'test', owner: undefined, createdAt: Date.now(), status: 'running', endedAt: undefined, lastSeq: 0, ...overrides };
}

function stamp(seq: number, body: EventBody): StoredEvent {
  return toStoredEvent({ ...body, seq, at: 1_700_000_000_000 + seq } as AgentEvent);
}

/**
 * A realistic run log of `count` events: a finished step with logs, answer text, a tool call,
 * a step left open for a while, and (when `terminal`) `run.finished` last.
 */
function realisticRun(runId: string, count: number, terminal: boolean): StoredEvent[] {
  const bodies: EventBody[] = [
    { type: 'run.started', runId, agent: 'test', input: 'question' },
    { type: 'step.started', stepId: 's1', title: 'Plan', kind: 'thought' },
    { type: 'step.log', stepId: 's1', text: 'reading the question' },
    { type: 'step.finished', stepId: 's1', status: 'complete' },
    { type: 'step.started', stepId: 's2', title: 'Search' },
    { type: 'tool.call', callId: 'c1', stepId: 's2', name: 'web', args: { q: 'x' } },
    { type: 'tool.result', callId: 'c1', result: ['hit'] },
    { type: 'status', message: 'writing' },
  ];
  let index = 0;
  while (bodies.length < count - (terminal ? 2 : 0)) {
    index++;
    bodies.push(index % 5 === 0 ? { type: 'step.log', stepId: 's2', text: `log ${index}` } : { type: 'text.delta', text: `w${index} ` });
  }
  if (terminal) {
    bodies.push({ type: 'step.finished', stepId: 's2', status: 'complete' });
    bodies.push({ type: 'run.finished', output: 'answer' });
  }
  return bodies.slice(0, count).map((body, offset) => stamp(offset + 1, body));
}

/** The fields of a RunState that a late joiner's view is built from. */
function visible(state: RunState) {
  return { text: state.text, steps: state.steps, status: state.status, toolCalls: state.toolCalls, lastSeq: state.lastSeq };
}

async function followAll(store: MemoryStore, runId: string, after: number): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const batch of store.follow(runId, after)) events.push(...batch);
  return events;
}

/** The state the store folds these events into, within the limits of its byte bound. */
function boundedState(events: AgentEvent[], maxBytesPerRun = 16 * 1024 * 1024): RunState {
  const fold = new RunFold(initialRunState(), stateLimits(maxBytesPerRun));
  // As the store folds: each part's size estimated from the event's JSON.
  for (const event of events) fold.add(event, JSON.stringify(event).length);
  return fold.state;
}

/** JSON length of what a reader gets, the snapshot included. */
function jsonLength(events: StoredEvent[]): number {
  return events.reduce((sum, event) => sum + event.json.length, 0);
}

/**
 * Checks what a reader whose cursor is before the evicted range gets: one `run.snapshot` standing
 * for every evicted event (folded within the store's limits), then the retained events from
 * `snapshot.seq + 1` to the end with no gap.
 */
function expectSnapshotThenTail(read: StoredEvent[], all: StoredEvent[], maxBytesPerRun?: number): number {
  const [first, ...rest] = read;
  expect(first?.type).toBe('run.snapshot');
  const snapshot = (first as StoredEvent).event as RunSnapshotEvent & { seq: number };
  expect(snapshot.seq).toBeGreaterThan(0);
  const evicted = all.filter((event) => event.seq <= snapshot.seq).map((event) => event.event);
  expect(snapshot.state).toEqual(boundedState(evicted, maxBytesPerRun));
  expect(rest.map((event) => event.seq)).toEqual(all.filter((event) => event.seq > snapshot.seq).map((event) => event.seq));
  expect(rest.map((event) => event.event)).toEqual(all.filter((event) => event.seq > snapshot.seq).map((event) => event.event));
  return snapshot.seq;
}

describe('MemoryStore eviction', () => {
  it('maxEventsPerRun bounds the retained log, and a reader from 0 gets a snapshot of the evicted events then the tail without gap', async () => {
    const store = createStore({ maxEventsPerRun: 10 });
    await store.createRun(record('run_events'));
    const all = realisticRun('run_events', 60, true);
    // One at a time, as the runner appends.
    for (const event of all) await store.append('run_events', [event]);

    const read = await store.read('run_events', 0);
    const snapshotSeq = expectSnapshotThenTail(read, all);
    expect(read.length - 1).toBeLessThanOrEqual(10);
    expect(snapshotSeq).toBe(60 - (read.length - 1));
    // The evicted range holds a finished step, a running step and a tool call: all survive in the snapshot.
    const snapshot = (read[0] as StoredEvent).event as RunSnapshotEvent;
    expect(snapshot.state.steps.s1?.status).toBe('complete');
    expect(snapshot.state.steps.s2?.status).toBe('running');
    expect(snapshot.state.text.length).toBeGreaterThan(0);
    expect(snapshot.state.status).toBe('running');

    // Any cursor inside the evicted range gets the same snapshot; a cursor at its end gets only the tail.
    expectSnapshotThenTail(await store.read('run_events', snapshotSeq - 1), all);
    expect((await store.read('run_events', snapshotSeq)).map((event) => event.seq)).toEqual(
      all.filter((event) => event.seq > snapshotSeq).map((event) => event.seq),
    );
    // follow from 0 gives the same: snapshot, then the tail, then it ends.
    expectSnapshotThenTail(await followAll(store, 'run_events', 0), all);
    // The metadata still knows every event.
    expect(await store.getRun('run_events')).toMatchObject({ lastSeq: 60, status: 'finished' });
  });

  it('a batch larger than maxEventsPerRun is still bounded after one append', async () => {
    const store = createStore({ maxEventsPerRun: 7 });
    await store.createRun(record('run_batch'));
    const all = realisticRun('run_batch', 100, false);
    await store.append('run_batch', all);
    const read = await store.read('run_batch', 0);
    expect(read.length - 1).toBeLessThanOrEqual(7);
    expectSnapshotThenTail(read, all);
  });

  it('maxBytesPerRun bounds the retained JSON, the snapshot included, and a late reader gets a snapshot then the tail without gap', async () => {
    const maxBytesPerRun = 4000;
    const store = createStore({ maxBytesPerRun });
    await store.createRun(record('run_bytes'));
    const all = realisticRun('run_bytes', 400, true);
    for (const event of all) await store.append('run_bytes', [event]);

    const read = await store.read('run_bytes', 0);
    expectSnapshotThenTail(read, all, maxBytesPerRun);
    // What a replay from 0 sends, snapshot and all, is within the bound.
    expect(jsonLength(read)).toBeLessThanOrEqual(maxBytesPerRun);
    expect(store.retainedBytes).toBe(jsonLength(read));
    // Not over-evicted: a useful tail is kept (how the store counts an event's bytes is its own business,
    // within a small factor of the JSON's length).
    expect(jsonLength(read.slice(1))).toBeGreaterThanOrEqual(maxBytesPerRun / 4);
    expect(read.length - 1).toBeLessThan(all.length);
  });

  it('one event bigger than maxBytesPerRun is kept (the log never loses its newest event)', async () => {
    const store = createStore({ maxBytesPerRun: 100 });
    await store.createRun(record('run_big'));
    const all = [
      stamp(1, { type: 'run.started', runId: 'run_big', agent: 'test', input: null }),
      stamp(2, { type: 'text.delta', text: 'x'.repeat(500) }),
    ];
    for (const event of all) await store.append('run_big', [event]);
    const read = await store.read('run_big', 0);
    expect(read.map((event) => event.type)).toEqual(['run.snapshot', 'text.delta']);
    expect(read[1]?.seq).toBe(2);
  });

  it('a follower that falls behind the evicted range while live resumes from a snapshot, without gap or duplicate', async () => {
    const store = createStore({ maxEventsPerRun: 10 });
    await store.createRun(record('run_slow'));
    const all = realisticRun('run_slow', 80, true);
    await store.append('run_slow', all.slice(0, 5));

    const iterator = store.follow('run_slow', 0)[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    const received: StoredEvent[] = [...(first.value as StoredEvent[])];
    expect(received.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5]);

    // While the follower is not pulling, the producer runs far past the retained window.
    for (const event of all.slice(5)) await store.append('run_slow', [event]);

    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      received.push(...next.value);
    }
    expect(received[5]?.type).toBe('run.snapshot');
    const snapshot = (received[5] as StoredEvent).event as RunSnapshotEvent & { seq: number };
    expect(snapshot.seq).toBeGreaterThan(5);
    expect(visible(snapshot.state)).toEqual(visible(reduceAll(all.slice(0, snapshot.seq).map((event) => event.event))));
    expect(received.slice(6).map((event) => event.seq)).toEqual(all.filter((event) => event.seq > snapshot.seq).map((event) => event.seq));
    expect(received.at(-1)?.type).toBe('run.finished');
  });

  it('a long run reads back exactly, across its packed and recent events, in byte-bounded batches', async () => {
    const store = createStore();
    await store.createRun(record('run_long'));
    const all = realisticRun('run_long', 3000, true);
    for (const event of all) await store.append('run_long', [event]);

    const read = await store.read('run_long', 0);
    expect(read.map((event) => event.seq)).toEqual(all.map((event) => event.seq));
    expect(read.map((event) => event.json)).toEqual(all.map((event) => event.json));
    expect(read.map((event) => event.event)).toEqual(all.map((event) => event.event));
    expect(read.map((event) => event.type)).toEqual(all.map((event) => event.type));

    // Small byte-bounded batches cut anywhere, including where packed events meet recent ones.
    const batches: StoredEvent[][] = [];
    for await (const batch of store.follow('run_long', 1234, { maxBatchBytes: 700 })) batches.push(batch);
    expect(batches.flat().map((event) => event.seq)).toEqual(all.slice(1234).map((event) => event.seq));
    for (const batch of batches) {
      expect(batch.length).toBeGreaterThan(0);
      if (batch.length > 1) expect(batch.reduce((sum, event) => sum + event.json.length, 0)).toBeLessThanOrEqual(700);
    }
  });

  it('openAppender appends one event at a time to its run, with the checks of append', async () => {
    const store = createStore();
    await store.createRun(record('run_appender'));
    expect(() => store.openAppender('run_missing')).toThrow(/not found/);
    const append = store.openAppender('run_appender');
    const all = realisticRun('run_appender', 12, true);
    for (const event of all.slice(0, 11)) append(event);
    expect(() => append(all[0] as StoredEvent)).toThrow(/expected seq 12, got 1/);
    append(all[11] as StoredEvent);
    expect(() => append(stamp(13, { type: 'status', message: 'late' }))).toThrow(/already ended/);
    expect((await store.read('run_appender', 0)).map((event) => event.json)).toEqual(all.map((event) => event.json));
    expect((await store.getRun('run_appender'))?.status).toBe('finished');
  });

  it('a finished run is kept packed and reads back exactly, live followers included', async () => {
    const store = createStore();
    await store.createRun(record('run_done'));
    const all = realisticRun('run_done', 60, true);
    for (const event of all.slice(0, 30)) await store.append('run_done', [event]);
    // A follower that is up to date when the run ends still gets the tail and the terminal event.
    const following = (async () => {
      const seen: StoredEvent[] = [];
      for await (const batch of store.follow('run_done', 30)) seen.push(...batch);
      return seen;
    })();
    await new Promise((resolve) => setImmediate(resolve));
    await store.append('run_done', all.slice(30));
    expect((await following).map((event) => event.json)).toEqual(all.slice(30).map((event) => event.json));
    const read = await store.read('run_done', 0);
    expect(read.map((event) => event.json)).toEqual(all.map((event) => event.json));
    expect(read.map((event) => event.event)).toEqual(all.map((event) => event.event));
    // Packed events are unpacked afresh by every read; recent ones are the same objects each time.
    const again = await store.read('run_done', 0);
    expect(read.filter((event, index) => event === again[index])).toEqual([]);
  });

  it('keeps each event as its JSON: the appended object itself (no copy) without its event object, which is parsed back equal', async () => {
    const store = createStore();
    await store.createRun(record('run_json'));
    const all = realisticRun('run_json', 12, false);
    const objects = all.map((stored) => stored.event);
    const append = store.openAppender('run_json');
    for (const event of all) append(event);
    const read = await store.read('run_json', 0);
    read.forEach((event, index) => {
      expect(event).toBe(all[index]);
      expect(event.event).not.toBe(objects[index]);
      expect(event.event).toEqual(objects[index]);
    });
    // Still running, so not packed: the same objects on every read (and parsed once).
    const again = await store.read('run_json', 0);
    read.forEach((event, index) => {
      expect(again[index]).toBe(event);
      expect(again[index]?.event).toBe(event.event);
    });
  });

  it('keeps a stored event built by hand (a plain object) as its JSON too', async () => {
    const store = createStore();
    await store.createRun(record('run_plain'));
    const event = { type: 'status', seq: 1, at: 1, message: 'hi' } as AgentEvent;
    const plain: StoredEvent = { seq: 1, type: 'status', event, json: JSON.stringify(event) };
    await store.append('run_plain', [plain]);
    const [read] = await store.read('run_plain', 0);
    expect(read).not.toBe(plain);
    expect(read?.event).not.toBe(event);
    expect(read?.event).toEqual(event);
    expect(read?.json).toBe(plain.json);
  });

  it('large events are packed by size too, and read back exactly', async () => {
    const store = createStore();
    await store.createRun(record('run_large'));
    const all = Array.from({ length: 40 }, (_, index) => stamp(index + 1, { type: 'text.delta', text: `${index}`.padEnd(100_000, 'é') }));
    for (const event of all) await store.append('run_large', [event]);
    const read = await store.read('run_large', 0);
    expect(read.map((event) => event.json)).toEqual(all.map((event) => event.json));
    // The oldest are packed: unpacked afresh by every read, unlike the recent ones.
    const again = await store.read('run_large', 0);
    expect(read.slice(0, 30).filter((event, index) => event === again[index])).toEqual([]);
    expect(read.at(-1)).toBe(again.at(-1));
  });

  it('a large bound evicts in chunks at checkpoints, and the snapshot still stands for exactly what it replaced', async () => {
    const store = createStore({ maxEventsPerRun: 2048 });
    await store.createRun(record('run_chunks'));
    const all = realisticRun('run_chunks', 10_000, false);
    for (const event of all) await store.append('run_chunks', [event]);
    const read = await store.read('run_chunks', 0);
    expectSnapshotThenTail(read, all);
    expect(read.length - 1).toBeLessThanOrEqual(2048);
    // Chunks are 1/16 of the bound: the log is not over-evicted.
    expect(read.length - 1).toBeGreaterThanOrEqual(2048 - 3 * (2048 >> 4));
  });

  it('for any bounds, batch sizes and event sizes, every append leaves a tail within the bounds, ending at the newest event, after a snapshot of exactly what was evicted', async () => {
    const body = (index: number, big: boolean): EventBody => {
      const padding = big ? 'y'.repeat((index * 37) % 300) : '';
      switch (index % 5) {
        case 0:
          return { type: 'step.started', stepId: `s${index}`, title: 't' };
        case 1:
          return { type: 'data', name: `d${index % 3}`, value: index };
        case 2:
          return { type: 'step.log', stepId: `s${index - 2}`, text: `x${padding}` };
        default:
          return { type: 'text.delta', text: `w${index}${padding}` };
      }
    };
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          maxEventsPerRun: fc.integer({ min: 1, max: 300 }),
          maxBytesPerRun: fc.integer({ min: 200, max: 20_000 }),
          count: fc.integer({ min: 1, max: 400 }),
          // A run may start after events logged elsewhere (its record's lastSeq).
          base: fc.integer({ min: 0, max: 5 }),
          batches: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 30 }),
          big: fc.boolean(),
          terminal: fc.boolean(),
        }),
        async ({ maxEventsPerRun, maxBytesPerRun, count, base, batches, big, terminal }) => {
          const store = createStore({ maxEventsPerRun, maxBytesPerRun });
          await store.createRun(record('run_any', { lastSeq: base }));
          const bodies: EventBody[] = [{ type: 'run.started', runId: 'run_any', agent: 'test', input: 'q' }];
          for (let index = 1; index < count; index++) bodies.push(body(index, big));
          if (terminal) bodies.push({ type: 'run.finished' });
          const all = bodies.map((each, index) => stamp(base + 1 + index, each));
          for (let start = 0, batch = 0; start < all.length; batch++) {
            const size = batches[batch % batches.length] as number;
            await store.append('run_any', all.slice(start, start + size));
            start += size;
            const read = await store.read('run_any', 0);
            const tail = read[0]?.type === 'run.snapshot' ? read.slice(1) : read;
            // Over a bound only when one event alone is (the newest is always kept).
            if (tail.length > 1) {
              expect(tail.length).toBeLessThanOrEqual(maxEventsPerRun);
              // The snapshot counts toward the bytes: a replay from 0 sends at most the bound, unless
              // the snapshot alone nears it (then the tail keeps 1/16 of the bound).
              const snapshotLength = read[0]?.type === 'run.snapshot' ? read[0].json.length : 0;
              const chunk = maxBytesPerRun >> 4;
              expect(jsonLength(read)).toBeLessThanOrEqual(Math.max(maxBytesPerRun, snapshotLength + chunk + Math.max(...tail.map((event) => event.json.length))));
            }
            expect(tail.at(-1)?.seq).toBe(all[Math.min(start, all.length) - 1]?.seq);
          }
          const read = await store.read('run_any', 0);
          const [first] = read;
          if (first?.type === 'run.snapshot') {
            expectSnapshotThenTail(read, all, maxBytesPerRun);
          } else {
            expect(read.map((event) => event.json)).toEqual(all.map((event) => event.json));
          }
          await store.close();
        },
      ),
      { numRuns: 150 },
    );
  });

  it('maxRuns drops the oldest finished run, never a running one', async () => {
    const store = createStore({ maxRuns: 2 });
    await store.createRun(record('run_a'));
    await store.createRun(record('run_b'));
    await store.append('run_b', [
      stamp(1, { type: 'run.started', runId: 'run_b', agent: 'test', input: null }),
      stamp(2, { type: 'run.finished' }),
    ]);
    await store.createRun(record('run_c'));
    expect(await store.getRun('run_b')).toBeUndefined();
    expect(await store.getRun('run_a')).toBeDefined();
    expect(await store.getRun('run_c')).toBeDefined();
    expect(store.size).toBe(2);
    // With nothing finished to drop, running runs are kept even over the bound.
    await store.createRun(record('run_d'));
    expect(store.size).toBe(3);
  });
});

describe('MemoryStore retention', () => {
  it('a finished run disappears after retentionMs, while a running run stays', async () => {
    const store = createStore({ retentionMs: 30 });
    await store.createRun(record('run_done'));
    await store.createRun(record('run_live'));
    await store.append('run_live', [stamp(1, { type: 'run.started', runId: 'run_live', agent: 'test', input: null })]);
    await store.append('run_done', [
      toStoredEvent({ type: 'run.started', runId: 'run_done', agent: 'test', input: null, seq: 1, at: Date.now() }),
      toStoredEvent({ type: 'run.finished', seq: 2, at: Date.now() }),
    ]);
    // Readable right after it ends, so a client that reconnects a moment later still finds it.
    expect(await store.getRun('run_done')).toMatchObject({ status: 'finished' });

    await vi.waitFor(
      async () => {
        expect(await store.getRun('run_done')).toBeUndefined();
      },
      { timeout: 3000, interval: 10 },
    );
    expect(await store.read('run_done', 0)).toEqual([]);
    expect((await store.listRuns()).map((run) => run.id)).toEqual(['run_live']);
    expect(await store.getRun('run_live')).toMatchObject({ status: 'running' });
  });
});

describe('MemoryStore options', () => {
  it.each([
    ['maxEventsPerRun', 0],
    ['maxEventsPerRun', -5],
    ['maxBytesPerRun', Number.NaN],
    ['maxBytesPerRun', Number.POSITIVE_INFINITY],
    ['retentionMs', 0],
    ['maxRuns', 'many'],
  ] as const)('an invalid %s (%s) throws AW_INVALID_OPTION naming the option instead of misbehaving later', (option, value) => {
    let thrown: unknown;
    try {
      createStore({ [option]: value } as unknown as MemoryStoreOptions);
    } catch (error) {
      thrown = error;
    }
    expect(isAgentwireError(thrown)).toBe(true);
    expect(thrown).toMatchObject({ code: 'AW_INVALID_OPTION' });
    expect((thrown as Error).message).toContain(option);
  });

  it('undefined options fall back to the defaults instead of failing validation', () => {
    expect(() => createStore({ maxEventsPerRun: undefined, retentionMs: undefined })).not.toThrow();
  });
});

describe('MemoryStore.close', () => {
  it('ends every follow that is waiting for appends, so nothing hangs after shutdown', async () => {
    const store = new MemoryStore();
    await store.createRun({ id: 'run_close', agent: 'a', owner: undefined, createdAt: Date.now(), status: 'running', endedAt: undefined, lastSeq: 0 });
    await store.append('run_close', [toStoredEvent({ type: 'run.started', runId: 'run_close', agent: 'a', input: null, seq: 1, at: Date.now() })]);
    const seen: number[] = [];
    const following = (async () => {
      for await (const batch of store.follow('run_close', 0)) seen.push(...batch.map((event) => event.seq));
    })();
    await vi.waitFor(() => expect(seen).toEqual([1]));
    await store.close();
    await expect(Promise.race([following.then(() => 'ended'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 2_000))])).resolves.toBe('ended');
  });
});
