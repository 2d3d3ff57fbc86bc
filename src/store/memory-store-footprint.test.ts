/**
 * MemoryStore's footprint: the state it folds (and serves without reading the log), the snapshot
 * that counts toward a run's byte bound, and the budget of all retained runs.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AgentEvent, EventBody, RunSnapshotEvent } from '../protocol/events.js';
import { isAgentwireError } from '../protocol/errors.js';
import { reduceAll } from '../reducer/reduce.js';
import { MemoryStore } from './memory-store.js';
import { type RunRecord, type StoredEvent, toStoredEvent } from './store.js';
import { closingMemoryStores } from '../../test/helpers/memory-stores.js';
import { bestTime } from '../../test/helpers/timing.js';

const createStore = closingMemoryStores();

afterEach(() => {
  vi.restoreAllMocks();
});

function record(id: string): RunRecord {
  return { id, agent: 'test', owner: undefined, createdAt: Date.now(), status: 'running', endedAt: undefined, lastSeq: 0 };
}

function stamp(seq: number, body: EventBody): StoredEvent {
  return toStoredEvent({ ...body, seq, at: 1_700_000_000_000 + seq } as AgentEvent);
}

function jsonLength(events: StoredEvent[]): number {
  return events.reduce((sum, event) => sum + event.json.length, 0);
}

/** Starts `runId` and appends `count` answer tokens of `size` characters, one append each. */
async function answer(store: MemoryStore, runId: string, count: number, size: number, from = 0): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  if (from === 0) {
    await store.createRun(record(runId));
    events.push(stamp(1, { type: 'run.started', runId, agent: 'test', input: null }));
  }
  for (let index = 0; index < count; index++) events.push(stamp(from + events.length + 1, { type: 'text.delta', text: `${index % 10}`.repeat(size) }));
  const append = store.openAppender(runId);
  for (const event of events) append(event);
  return events;
}

