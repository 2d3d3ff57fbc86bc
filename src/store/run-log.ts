/**
 * One run's log in the in-memory store: its record, its newest events one by one, older ones
 * packed (see {@link PackedLog}), the snapshot of the evicted ones, and the state of every event
 * appended, folded as each is appended while its object is at hand. Packing is in
 * `log-packing.ts`, eviction and its checkpoints in `log-eviction.ts`. A log is its own
 * {@link RunFollowers} (the followers to wake and the wake scheduler's marks), so an append reaches
 * them without a second object.
 *
 * @module
 */
import { type ErrorInfo, isTerminalType, type RunSnapshotEvent } from '../protocol/events.js';
import { AgentwireError } from '../protocol/errors.js';
import { RunFold, type RunFoldLimits } from '../reducer/run-fold.js';
import { initialRunState, type RunState } from '../protocol/run-state.js';
import { JsonEvent } from './json-event.js';
import { type Checkpoint, checkpointBefore, evict, newestCheckpointAt } from './log-eviction.js';
import { packAfterAppend, RECENT_EVENTS } from './log-packing.js';
import type { MemoryStoreOptions } from './memory-store-options.js';
import { PackedLog } from './packed-log.js';
import { RunFollowers } from './run-followers.js';
import { stateLimits } from './state-limits.js';
import type { RunRecord, StoredEvent } from './store.js';

/** The bounds every run's log keeps within, derived once from the store's options. */
export interface LogBounds {
  readonly maxEventsPerRun: number;
  readonly maxBytesPerRun: number;
  /** Most events kept unpacked. */
  readonly recentCap: number;
  /** How often (in events or JSON length) appending leaves a checkpoint. */
  readonly chunkEvents: number;
  readonly chunkBytes: number;
  readonly stateLimits: RunFoldLimits;
}

/** The bounds of {@link RunLog}s for these options. */
export function logBounds(options: Required<MemoryStoreOptions>): LogBounds {
  return {
    maxEventsPerRun: options.maxEventsPerRun,
    maxBytesPerRun: options.maxBytesPerRun,
    recentCap: Math.min(RECENT_EVENTS, Math.max(1, options.maxEventsPerRun >> 1)),
    chunkEvents: Math.max(1, options.maxEventsPerRun >> 4),
    chunkBytes: Math.max(1, options.maxBytesPerRun >> 4),
    stateLimits: stateLimits(options.maxBytesPerRun),
  };
}

/** The state before any event, shared by every new run (a fold never mutates the state it starts from). */
const INITIAL_STATE: RunState = initialRunState();

/** See the module comment. Its fields are the store's own, shared with the packing and eviction modules. */
export class RunLog extends RunFollowers {
  /** The record; `lastSeq` is kept in {@link RunLog.lastSeq} and copied in when the record is read. */
  readonly #record: RunRecord;
  /** `seq` of the last event appended. */
  lastSeq: number;
  readonly bounds: LogBounds;
  /** The newest events, each held as its JSON (a {@link JsonEvent}). */
  recent: StoredEvent[] = [];
  /** JSON length of the events in `recent` (UTF-16 units: about bytes for typical JSON). */
  recentBytes = 0;
  /** Events from `evictedSeq + 1` up to the first recent one. */
  packed: PackedLog;
  /** State of every event appended so far: created at the first append, released when the run ends (into `final`). */
  fold: RunFold | undefined = undefined;
  /** The state of the whole run once it ended. */
  final: RunState | undefined = undefined;
  /** Cut points of the eviction, oldest first; the newest is always before the newest event. */
  readonly checkpoints: Checkpoint[] = [];
  eventsSinceCheckpoint = 0;
  bytesSinceCheckpoint = 0;
  /** The `run.snapshot` of every evicted event, serialised once for every late reader; `undefined`: nothing evicted. */
  snapshot: StoredEvent | undefined = undefined;
  /** The seq the snapshot stands for (0: nothing evicted). */
  evictedSeq = 0;
  /** Why the store itself ended the run (`AW_OVERLOADED`), told to the appends it then refuses. */
  stoppedBy: ErrorInfo | undefined = undefined;
  /** Created on first use: most runs are never cancelled, and thousands are retained. */
  cancelListeners: Set<(reason: string) => void> | undefined = undefined;
  /** Called once when a terminal event ends the run (the store's owner count). */
  readonly #onEnd: (record: RunRecord) => void;
  /*
   * Kept as each append changes them, in this object, so an append reads no other to know whether
   * the log is within its bounds: its record and packed events are untouched unless they change
   * (with thousands of runs, each appended to now and then, every other object is a cache miss).
   */
  #ended: boolean;
  #footprint = 0;
  #held = 0;

