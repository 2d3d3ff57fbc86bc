/**
 * Snapshots of long runs in Redis. A run stream is capped (`maxEventsPerRun`); before its oldest
 * events may be trimmed, the producing process stores a snapshot (the reducer's state as of a
 * `seq`), every half cap: the state it folded as it appended (see `state-checkpoints.ts`), or,
 * without one, folded from the events still in the stream. The append script never trims
 * past the stored snapshot, so a reader that is behind gets `run.snapshot` and then every later
 * event, as with the memory store. The snapshot's state is folded within the memory store's default
 * limits (its oldest answer text and log lines truncated, see `RunState.truncated`), and its event
 * JSON is spliced from the stored string once per snapshot, not parsed and serialised per reader.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import type { AgentEvent } from '../protocol/events.js';
import { RunFold } from '../reducer/run-fold.js';
import { type RunState, initialRunState } from '../protocol/run-state.js';
import { JsonEvent } from '../store/json-event.js';
import type { StoredEvent } from '../store/store.js';
import { parseEntry } from './parse-entry.js';
import type { FaultLog } from './fault-log.js';
import { type RunKeys, entryId } from './redis-keys.js';
import { STATE_LIMITS } from './state-checkpoints.js';

type SnapshotRedis = Redis & { awSetSnapshot(...args: (string | number)[]): Promise<number> };

/** Events read per `XRANGE` while folding. */
const PAGE = 1000;
/** Snapshots whose event is kept built, one per run, the least recently built dropped first. */
const BUILT = 256;
/** How a stored snapshot (`JSON.stringify({ seq, state })`) begins. */
const STORED_HEAD = /^\{"seq":(\d+),"state":/;

/** Writes and reads the snapshots of capped run streams. */
export class RunSnapshots {
  readonly #redis: SnapshotRedis;
  readonly #every: number;
  /** One checkpoint at a time per run, in order. */
  readonly #pending = new Map<string, Promise<void>>();
  /** The `run.snapshot` last built per snapshot key, with the stored string it was built from. */
  readonly #built = new Map<string, { raw: string; event: StoredEvent }>();

  readonly #faults: FaultLog;

  constructor(redis: Redis, maxEventsPerRun: number, faults: FaultLog) {
    this.#faults = faults;
    this.#redis = redis as SnapshotRedis;
    this.#every = Math.max(1, Math.floor(maxEventsPerRun / 2));
  }

  /**
   * After an append from `previousSeq` to `lastSeq`: stores a snapshot when a half-cap boundary was
   * crossed, of `folded` (the run's state after `lastSeq`) when the caller has it, else folded here.
   */
  afterAppend(runId: string, keys: RunKeys, previousSeq: number, lastSeq: number, terminal: boolean, folded?: RunState): void {
    if (terminal || Math.floor(lastSeq / this.#every) === Math.floor(previousSeq / this.#every)) return;
    const target = lastSeq;
    const chained = (this.#pending.get(runId) ?? Promise.resolve())
      .then(() => (folded?.lastSeq === target ? this.#store(keys, target, folded) : this.#checkpoint(keys, target)))
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

  /**
   * The stored snapshot as a `run.snapshot` event, or `undefined`: built once per snapshot (its
   * JSON spliced from the stored string, parsed only if a reader asks for the object) and shared by
   * every reader until the next one is stored.
   */
  async read(keys: RunKeys): Promise<StoredEvent | undefined> {
    const raw = await this.#redis.get(keys.snapshot);
    if (raw === null) return undefined;
    const built = this.#built.get(keys.snapshot);
    if (built?.raw === raw) return built.event;
    const event = snapshotEvent(raw);
    this.#built.delete(keys.snapshot);
    this.#built.set(keys.snapshot, { raw, event });
    if (this.#built.size > BUILT) this.#built.delete(this.#built.keys().next().value as string);
    return event;
  }

  async #checkpoint(keys: RunKeys, target: number): Promise<void> {
    const raw = await this.#redis.get(keys.snapshot);
    let { seq, state } = raw === null ? { seq: 0, state: initialRunState() } : (JSON.parse(raw) as { seq: number; state: RunState });
    if (seq >= target) return;
    while (seq < target) {
      const entries = (await this.#redis.call('XRANGE', keys.events, entryId(seq + 1), entryId(target), 'COUNT', PAGE)) as [string, string[]][];
      if (entries.length === 0) break;
      const events = entries.map((entry) => parseEntry(entry).event);
      const fold = new RunFold(state, STATE_LIMITS);
      for (const event of events) fold.add(event);
      state = fold.state;
      seq = (events[events.length - 1] as AgentEvent).seq;
    }
    await this.#store(keys, seq, state);
  }

  async #store(keys: RunKeys, seq: number, state: RunState): Promise<void> {
    await this.#redis.awSetSnapshot(keys.meta, keys.snapshot, seq, JSON.stringify({ seq, state }));
  }
}

/** The `run.snapshot` event of a stored snapshot, its JSON spliced from the stored string. */
function snapshotEvent(raw: string): StoredEvent {
  const head = STORED_HEAD.exec(raw);
  if (!head) {
    const { seq, state } = JSON.parse(raw) as { seq: number; state: RunState };
    return new JsonEvent(seq, 'run.snapshot', JSON.stringify({ type: 'run.snapshot', seq, at: Date.now(), state }));
  }
  const seq = Number(head[1]);
  return new JsonEvent(seq, 'run.snapshot', `{"type":"run.snapshot","seq":${seq},"at":${Date.now()},"state":${raw.slice(head[0].length)}`);
}
