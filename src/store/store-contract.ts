/**
 * The contract every {@link RunStore} must pass, as one vitest suite: the memory store runs it in
 * `memory-store.test.ts`, a networked store (Redis) registers it the same way. It talks to the
 * store only through the {@link RunStore} interface, so it holds for any implementation.
 *
 * @example
 * ```ts
 * runStoreContract('MemoryStore', () => new MemoryStore());
 * ```
 * @module
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AgentEvent, EventBody } from '../protocol/events.js';
import { reduceAll } from '../reducer/reduce.js';
import { type RunRecord, type RunStore, type StoredEvent, toStoredEvent } from './store.js';
import { deferred, within } from '../../test/helpers/wait.js';

/**
 * Registers a `describe` suite named `RunStore contract: <name>` that checks `makeStore()`'s store
 * against the {@link RunStore} contract. A fresh store is made before each test and closed after it.
 */
export function runStoreContract(name: string, makeStore: () => Promise<RunStore> | RunStore): void {
  describe(`RunStore contract: ${name}`, () => {
    let store: RunStore;
    let runCounter = 0;

    beforeEach(async () => {
      store = await makeStore();
    });

    afterEach(async () => {
      await store.close();
    });

    /** A unique run id per test, so a shared backend (a Redis database) never sees a collision. */
    function newRunId(): string {
      runCounter++;
      return `run_contract_${Date.now().toString(36)}_${Math.random().toString(36).slice(2)}_${runCounter}`;
    }

    async function createRunningRun(overrides: Partial<RunRecord> = {}): Promise<RunRecord> {
      const record = newRecord(newRunId(), overrides);
      await store.createRun(record);
      return record;
    }

    /** Creates a run and appends `run.started`, `count - 2` text deltas and `run.finished`. */
    async function createFinishedRun(count: number): Promise<{ record: RunRecord; events: StoredEvent[] }> {
      const record = await createRunningRun();
      const events = runEvents(record.id, count);
      await store.append(record.id, events);
      return { record, events };
    }

    async function collect(runId: string, after: number, maxBatch?: number): Promise<StoredEvent[][]> {
      const batches: StoredEvent[][] = [];
      for await (const batch of store.follow(runId, after, maxBatch === undefined ? {} : { maxBatch })) batches.push(batch);
      return batches;
    }

    describe('run metadata', () => {
      it('createRun then getRun returns the record as created, so a new run is visible at once', async () => {
        const record = await createRunningRun({ owner: 'alice' });
        expect(await store.getRun(record.id)).toEqual(record);
      });

      it('getRun of an unknown id resolves undefined instead of throwing', async () => {
        expect(await store.getRun('run_does_not_exist')).toBeUndefined();
      });

      it('a record returned by getRun is a copy: mutating it does not corrupt the store', async () => {
        const record = await createRunningRun();
        const copy = (await store.getRun(record.id)) as RunRecord;
        copy.status = 'failed';
        copy.lastSeq = 99;
        expect(await store.getRun(record.id)).toEqual(record);
      });

      it('a duplicate createRun rejects instead of overwriting a live run', async () => {
        const record = await createRunningRun();
        await store.append(record.id, [stored(1, startedBody(record.id))]);
        await expect(store.createRun({ ...record, agent: 'other' })).rejects.toThrow();
        expect(await store.getRun(record.id)).toMatchObject({ agent: record.agent, lastSeq: 1 });
      });

      it('listRuns returns newest first, so "recent runs" are not shown oldest first', async () => {
        const base = Date.now();
        const ids: string[] = [];
        for (let index = 0; index < 4; index++) {
          const record = await createRunningRun({ createdAt: base + index });
          ids.push(record.id);
        }
        const listed = (await store.listRuns()).map((record) => record.id).filter((id) => ids.includes(id));
        expect(listed).toEqual([...ids].reverse());
      });

      it('listRuns filters by owner, so one caller never sees another caller\'s runs', async () => {
        const base = Date.now();
        const alice1 = await createRunningRun({ owner: 'alice', createdAt: base });
        const bob = await createRunningRun({ owner: 'bob', createdAt: base + 1 });
        const alice2 = await createRunningRun({ owner: 'alice', createdAt: base + 2 });
        const anonymous = await createRunningRun({ owner: undefined, createdAt: base + 3 });

        expect((await store.listRuns({ owner: 'alice' })).map((record) => record.id)).toEqual([alice2.id, alice1.id]);
        expect((await store.listRuns({ owner: 'bob' })).map((record) => record.id)).toEqual([bob.id]);
        expect(await store.listRuns({ owner: 'carol' })).toEqual([]);
        const all = (await store.listRuns({ owner: undefined })).map((record) => record.id);
        expect(all).toEqual(expect.arrayContaining([alice1.id, bob.id, alice2.id, anonymous.id]));
      });

      it('listRuns honours limit and keeps the newest runs when it cuts', async () => {
        const base = Date.now();
        const ids: string[] = [];
        for (let index = 0; index < 5; index++) ids.push((await createRunningRun({ owner: 'limit', createdAt: base + index })).id);
        const listed = await store.listRuns({ owner: 'limit', limit: 2 });
        expect(listed.map((record) => record.id)).toEqual([ids[4], ids[3]]);
      });

      it('getRun reflects lastSeq while the run is live, so a resume cursor can be checked', async () => {
        const record = await createRunningRun();
        await store.append(record.id, [stored(1, startedBody(record.id))]);
        await store.append(record.id, [stored(2, { type: 'text.delta', text: 'a' }), stored(3, { type: 'text.delta', text: 'b' })]);
        expect(await store.getRun(record.id)).toMatchObject({ status: 'running', lastSeq: 3, endedAt: undefined });
      });

      it.each([
        ['run.finished', 'finished', { type: 'run.finished', output: 'ok' }],
        ['run.failed', 'failed', { type: 'run.failed', error: { code: 'AW_AGENT_ERROR', message: 'no' } }],
        ['run.cancelled', 'cancelled', { type: 'run.cancelled', reason: 'stop' }],
      ] as const)('a %s event records status %s, endedAt and lastSeq, so an ended run does not look live', async (_type, status, body) => {
        const record = await createRunningRun();
        const terminal = stored(3, body as EventBody, record.createdAt + 1234);
        await store.append(record.id, [
          stored(1, startedBody(record.id)),
          stored(2, { type: 'text.delta', text: 'x' }),
          terminal,
        ]);
        expect(await store.getRun(record.id)).toEqual({ ...record, status, lastSeq: 3, endedAt: terminal.event.at });
      });
    });

    describe('append', () => {
      it('append with a seq gap rejects and leaves the log unchanged, so no subscriber sees a hole', async () => {
        const record = await createRunningRun();
        await store.append(record.id, [stored(1, startedBody(record.id))]);
        await expect(store.append(record.id, [stored(3, { type: 'text.delta', text: 'skipped 2' })])).rejects.toThrow();
        expect((await store.getRun(record.id))?.lastSeq).toBe(1);
        expect((await store.read(record.id, 0)).map((event) => event.seq)).toEqual([1]);
        // The sequence still continues where it was.
        await store.append(record.id, [stored(2, { type: 'text.delta', text: 'ok' })]);
        expect((await store.read(record.id, 0)).map((event) => event.seq)).toEqual([1, 2]);
      });

      it('a batch with a gap in its middle is refused whole, so a half-stored batch never shows', async () => {
        const record = await createRunningRun();
        await store.append(record.id, [stored(1, startedBody(record.id))]);
        const batch = [stored(2, { type: 'text.delta', text: 'a' }), stored(4, { type: 'text.delta', text: 'gap' })];
        await expect(store.append(record.id, batch)).rejects.toThrow();
        expect((await store.getRun(record.id))?.lastSeq).toBe(1);
        expect((await store.read(record.id, 0)).map((event) => event.seq)).toEqual([1]);
      });

      it('append of an already used seq rejects instead of storing a duplicate', async () => {
        const record = await createRunningRun();
        await store.append(record.id, [stored(1, startedBody(record.id)), stored(2, { type: 'text.delta', text: 'a' })]);
        await expect(store.append(record.id, [stored(2, { type: 'text.delta', text: 'again' })])).rejects.toThrow();
        expect((await store.read(record.id, 0)).map((event) => event.seq)).toEqual([1, 2]);
      });

      it('append after a terminal event rejects, so a run never has two endings', async () => {
        const { record } = await createFinishedRun(3);
        await expect(store.append(record.id, [stored(4, { type: 'text.delta', text: 'late' })])).rejects.toThrow();
        expect(await store.getRun(record.id)).toMatchObject({ status: 'finished', lastSeq: 3 });
        expect((await store.read(record.id, 0)).map((event) => event.type)).toEqual(['run.started', 'text.delta', 'run.finished']);
      });

      it('append to an unknown run rejects instead of creating a run without metadata', async () => {
        await expect(store.append('run_unknown_append', [stored(1, startedBody('run_unknown_append'))])).rejects.toThrow();
        expect(await store.getRun('run_unknown_append')).toBeUndefined();
      });
    });

    describe('read', () => {
      it('read(after) returns exactly the events after `after`, in order, neither more nor fewer', async () => {
        const { record, events } = await createFinishedRun(10);
        for (const after of [0, 1, 4, 9, 10, 25]) {
          const read = await store.read(record.id, after);
          expect(read.map((event) => event.seq), `after ${after}`).toEqual(events.filter((event) => event.seq > after).map((event) => event.seq));
        }
      });

      it('read returns the stored events intact: type, seq, event object and its JSON agree', async () => {
        const { record, events } = await createFinishedRun(5);
        const read = await store.read(record.id, 0);
        expect(read.map((event) => event.event)).toEqual(events.map((event) => event.event));
        for (const event of read) {
          expect(event.type).toBe(event.event.type);
          expect(event.seq).toBe(event.event.seq);
          expect(JSON.parse(event.json)).toEqual(event.event);
        }
      });

      it('read of an unknown run resolves an empty list instead of throwing', async () => {
        expect(await store.read('run_unknown_read', 0)).toEqual([]);
      });
    });

    describe('state (optional)', () => {
      it('state() is the fold of every event, while running and once ended; undefined for an unknown run', async (context) => {
        if (!store.state) return context.skip();
        const record = await createRunningRun();
        const events = runEvents(record.id, 12);
        await store.append(record.id, events.slice(0, 6));
        expect(await store.state(record.id)).toEqual(reduceAll(events.slice(0, 6).map((stored) => stored.event)));
        await store.append(record.id, events.slice(6));
        expect(await store.state(record.id)).toEqual(reduceAll(events.map((stored) => stored.event)));
        expect(await store.state('run_unknown_state')).toBeUndefined();
        for (const at of [1, 5, 11, 12]) {
          expect(await store.state(record.id, at), `at ${at}`).toEqual(reduceAll(events.slice(0, at).map((stored) => stored.event)));
        }
        expect(await store.state(record.id, 13)).toBeUndefined();
      });
    });

    describe('follow', () => {
      it('follow from 0 on a finished run yields every event once and then ends', async () => {
        const { record, events } = await createFinishedRun(20);
        const batches = await within(collect(record.id, 0), 5000, 'follow of a finished run');
        expect(batches.flat().map((event) => event.seq)).toEqual(events.map((event) => event.seq));
        expect(batches.every((batch) => batch.length > 0)).toBe(true);
      });

      it('follow after the terminal event ends at once without yielding anything', async () => {
        const { record } = await createFinishedRun(4);
        expect(await within(collect(record.id, 4), 5000, 'follow after the terminal event')).toEqual([]);
      });

      it('follow of an unknown run ends right away instead of waiting forever', async () => {
        expect(await within(collect('run_unknown_follow', 0), 5000, 'follow of an unknown run')).toEqual([]);
      });

      it('follow respects maxBatch, so one slow socket write never carries an unbounded batch', async () => {
        const { record, events } = await createFinishedRun(23);
        const batches = await within(collect(record.id, 0, 5), 5000, 'follow with maxBatch');
        expect(batches.every((batch) => batch.length >= 1 && batch.length <= 5)).toBe(true);
        expect(batches.flat().map((event) => event.seq)).toEqual(events.map((event) => event.seq));
      });

      it('follow hands over from history to live appends without a gap or a duplicate', async () => {
        const record = await createRunningRun();
        await store.append(record.id, [stored(1, startedBody(record.id)), stored(2, { type: 'text.delta', text: 'a' })]);
        const seen: number[] = [];
        const firstBatch = deferred<void>();
        const following = (async () => {
          for await (const batch of store.follow(record.id, 0)) {
            seen.push(...batch.map((event) => event.seq));
            firstBatch.resolve();
          }
        })();
        await within(firstBatch.promise, 5000, 'the history batch');
        await store.append(record.id, [stored(3, { type: 'text.delta', text: 'b' })]);
        await store.append(record.id, [stored(4, { type: 'run.finished' })]);
        await within(following, 5000, 'follow to end after the terminal event');
        expect(seen).toEqual([1, 2, 3, 4]);
      });

      it('followers racing live appends at random cursors each see a gap-free, duplicate-free sequence to the terminal event', async () => {
        const total = 500;
        for (let trial = 0; trial < 4; trial++) {
          const seed = (Date.now() ^ (trial * 0x9e3779b9)) >>> 0;
          const random = mulberry32(seed);
          const record = await createRunningRun();
          const runId = record.id;
          await store.append(runId, [stored(1, startedBody(runId))]);

          const followers: Promise<{ cursor: number; seqs: number[] }>[] = [];
          const startFollower = () => {
            const cursor = Math.floor(random() * (total + 1));
            const maxBatch = random() < 0.5 ? 1 + Math.floor(random() * 7) : undefined;
            followers.push(
              (async () => {
                const seqs: number[] = [];
                for await (const batch of store.follow(runId, cursor, maxBatch === undefined ? {} : { maxBatch })) {
                  for (const event of batch) seqs.push(event.seq);
                  // A slow consumer: sometimes take a turn of the event loop between batches.
                  if (random() < 0.3) await new Promise<void>((resolve) => setImmediate(resolve));
                }
                return { cursor, seqs };
              })(),
            );
          };
          for (let index = 0; index < 8; index++) startFollower();

          let seq = 1;
          while (seq < total) {
            const burst = Math.min(1 + Math.floor(random() * 8), total - seq);
            const events: StoredEvent[] = [];
            for (let index = 0; index < burst; index++) {
              seq++;
              events.push(stored(seq, seq === total ? { type: 'run.finished' } : { type: 'text.delta', text: `t${seq}` }));
            }
            await store.append(runId, events);
            // Followers join mid-stream too, at cursors behind, at and ahead of the log's end.
            if (random() < 0.15) startFollower();
            const pause = random();
            if (pause < 0.4) await Promise.resolve();
            else if (pause < 0.8) await new Promise<void>((resolve) => setImmediate(resolve));
            else await new Promise<void>((resolve) => setTimeout(resolve, 0));
          }

          const results = await within(Promise.all(followers), 15_000, `followers of trial ${trial} (seed ${seed})`);
          expect(results.length).toBeGreaterThanOrEqual(8);
          for (const { cursor, seqs } of results) {
            const expected = Array.from({ length: total - cursor }, (_, index) => cursor + 1 + index);
            expect(seqs, `trial ${trial}, seed ${seed}, cursor ${cursor}`).toEqual(expected);
          }
        }
      });

      it('follow stops promptly when its AbortSignal aborts while it waits for appends', async () => {
        const record = await createRunningRun();
        await store.append(record.id, [stored(1, startedBody(record.id))]);
        const controller = new AbortController();
        const seen: number[] = [];
        const firstBatch = deferred<void>();
        const following = (async () => {
          for await (const batch of store.follow(record.id, 0, { signal: controller.signal })) {
            seen.push(...batch.map((event) => event.seq));
            firstBatch.resolve();
          }
        })();
        await within(firstBatch.promise, 5000, 'the first batch');
        controller.abort();
        await within(following, 2000, 'follow to end after abort');
        expect(seen).toEqual([1]);
        // The run itself is untouched by a subscriber leaving.
        expect(await store.getRun(record.id)).toMatchObject({ status: 'running', lastSeq: 1 });
      });

      it('follow with an already aborted signal ends without waiting', async () => {
        const record = await createRunningRun();
        await store.append(record.id, [stored(1, startedBody(record.id))]);
        const controller = new AbortController();
        controller.abort();
        const following = (async () => {
          for await (const _batch of store.follow(record.id, 0, { signal: controller.signal })) {
            // Whatever it yields, it must end.
          }
        })();
        await within(following, 2000, 'follow with an aborted signal');
      });
    });

    describe('cancel channel', () => {
      it('requestCancel on a running run resolves true and calls every onCancel listener with the reason', async () => {
        const record = await createRunningRun();
        await store.append(record.id, [stored(1, startedBody(record.id))]);
        const first = vi.fn();
        const second = vi.fn();
        const unsubscribeFirst = store.onCancel(record.id, first);
        const unsubscribeSecond = store.onCancel(record.id, second);
        expect(await store.requestCancel(record.id, 'user pressed stop')).toBe(true);
        await vi.waitFor(() => {
          expect(first).toHaveBeenCalledWith('user pressed stop');
          expect(second).toHaveBeenCalledWith('user pressed stop');
        }, { timeout: 5000, interval: 5 });
        unsubscribeFirst();
        unsubscribeSecond();
      });

      it('requestCancel resolves false for an unknown run', async () => {
        expect(await store.requestCancel('run_unknown_cancel', 'stop')).toBe(false);
      });

      it('requestCancel resolves false for an ended run and calls no listener', async () => {
        const record = await createRunningRun();
        const listener = vi.fn();
        const unsubscribe = store.onCancel(record.id, listener);
        await store.append(record.id, runEvents(record.id, 3));
        expect(await store.requestCancel(record.id, 'too late')).toBe(false);
        expect(listener).not.toHaveBeenCalled();
        unsubscribe();
      });

      it('the unsubscribe function of onCancel stops that listener only', async () => {
        const record = await createRunningRun();
        await store.append(record.id, [stored(1, startedBody(record.id))]);
        const removed = vi.fn();
        const kept = vi.fn();
        const unsubscribeRemoved = store.onCancel(record.id, removed);
        const unsubscribeKept = store.onCancel(record.id, kept);
        unsubscribeRemoved();
        unsubscribeRemoved(); // idempotent
        expect(await store.requestCancel(record.id, 'stop')).toBe(true);
        await vi.waitFor(() => expect(kept).toHaveBeenCalledWith('stop'), { timeout: 5000, interval: 5 });
        expect(removed).not.toHaveBeenCalled();
        unsubscribeKept();
      });

      it('onCancel of an unknown run returns a callable unsubscribe function', () => {
        const unsubscribe = store.onCancel('run_unknown_on_cancel', () => {});
        expect(typeof unsubscribe).toBe('function');
        expect(() => unsubscribe()).not.toThrow();
      });
    });
  });
}

function newRecord(id: string, overrides: Partial<RunRecord>): RunRecord {
  return {
    id,
    agent: 'contract-agent',
    owner: undefined,
    createdAt: Date.now(),
    status: 'running',
    endedAt: undefined,
    lastSeq: 0,
    ...overrides,
  };
}

function startedBody(runId: string): EventBody {
  return { type: 'run.started', runId, agent: 'contract-agent', input: { question: 'why?' } };
}

function stored(seq: number, body: EventBody, at = Date.now()): StoredEvent {
  return toStoredEvent({ ...body, seq, at } as AgentEvent);
}

/** `run.started`, text deltas, `run.finished`: `count` events with seq 1…count. */
function runEvents(runId: string, count: number): StoredEvent[] {
  const events: StoredEvent[] = [stored(1, startedBody(runId))];
  for (let seq = 2; seq < count; seq++) events.push(stored(seq, { type: 'text.delta', text: `token ${seq} ` }));
  events.push(stored(count, { type: 'run.finished', output: 'done' }));
  return events;
}


/** A small seeded PRNG, so a failing race trial can be replayed from its seed. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}