  constructor(record: RunRecord, bounds: LogBounds, onEnd: (record: RunRecord) => void) {
    super();
    this.#record = { ...record };
    this.lastSeq = record.lastSeq;
    this.#ended = record.status !== 'running';
    this.bounds = bounds;
    this.packed = new PackedLog(record.lastSeq + 1);
    this.#onEnd = onEnd;
  }

  /** The run's record, up to date (the object itself: callers copy it to hand it out). */
  get record(): RunRecord {
    this.#record.lastSeq = this.lastSeq;
    return this.#record;
  }

  /** True once the run ended: nothing more is appended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** What the run takes, as `maxBytesPerRun` counts it: the JSON of its retained events and of its snapshot. */
  get footprint(): number {
    return this.#footprint;
  }

  /** Events retained (packed and recent). */
  get held(): number {
    return this.#held;
  }

  /** Counts the footprint and the events held again, after an eviction changed them. */
  recount(): void {
    this.#footprint = this.packed.jsonLength + this.recentBytes + (this.snapshot?.json.length ?? 0);
    this.#held = this.packed.length + this.recent.length;
  }

  /** Appends one event (throws, changing nothing, unless it may come next). Returns the change of the footprint. */
  append(stored: StoredEvent): number {
    this.#checkNext(stored, this.lastSeq + 1, this.#ended);
    const before = this.#footprint;
    this.#add(stored);
    this.#settle();
    return this.#footprint - before;
  }

  /** Appends a batch, all or nothing (every event is checked first). Returns the change of the footprint. */
  appendBatch(events: readonly StoredEvent[]): number {
    let expected = this.lastSeq + 1;
    let ended = this.#ended;
    for (const stored of events) {
      this.#checkNext(stored, expected++, ended);
      ended = isTerminalType(stored.type);
    }
    const before = this.#footprint;
    for (const stored of events) {
      this.#add(stored);
      // Evicting as the batch goes, like appends one by one: a batch past a bound is cut in chunks.
      evict(this);
    }
    this.#settle();
    return this.#footprint - before;
  }

  /** Records the run as failed without a terminal event (see `RunStore.endRun`). */
  endWithoutTerminal(error: ErrorInfo): void {
    const endedAt = Date.now();
    this.#record.status = 'failed';
    this.#record.endedAt = endedAt;
    this.#ended = true;
    this.cancelListeners = undefined;
    // Ended as a terminal event ends it: its owner's slot is free, and the state served says so.
    this.#onEnd(this.record);
    this.final = { ...(this.fold?.state ?? INITIAL_STATE), status: 'failed', error, endedAt, statusMessage: undefined };
    this.#release();
  }

  /**
   * Up to `max` events (and `maxBytes` of JSON, at least one event) after `after`; a snapshot first
   * when the events after `after` were evicted.
   */
  read(after: number, max: number, maxBytes: number): StoredEvent[] {
    if (after < this.evictedSeq) {
      // The subscriber's next events were evicted: the snapshot stands for them, and the retained
      // events follow it (a `read` must return the whole tail, not the snapshot alone).
      return [this.snapshot as StoredEvent, ...this.read(this.evictedSeq, max - 1, maxBytes)];
    }
    const { packed, recent } = this;
    // Packed events first (only a reader that is behind has any), then the recent objects as they
    // are; an up-to-date reader (every live wake-up) allocates nothing but the slice it gets.
    let result: StoredEvent[] | undefined;
    let bytes = 0;
    for (let index = Math.max(0, after + 1 - packed.firstSeq); index < packed.length && (result?.length ?? 0) < max; index++) {
      bytes += packed.jsonLengthAt(index);
      if (bytes > maxBytes && result) return result;
      (result ??= []).push(packed.at(index));
    }
    const start = Math.max(0, after + 1 - (packed.firstSeq + packed.length));
    let end = Math.min(recent.length, start + max - (result?.length ?? 0));
    if (maxBytes !== Number.POSITIVE_INFINITY) {
      for (let index = start; index < end; index++) {
        bytes += (recent[index] as StoredEvent).json.length;
        if (bytes > maxBytes) {
          end = Math.max(index, result ? start : start + 1);
          break;
        }
      }
    }
    const tail = start >= end ? [] : recent.slice(start, end);
    return result ? result.concat(tail) : tail;
  }

