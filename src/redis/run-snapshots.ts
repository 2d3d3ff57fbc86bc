/**
 * Snapshots of long runs in Redis. A run stream is capped (`maxEventsPerRun`); before its oldest
 * events may be trimmed, the producing process folds them into a snapshot (the reducer's state as
 * of a `seq`), every half cap, from the events still in the stream. The append script never trims
 * past the stored snapshot, so a reader that is behind gets `run.snapshot` and then every later
 * event, as with the memory store.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import type { AgentEvent, RunSnapshotEvent } from '../protocol/events.js';
import { reduceAll } from '../reducer/reduce.js';
import { type RunState, initialRunState } from '../reducer/run-state.js';
import { type StoredEvent, toStoredEvent } from '../store/store.js';
import { parseEntry } from './parse-entry.js';
import type { FaultLog } from './fault-log.js';
import { type RunKeys, entryId } from './redis-keys.js';

type SnapshotRedis = Redis & { awSetSnapshot(...args: (string | number)[]): Promise<number> };

/** Events read per `XRANGE` while folding. */
const PAGE = 1000;

/** Writes and reads the snapshots of capped run streams. */
export class RunSnapshots {
  readonly #redis: SnapshotRedis;
  readonly #every: number;
  /** One checkpoint at a time per run, in order. */
  readonly #pending = new Map<string, Promise<void>>();

  readonly #faults: FaultLog;

  constructor(redis: Redis, maxEventsPerRun: number, faults: FaultLog) {
    this.#faults = faults;
    this.#redis = redis as SnapshotRedis;
    this.#every = Math.max(1, Math.floor(maxEventsPerRun / 2));
  }

  /** After an append from `previousSeq` to `lastSeq`: folds a snapshot when a half-cap boundary was crossed. */
  afterAppend(runId: string, keys: RunKeys, previousSeq: number, lastSeq: number, terminal: boolean): void {
    if (terminal || Math.floor(lastSeq / this.#every) === Math.floor(previousSeq / this.#every)) return;
    const target = lastSeq;
    const chained = (this.#pending.get(runId) ?? Promise.resolve())
      .then(() => this.#checkpoint(keys, target))
      .then(
        () => this.#faults.succeeded('snapshot'),
        // Trimming waits for the snapshot, so nothing is lost: the stream just grows past its cap meanwhile.
        (error: unknown) => this.#faults.failed('snapshot', `could not snapshot run ${runId} at seq ${target}; its stream is not trimmed until one is written`, error, runId),
      )
      .finally(() => {
        if (this.#pending.get(runId) === chained) this.#pending.delete(runId);
      });
    this.#pending.set(runId, chained);
  }

  /** Resolves when every pending checkpoint has been written (for tests). */
  async settled(): Promise<void> {
    await Promise.all(this.#pending.values());
  }

  /** The stored snapshot as a `run.snapshot` event, or `undefined`. */
  async read(keys: RunKeys): Promise<StoredEvent | undefined> {
    const raw = await this.#redis.get(keys.snapshot);
    if (raw === null) return undefined;
    const { seq, state } = JSON.parse(raw) as { seq: number; state: RunState };
    const event: RunSnapshotEvent & { seq: number; at: number } = { type: 'run.snapshot', seq, at: Date.now(), state };
    return toStoredEvent(event as AgentEvent);
  }

  async #checkpoint(keys: RunKeys, target: number): Promise<void> {
    const raw = await this.#redis.get(keys.snapshot);
    let { seq, state } = raw === null ? { seq: 0, state: initialRunState() } : (JSON.parse(raw) as { seq: number; state: RunState });
    if (seq >= target) return;
    while (seq < target) {
      const entries = (await this.#redis.call('XRANGE', keys.events, entryId(seq + 1), entryId(target), 'COUNT', PAGE)) as [string, string[]][];
      if (entries.length === 0) break;
      const events = entries.map((entry) => parseEntry(entry).event);
      state = reduceAll(events, state);
      seq = (events[events.length - 1] as AgentEvent).seq;
    }
    await this.#redis.awSetSnapshot(keys.meta, keys.snapshot, seq, JSON.stringify({ seq, state }));
  }
}