describe('MemoryStore.state', () => {
  it('folds each append in O(1): 5,000 step.started then 5,000 step.log lines append in time bounded by a linear baseline', async () => {
    const run = (n: number): StoredEvent[] => {
      const bodies: EventBody[] = [{ type: 'run.started', runId: 'r', agent: 'test', input: null }];
      for (let index = 0; index < n; index++) bodies.push({ type: 'step.started', stepId: `s${index}`, title: 'Step' });
      for (let index = 0; index < n; index++) bodies.push({ type: 'step.log', stepId: `s${index}`, text: 'line' });
      return bodies.map((body, index) => stamp(index + 1, body));
    };
    let runs = 0;
    const appendAll = (events: StoredEvent[]) => () => {
      const store = new MemoryStore();
      const id = `run_${runs++}`;
      void store.createRun(record(id));
      const append = store.openAppender(id);
      for (const event of events) append(event);
      void store.close();
    };
    const events = run(5_000);
    // A linear baseline: serialising each event once, as the runner does before every append.
    const baseline = bestTime(() => {
      for (const stored of events) JSON.stringify(stored.event);
    });
    // Generous (a shared machine is noisy, and the collector's share grows with the heap): the
    // quadratic fold took thousands of times the baseline.
    const bound = 50 * baseline + 50;
    expect(bestTime(appendAll(events), bound)).toBeLessThan(bound);
  });

  it('serves the state it folded as events were appended, without reading or parsing the log (100,000 events)', async () => {
    const store = createStore();
    await store.createRun(record('run_big'));
    const events: StoredEvent[] = [stamp(1, { type: 'run.started', runId: 'run_big', agent: 'test', input: null })];
    for (let seq = 2; seq <= 100_000; seq++) {
      events.push(stamp(seq, seq % 30 === 0 ? { type: 'step.started', stepId: `s${seq}`, title: 'Step' } : { type: 'text.delta', text: 'w ' }));
    }
    for (let start = 0; start < events.length; start += 500) await store.append('run_big', events.slice(start, start + 500));
    const parse = vi.spyOn(JSON, 'parse');
    const state = await store.state('run_big');
    const again = await store.state('run_big');
    expect(parse).not.toHaveBeenCalled();
    expect(again).toBe(state);
    parse.mockRestore();
    expect(state).toEqual(reduceAll(events.map((stored) => stored.event)));
  });

  it('serves the state at a seq of a running run by parsing at most one checkpoint interval, not the log; of an ended one, at most its retained events', async () => {
    const maxEventsPerRun = 16_000;
    const store = createStore({ maxEventsPerRun });
    await store.createRun(record('run_at'));
    const events: StoredEvent[] = [stamp(1, { type: 'run.started', runId: 'run_at', agent: 'test', input: null })];
    for (let seq = 2; seq <= 12_000; seq++) events.push(stamp(seq, seq % 4 === 0 ? { type: 'step.started', stepId: `s${seq}`, title: 'S' } : { type: 'step.log', stepId: `s${seq - (seq % 4)}`, text: `l${seq}` }));
    for (let start = 0; start < events.length; start += 100) await store.append('run_at', events.slice(start, start + 100));
    const expectStates = async (ats: number[], maxParses: number) => {
      for (const at of ats) {
        const parse = vi.spyOn(JSON, 'parse');
        const state = await store.state('run_at', at);
        expect(parse.mock.calls.length, `at ${at}`).toBeLessThanOrEqual(maxParses);
        parse.mockRestore();
        expect(state, `at ${at}`).toEqual(reduceAll(events.slice(0, at).map((stored) => stored.event)));
      }
    };
    await expectStates([1, 999, 7_777, 11_999, 12_000], maxEventsPerRun / 16);
    // Ended, the run keeps no checkpoint (each holds its own copy of text): the state at a seq is
    // folded from the start of what it retains.
    events.push(stamp(12_001, { type: 'run.finished' }));
    await store.append('run_at', events.slice(-1));
    await expectStates([999, 11_999], 12_001);
    expect(await store.state('run_at', 12_002)).toBeUndefined();
  });

  it('keeps the final state when the run ends, for as long as the run is retained', async () => {
    const store = createStore();
    const events = await answer(store, 'run_end', 50, 3);
    const terminal = stamp(events.length + 1, { type: 'run.finished', output: 'done' });
    await store.append('run_end', [terminal]);
    const state = await store.state('run_end');
    expect(state).toMatchObject({ status: 'finished', output: 'done', lastSeq: 52 });
    expect(state).toEqual(reduceAll([...events, terminal].map((stored) => stored.event)));
    expect(await store.state('run_unknown')).toBeUndefined();
  });

  it('a run with no event yet has the initial state', async () => {
    const store = createStore();
    await store.createRun(record('run_new'));
    expect(await store.state('run_new')).toMatchObject({ status: 'idle', lastSeq: 0 });
  });
});