  /**
   * The state of every event (nothing read or parsed), or with `at` the state after the event `at`:
   * folded from the newest checkpoint at or before it, so at most one checkpoint interval of events
   * is parsed while the run is running (once it ended only the newest checkpoint is kept: before it,
   * the state is folded from the snapshot, at most the retained events); `undefined` when `at` is past the last event or before the retained ones.
   */
  state(at?: number): RunState | undefined {
    if (at === undefined || at === this.lastSeq) return this.final ?? this.fold?.state ?? INITIAL_STATE;
    if (at > this.lastSeq || at < this.evictedSeq) return undefined;
    const base = newestCheckpointAt(this, at);
    const from = base?.seq ?? this.evictedSeq;
    const fold = new RunFold(base?.state ?? (this.snapshot?.event as RunSnapshotEvent | undefined)?.state ?? INITIAL_STATE, this.bounds.stateLimits);
    for (const stored of this.read(from, at - from, Number.POSITIVE_INFINITY)) fold.add(stored.event, stored.json.length);
    return fold.state;
  }

  /** Adds one checked event to the recent events, ending the run at a terminal one: folded here, kept as its JSON. */
  #add(stored: StoredEvent): void {
    const length = stored.json.length;
    const event = stored.event;
    checkpointBefore(this, length);
    (this.fold ??= new RunFold(INITIAL_STATE, this.bounds.stateLimits)).add(event, length);
    this.recent.push(JsonEvent.kept(stored));
    this.recentBytes += length;
    this.#footprint += length;
    this.#held++;
    this.eventsSinceCheckpoint++;
    this.bytesSinceCheckpoint += length;
    this.lastSeq = stored.seq;
    if (isTerminalType(stored.type)) {
      this.#record.status = stored.type === 'run.finished' ? 'finished' : stored.type === 'run.failed' ? 'failed' : 'cancelled';
      this.#record.endedAt = event.at;
      this.#ended = true;
      this.cancelListeners = undefined;
      this.#onEnd(this.record);
    }
  }

  /** Throws unless `stored` may be appended next: the run has not ended and it has the expected seq. */
  #checkNext(stored: StoredEvent, expected: number, ended: boolean): void {
    if (!ended && stored.seq === expected) return;
    // The record is read only to say which run refused (an append that passes touches nothing but this log).
    const runId = this.#record.id;
    if (ended && this.stoppedBy) throw new AgentwireError('AW_OVERLOADED', `run ${runId} was stopped by the store: ${this.stoppedBy.message}`);
    if (ended) throw new AgentwireError('AW_INTERNAL', `run ${runId} already ended; cannot append ${stored.type}`);
    throw new AgentwireError('AW_INTERNAL', `run ${runId}: expected seq ${expected}, got ${stored.seq}`);
  }

  /** Packs and evicts after an append; an ended run keeps its final state and lets go of the fold. */
  #settle(): void {
    packAfterAppend(this);
    evict(this);
    if (this.#ended) {
      this.final = this.fold?.state;
      this.#release();
    }
  }

  /**
   * Lets go of the fold and of every checkpoint but the newest once the run ended: each holds its
   * own copy of up to the state's bound of text, and a finished run is retained for long. `state(at)`
   * of an ended run near its end (a resume) folds from the one kept; before it, from the snapshot
   * (parsing at most the retained events).
   */
  #release(): void {
    this.fold = undefined;
    this.checkpoints.splice(0, this.checkpoints.length - 1);
  }
}