describe('MemoryStore: a run’s whole footprint stays within maxBytesPerRun', () => {
  it('after 40 times the bound of answer, a replay from 0 (snapshot and all) is within the bound, and the snapshot marks what it dropped', async () => {
    const maxBytesPerRun = 256 * 1024;
    const store = createStore({ maxBytesPerRun });
    // 40 × the bound of answer text, in 1,000-character tokens.
    const events = await answer(store, 'run_long', (40 * maxBytesPerRun) / 1000, 1000);
    const read = await store.read('run_long', 0);
    expect(read[0]?.type).toBe('run.snapshot');
    expect(jsonLength(read)).toBeLessThanOrEqual(maxBytesPerRun);
    expect(store.retainedBytes).toBe(jsonLength(read));
    const snapshot = (read[0] as StoredEvent).event as RunSnapshotEvent & { seq: number };
    const whole = events.slice(1, snapshot.seq).map((stored) => (stored.event as { text: string }).text).join('');
    // The newest text is kept whole, and the marker counts exactly what is not.
    expect(whole.endsWith(snapshot.state.text)).toBe(true);
    expect(snapshot.state.truncated?.textChars).toBe(whole.length - snapshot.state.text.length);
    expect(snapshot.state.text.length).toBeGreaterThan(0);
    // The live state is bounded the same way.
    const state = await store.state('run_long');
    expect(state?.text.length).toBeLessThanOrEqual(maxBytesPerRun / 8);
    expect(state?.lastSeq).toBe(events.length);
  });

  it('the issue’s figure: after 40 MB of answer with the default bound, a replay from 0 sends at most 16 MiB (it was a 23.6 MiB snapshot)', async () => {
    const store = createStore();
    await answer(store, 'run_40mb', 10_000, 4_000);
    const read = await store.read('run_40mb', 0);
    expect(read[0]?.type).toBe('run.snapshot');
    expect(jsonLength(read)).toBeLessThanOrEqual(16 * 1024 * 1024);
    // The snapshot keeps the newest 2 MiB of answer at most, and says how much more there was.
    expect(read[0]?.json.length).toBeLessThanOrEqual(2 * 1024 * 1024 + 1024);
    expect(((read[0] as StoredEvent).event as RunSnapshotEvent).state.truncated?.textChars).toBeGreaterThan(20_000_000);
    // And the retained events are most of the bound.
    expect(jsonLength(read.slice(1))).toBeGreaterThan(12 * 1024 * 1024);
  });

  it('bounds step log lines the same way, over all steps', async () => {
    const maxBytesPerRun = 64 * 1024;
    const store = createStore({ maxBytesPerRun });
    await store.createRun(record('run_logs'));
    const bodies: EventBody[] = [
      { type: 'run.started', runId: 'run_logs', agent: 'test', input: null },
      { type: 'step.started', stepId: 'a', title: 'A' },
    ];
    for (let index = 0; index < 20_000; index++) bodies.push({ type: 'step.log', stepId: 'a', text: `line ${index}` });
    const append = store.openAppender('run_logs');
    bodies.forEach((body, index) => append(stamp(index + 1, body)));
    const read = await store.read('run_logs', 0);
    expect(jsonLength(read)).toBeLessThanOrEqual(maxBytesPerRun);
    const snapshot = (read[0] as StoredEvent).event as RunSnapshotEvent & { seq: number };
    const step = snapshot.state.steps.a;
    expect(step?.logs.at(-1)).toBe(`line ${snapshot.seq - 3}`);
    expect((step?.truncated?.logLines ?? 0) + (step?.logs.length ?? 0)).toBe(snapshot.seq - 2);
    expect(snapshot.state.truncated?.logLines).toBe(step?.truncated?.logLines);
  });

  it('a state that alone nears the bound (open steps, each the parent of the next, are kept) is snapshotted once per 1/16 of the bound appended, not per event', async () => {
    const maxBytesPerRun = 64 * 1024;
    const store = createStore({ maxBytesPerRun });
    await store.createRun(record('run_calls'));
    const events = [stamp(1, { type: 'run.started', runId: 'run_calls', agent: 'test', input: null })];
    for (let seq = 2; seq <= 400; seq++) events.push(stamp(seq, { type: 'step.started', stepId: `s${seq}`, title: 'a'.repeat(1000), parentId: seq > 2 ? `s${seq - 1}` : undefined }));
    const stringify = vi.spyOn(JSON, 'stringify');
    const append = store.openAppender('run_calls');
    for (const event of events) append(event);
    const snapshots = stringify.mock.calls.filter(([value]) => (value as { type?: string }).type === 'run.snapshot').length;
    stringify.mockRestore();
    const appended = jsonLength(events);
    expect(snapshots).toBeGreaterThan(0);
    // At most two per 1/16 appended (an eviction builds again when its snapshot outgrew the room it had).
    expect(snapshots).toBeLessThanOrEqual(2 * Math.ceil(appended / (maxBytesPerRun / 16)) + 2);
    // The run keeps its newest events, and goes past its bound by at most 1/16 of it (and one event).
    const read = await store.read('run_calls', 0);
    expect(read.at(-1)?.seq).toBe(400);
    expect(jsonLength(read.slice(1))).toBeLessThanOrEqual(maxBytesPerRun / 16 + 1100);
  });

  it('builds each snapshot once per eviction point: every late reader gets the same one, until the next eviction', async () => {
    const store = createStore({ maxBytesPerRun: 64 * 1024 });
    const events = await answer(store, 'run_shared', 400, 500);
    const first = (await store.read('run_shared', 0))[0];
    const stringify = vi.spyOn(JSON, 'stringify');
    const second = (await store.read('run_shared', 0))[0];
    const followed: StoredEvent[] = [];
    for await (const batch of store.follow('run_shared', 0, { signal: AbortSignal.abort() })) followed.push(...batch);
    const controller = new AbortController();
    const iterator = store.follow('run_shared', 0, { signal: controller.signal })[Symbol.asyncIterator]();
    const third = ((await iterator.next()).value as StoredEvent[])[0];
    controller.abort();
    expect(stringify).not.toHaveBeenCalled();
    expect(first?.type).toBe('run.snapshot');
    expect(second).toBe(first);
    expect(third).toBe(first);
    stringify.mockRestore();
    await answer(store, 'run_shared', 200, 500, events.length);
    const later = (await store.read('run_shared', 0))[0];
    expect(later?.type).toBe('run.snapshot');
    expect(later).not.toBe(first);
    expect(later?.seq).toBeGreaterThan(first?.seq ?? 0);
  });
});

describe('MemoryStore: maxRetainedBytes, the budget of all retained runs', () => {
  it('drops the oldest finished runs first when appends pass the budget, never a running one', async () => {
    const store = createStore({ maxRetainedBytes: 40_000 });
    for (const id of ['run_1', 'run_2', 'run_3']) {
      const events = await answer(store, id, 10, 1000);
      await store.append(id, [stamp(events.length + 1, { type: 'run.finished' })]);
    }
    // Runs that ended stay readable while there is room.
    expect(await store.getRun('run_1')).toBeDefined();
    await answer(store, 'run_live', 15, 1000);
    expect(store.retainedBytes).toBeLessThanOrEqual(40_000);
    expect(await store.getRun('run_1')).toBeUndefined();
    expect((await store.getRun('run_live'))?.status).toBe('running');
    await store.createRun(record('run_new'));
    expect(await store.getRun('run_2')).toBeDefined();
    expect(await store.getRun('run_3')).toBeDefined();
    expect(await store.getRun('run_live')).toBeDefined();
  });

  it('fails the running run that grows past it with AW_OVERLOADED, and makes room with it for new runs', async () => {
    const store = createStore({ maxRetainedBytes: 20_000 });
    const first = await answer(store, 'run_a', 15, 1000);
    await store.createRun(record('run_b'));
    const append = store.openAppender('run_b');
    append(stamp(1, { type: 'run.started', runId: 'run_b', agent: 'test', input: null }));
    let seq = 1;
    let refused: unknown;
    for (; seq < 100 && !refused; seq++) {
      try {
        append(stamp(seq + 1, { type: 'text.delta', text: 'x'.repeat(1000) }));
      } catch (error) {
        refused = error;
      }
    }
    // The run that passed the budget ended with a run.failed that says why; its next append is refused.
    expect(isAgentwireError(refused) && refused.code).toBe('AW_OVERLOADED');
    const tail = await store.read('run_b', 0);
    expect(tail.at(-1)?.event).toMatchObject({ type: 'run.failed', error: { code: 'AW_OVERLOADED' } });
    expect((await store.getRun('run_b'))?.status).toBe('failed');
    expect((await store.state('run_b'))?.error?.code).toBe('AW_OVERLOADED');
    expect(store.retainedBytes).toBeLessThanOrEqual(20_000 + 2_000);
    // The run that did not grow goes on; the failed one makes room for a new run.
    await store.append('run_a', [stamp(first.length + 1, { type: 'text.delta', text: 'ok' })]);
    expect((await store.getRun('run_a'))?.status).toBe('running');
    await store.createRun(record('run_c'));
    expect(await store.getRun('run_b')).toBeUndefined();
    expect(await store.getRun('run_c')).toBeDefined();
  });

  it('frees the bytes of runs that expire or are dropped by maxRuns', async () => {
    const store = createStore({ maxRuns: 1 });
    const events = await answer(store, 'run_old', 5, 100);
    await store.append('run_old', [stamp(events.length + 1, { type: 'run.finished' })]);
    expect(store.retainedBytes).toBeGreaterThan(500);
    await store.createRun(record('run_new'));
    expect(store.retainedBytes).toBe(0);
  });

  it('rejects an invalid budget', () => {
    expect(() => createStore({ maxRetainedBytes: 0 })).toThrow(/maxRetainedBytes/);
  });
});
