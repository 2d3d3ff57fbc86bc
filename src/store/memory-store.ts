/**
 * The in-memory run log: the default store. Bounded per run in events and bytes (beyond the bound
 * the oldest events are evicted and folded into a snapshot state, so a late subscriber starts from
 * a `run.snapshot`; the snapshot counts toward the bytes, its answer text and log lines truncated to
 * fit), and in all (`maxRetainedBytes`), with finished runs retained for a while.
 *
 * @module
 */
import type { ErrorInfo, RunSnapshotEvent } from '../protocol/events.js';
import { isTerminalType } from '../protocol/events.js';
import { AgentwireError } from '../protocol/errors.js';
import { RunFold, type RunFoldLimits } from '../reducer/run-fold.js';
import { initialRunState, type RunState } from '../reducer/run-state.js';
import { Follower } from './follower.js';
import { JsonEvent } from './json-event.js';
import { MemoryIdempotency } from './memory-idempotency.js';
import { OwnerRunCounts } from './owner-run-counts.js';
import { PackedLog } from './packed-log.js';
import { stateLimits } from './state-limits.js';
import { type CreateRunOptions, type FollowOptions, type IdempotencyEntry, type RunRecord, type RunStore, type StoredEvent, toStoredEvent } from './store.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Most events kept per run; older ones are evicted into a snapshot. @defaultValue 100000 */
  maxEventsPerRun?: number;
  /**
   * Most bytes of JSON kept per run, the `run.snapshot` of its evicted events included (counted in
   * UTF-16 units: about bytes for typical JSON): a replay from 0 sends at most this much. Beyond its
   * newest 256 events a run's log is packed into one string per batch, so this is about the memory
   * the log takes. The run's state (its snapshot) keeps at most an eighth of it of answer text and
   * an eighth of step log lines and step text, the newest: older ones are dropped and counted in the
   * state's `truncated`. When the rest of the state alone (tool calls, data) nears the bound, the
   * retained events give way down to 1/16 of the bound (and the newest event is always kept), so
   * then the run goes past it by that much. @defaultValue 16777216 (16 MiB)
   */
  maxBytesPerRun?: number;
  /** How long a finished run stays readable, in ms. @defaultValue 600000 (10 min) */
  retentionMs?: number;
  /** Most runs kept in total; the oldest finished runs go first. @defaultValue 10000 */
  maxRuns?: number;
  /**
   * Most bytes all retained runs may take in all (each counted as in `maxBytesPerRun`), checked when
   * a run is created: past it the oldest finished runs are dropped first (a run that just ended
   * stays readable until a new one needs the room); when running runs alone take it, the new run is
   * refused with `AW_OVERLOADED` (503) until some end, while running runs go on (each within its
   * own bound). @defaultValue 268435456 (256 MiB)
   */
  maxRetainedBytes?: number;
}

const DEFAULTS = Object.freeze({
  maxEventsPerRun: 100_000,
  maxBytesPerRun: 16 * 1024 * 1024,
  retentionMs: 10 * 60 * 1000,
  maxRuns: 10_000,
  maxRetainedBytes: 256 * 1024 * 1024,
});

/**
 * The newest events a run keeps one by one, as {@link JsonEvent}s (its live followers read these):
 * at most this many, and at most this much JSON (so packing joins at most about that much).
 */
const RECENT_EVENTS = 256;
const RECENT_JSON_LENGTH = 1024 * 1024;
/** A run that ends with at least this many unpacked events is packed whole. */
const PACK_AT_END = 32;

/** The state before any event, shared by every new run (a fold never mutates the state it starts from). */
const INITIAL_STATE: RunState = initialRunState();

/** A state the eviction may cut at: every event up to `seq`, folded (`seq` may not be packed yet). */
interface Checkpoint {
  seq: number;
  state: RunState;
}

/**
 * One run's log: the newest events one by one in `recent`, older ones packed (see
 * {@link PackedLog}), and the snapshot of the evicted ones. Each event is folded into `fold` as it
 * is appended, while its object is at hand; a checkpoint of that state is kept every 1/16 of the
 * bounds (and before an append that goes over one), so eviction cuts at a checkpoint and never has
 * to parse what it evicts. The log itself keeps only each event's JSON.
 */
interface RunLog {
  record: RunRecord;
  recent: JsonEvent[];
  /** JSON length of the events in `recent` (UTF-16 units: about bytes for typical JSON). */
  recentBytes: number;
  /** Events from `evictedSeq + 1` up to the first recent one. */
  packed: PackedLog;
  /** State of every event appended so far: created at the first append, released when the run ends (into `final`). */
  fold: RunFold | undefined;
  /** The state of the whole run once it ended. */
  final: RunState | undefined;
  /** Cut points, oldest first; the newest is always before the newest event. */
  checkpoints: Checkpoint[];
  eventsSinceCheckpoint: number;
  bytesSinceCheckpoint: number;
  /** The `run.snapshot` of every evicted event, serialised once for every late reader; `undefined`: nothing evicted. */
  snapshot: StoredEvent | undefined;
  /** The seq the snapshot stands for (0: nothing evicted). */
  evictedSeq: number;
  /** Created on first use: most finished runs never have either, and thousands are retained. */
  listeners: (() => void)[] | undefined;
  cancelListeners: Set<(reason: string) => void> | undefined;
}

/** The default, in-process {@link RunStore}. */
export class MemoryStore implements RunStore {
  readonly #options: Required<MemoryStoreOptions>;
  /** How many events a run keeps unpacked, and how often (in events or JSON bytes) appending leaves a checkpoint. */
  readonly #recentCap: number;
  readonly #chunkEvents: number;
  readonly #chunkBytes: number;
  readonly #stateLimits: RunFoldLimits;
  readonly #runs = new Map<string, RunLog>();
  /** Sum of every run's {@link footprint}. */
  #retainedBytes = 0;
  readonly #pendingWake = new Set<RunLog>();
  #wakeScheduled = false;
  #closed = false;
  readonly #sweeper: ReturnType<typeof setInterval>;
  readonly #ownerRuns = new OwnerRunCounts();
  readonly #idempotency = new MemoryIdempotency();

  constructor(options: MemoryStoreOptions = {}) {
    this.#options = { ...DEFAULTS, ...stripUndefined(options) };
    for (const [name, value] of Object.entries(this.#options)) {
      if (!Number.isFinite(value) || value < 1) {
        throw new AgentwireError('AW_INVALID_OPTION', `MemoryStore option ${name} must be a positive number, got ${value}`);
      }
    }
    this.#recentCap = Math.min(RECENT_EVENTS, Math.max(1, this.#options.maxEventsPerRun >> 1));
    this.#chunkEvents = Math.max(1, this.#options.maxEventsPerRun >> 4);
    this.#chunkBytes = Math.max(1, this.#options.maxBytesPerRun >> 4);
    this.#stateLimits = stateLimits(this.#options.maxBytesPerRun);
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(this.#options.retentionMs, 60_000));
    (this.#sweeper as { unref?: () => void }).unref?.();
  }

  async createRun(record: RunRecord, options: CreateRunOptions = {}): Promise<void> {
    if (this.#runs.has(record.id)) throw new AgentwireError('AW_INTERNAL', `run ${record.id} already exists`);
    if (this.#overBudget()) this.#dropFinished();
    if (this.#overBudget()) {
      throw new AgentwireError(
        'AW_OVERLOADED',
        `running runs hold ${this.#retainedBytes} bytes, past the store's budget (maxRetainedBytes ${this.#options.maxRetainedBytes}); try again when some have ended`,
      );
    }
    // Checked and counted before any await: concurrent starts cannot pass the limit.
    if (record.status === 'running' && record.owner !== undefined) this.#ownerRuns.add(record.owner, options.maxRunsPerOwner);
    this.#runs.set(record.id, {
      record: { ...record },
      recent: [],
      recentBytes: 0,
      packed: new PackedLog(record.lastSeq + 1),
      fold: undefined,
      final: undefined,
      checkpoints: [],
      eventsSinceCheckpoint: 0,
      bytesSinceCheckpoint: 0,
      snapshot: undefined,
      evictedSeq: 0,
      listeners: undefined,
      cancelListeners: undefined,
    });
    if (this.#runs.size > this.#options.maxRuns) this.#evictOldestFinished();
  }

  /**
   * The state of every event of the run, folded as they were appended (nothing is read or parsed):
   * `undefined` for an unknown run. An ended run keeps its final state for as long as it is retained.
   *
   * With `at`, the state after the event `at` instead: folded from the newest checkpoint at or before
   * it (one every 1/16 of the bounds), so at most that many events are parsed; `undefined` when `at`
   * is beyond the run's last event or before its retained events (a snapshot stands for those).
   */
  async state(runId: string, at?: number): Promise<RunState | undefined> {
    const log = this.#runs.get(runId);
    if (!log) return undefined;
    if (at === undefined || at === log.record.lastSeq) return log.final ?? log.fold?.state ?? INITIAL_STATE;
    if (at > log.record.lastSeq || at < log.evictedSeq) return undefined;
    const { checkpoints } = log;
    // The newest checkpoint at or before `at` (they are in seq order), else the snapshot.
    let low = 0;
    let high = checkpoints.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((checkpoints[middle] as Checkpoint).seq <= at) low = middle + 1;
      else high = middle;
    }
    const base = checkpoints[low - 1];
    const from = base?.seq ?? log.evictedSeq;
    const fold = new RunFold(base?.state ?? (log.snapshot?.event as RunSnapshotEvent | undefined)?.state ?? INITIAL_STATE, this.#stateLimits);
    for (const stored of this.#readNow(log, from, at - from, Number.POSITIVE_INFINITY)) fold.add(stored.event);
    return fold.state;
  }

  /** Bytes all retained runs take, as `maxRetainedBytes` counts them (for tests and metrics). */
  get retainedBytes(): number {
    return this.#retainedBytes;
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const log = this.#runs.get(runId);
    return log ? { ...log.record } : undefined;
  }

  async listRuns(filter: { owner?: string | undefined; limit?: number } = {}): Promise<RunRecord[]> {
    const limit = filter.limit ?? 50;
    const records = [...this.#runs.values()].map((log) => log.record);
    const result: RunRecord[] = [];
    for (let index = records.length - 1; index >= 0 && result.length < limit; index--) {
      const record = records[index] as RunRecord;
      if (filter.owner === undefined || record.owner === filter.owner) result.push({ ...record });
    }
    return result;
  }

  async append(runId: string, events: readonly StoredEvent[]): Promise<void> {
    this.appendNow(runId, events);
  }

  /** Synchronous {@link append}, for the runner's hot path. */
  appendNow(runId: string, events: readonly StoredEvent[]): void {
    const log = this.#logOf(runId);
    // Check the whole batch first: an append is all or nothing.
    let expected = log.record.lastSeq + 1;
    let ended = log.record.status !== 'running';
    for (const stored of events) {
      checkNext(runId, stored, expected++, ended);
      ended = isTerminalType(stored.type);
    }
    const before = footprint(log);
    for (const stored of events) {
      this.#add(log, stored);
      // Evicting as the batch goes, like appends one by one: a batch past a bound is cut in chunks.
      this.#evict(log);
    }
    this.#afterAppend(log, before);
  }

  /** One event at a time, bound to the run: see {@link RunStore.openAppender}. */
  openAppender(runId: string): (event: StoredEvent) => void {
    const log = this.#logOf(runId);
    return (stored) => {
      checkNext(runId, stored, log.record.lastSeq + 1, log.record.status !== 'running');
      const before = footprint(log);
      this.#add(log, stored);
      this.#afterAppend(log, before);
    };
  }

  #logOf(runId: string): RunLog {
    const log = this.#runs.get(runId);
    if (!log) throw new AgentwireError('AW_RUN_NOT_FOUND', `run ${runId} not found`);
    return log;
  }

  /**
   * Adds one checked event to the recent events, ending the run at a terminal one. The event is
   * folded into the run's state here, and kept as its JSON only.
   */
  #add(log: RunLog, stored: StoredEvent): void {
    const length = stored.json.length;
    if (
      log.eventsSinceCheckpoint > 0 &&
      (log.eventsSinceCheckpoint >= this.#chunkEvents || log.bytesSinceCheckpoint >= this.#chunkBytes || this.#overBound(log, 1, length))
    ) {
      // Due, or this event goes over a bound: the state before it is where eviction can cut.
      this.#checkpoint(log);
    }
    (log.fold ??= new RunFold(INITIAL_STATE, this.#stateLimits)).add(stored.event);
    log.recent.push(new JsonEvent(stored.seq, stored.type, stored.json));
    log.recentBytes += length;
    log.eventsSinceCheckpoint++;
    log.bytesSinceCheckpoint += length;
    log.record.lastSeq = stored.seq;
    if (isTerminalType(stored.type)) {
      log.record.status = stored.type === 'run.finished' ? 'finished' : stored.type === 'run.failed' ? 'failed' : 'cancelled';
      log.record.endedAt = stored.event.at;
      log.cancelListeners = undefined;
      if (log.record.owner !== undefined) this.#ownerRuns.remove(log.record.owner);
    }
  }

  /** Packs, evicts, accounts and wakes the followers after an append; `before` is the run's footprint before it. */
  #afterAppend(log: RunLog, before: number): void {
    if (log.record.status !== 'running' && log.recent.length >= PACK_AT_END) {
      // Nothing more will be appended, so nothing needs the events one by one: a finished run is
      // retained (10 min by default) as its packed JSON, one string per batch and a few bytes per
      // event in typed arrays. A short run is not worth the packing (2-3 % of a short
      // start-and-stream request's CPU).
      this.#pack(log, log.recent.length);
    } else if (log.recent.length > this.#recentCap || log.recentBytes > RECENT_JSON_LENGTH) this.#packOldHalf(log);
    this.#evict(log);
    if (log.record.status !== 'running') {
      // Ended: nothing more is folded or evicted, and a finished run is retained for a while.
      // The checkpoints stay: `state(runId, at)` folds from them (a short run has none).
      log.final = log.fold?.state;
      log.fold = undefined;
    }
    this.#retainedBytes += footprint(log) - before;
    this.#wake(log);
  }

  /** See {@link RunStore.endRun}: the record says `failed`, and every follower ends. */
  async endRun(runId: string, error: ErrorInfo): Promise<void> {
    const log = this.#runs.get(runId);
    if (!log || log.record.status !== 'running') return;
    const endedAt = Date.now();
    log.record.status = 'failed';
    log.record.endedAt = endedAt;
    log.cancelListeners = undefined;
    // Ended like a terminal event ends it: its owner's slot is free, and the state served says so.
    if (log.record.owner !== undefined) this.#ownerRuns.remove(log.record.owner);
    log.final = { ...(log.fold?.state ?? INITIAL_STATE), status: 'failed', error, endedAt, statusMessage: undefined };
    log.fold = undefined;
    this.#wake(log);
  }

  async read(runId: string, after: number): Promise<StoredEvent[]> {
    const log = this.#runs.get(runId);
    return log ? this.#readNow(log, after, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY) : [];
  }

  follow(runId: string, after: number, options: FollowOptions = {}): AsyncIterable<StoredEvent[]> {
    const log = this.#runs.get(runId);
    if (!log) return nothing();
    const maxBatch = options.maxBatch ?? 512;
    const maxBatchBytes = options.maxBatchBytes ?? 256 * 1024;
    return new Follower(
      {
        read: (cursor) => this.#readNow(log, cursor, maxBatch, maxBatchBytes),
        ended: () => log.record.status !== 'running' || this.#closed,
        listen: (wake) => {
          (log.listeners ??= []).push(wake);
          return () => {
            const index = log.listeners?.indexOf(wake) ?? -1;
            if (index >= 0) log.listeners?.splice(index, 1);
          };
        },
      },
      after,
      options.signal,
    );
  }

  async requestCancel(runId: string, reason: string): Promise<boolean> {
    const log = this.#runs.get(runId);
    if (!log || log.record.status !== 'running') return false;
    for (const listener of [...(log.cancelListeners ?? [])]) listener(reason);
    return true;
  }

  onCancel(runId: string, listener: (reason: string) => void): () => void {
    const log = this.#runs.get(runId);
    if (!log) return () => {};
    (log.cancelListeners ??= new Set()).add(listener);
    return () => log.cancelListeners?.delete(listener);
  }

  async claimIdempotencyKey(id: string, bodyHash: string, pendingMs: number): Promise<IdempotencyEntry | undefined> {
    return this.#idempotency.claim(id, bodyHash, pendingMs);
  }

  async bindIdempotencyKey(id: string, bodyHash: string, runId: string, ttlMs: number): Promise<void> {
    this.#idempotency.bind(id, bodyHash, runId, ttlMs);
  }

  async releaseIdempotencyKey(id: string): Promise<void> {
    this.#idempotency.release(id);
  }

  /** Stops the sweeper and ends every `follow` (they return as if their signal had aborted). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const log of this.#runs.values()) this.#wakeNow(log);
  }

  /** Number of runs held (for tests and metrics). */
  get size(): number {
    return this.#runs.size;
  }

  #readNow(log: RunLog, after: number, max: number, maxBytes: number): StoredEvent[] {
    if (after < log.evictedSeq) {
      // The subscriber's next events were evicted: the snapshot stands for them, and the retained
      // events follow it (a `read` must return the whole tail, not the snapshot alone).
      return [log.snapshot as StoredEvent, ...this.#readNow(log, log.evictedSeq, max - 1, maxBytes)];
    }
    const { packed, recent } = log;
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

  /** Packs the oldest recent events until at most half the recent bounds are left (and at least one event). */
  #packOldHalf(log: RunLog): void {
    const keepEvents = Math.max(1, this.#recentCap >> 1);
    let count = 0;
    let bytes = log.recentBytes;
    while (count < log.recent.length - 1 && (log.recent.length - count > keepEvents || bytes > RECENT_JSON_LENGTH / 2)) {
      bytes -= (log.recent[count] as StoredEvent).json.length;
      count++;
    }
    this.#pack(log, count);
  }

  /** Moves the oldest `count` recent events into the packed log. */
  #pack(log: RunLog, count: number): void {
    if (count <= 0) return;
    const moved = log.recent.splice(0, count);
    const before = log.packed.jsonLength;
    log.packed.append(moved);
    log.recentBytes -= log.packed.jsonLength - before;
  }

  /** Marks the newest event as a place eviction may cut, with the state of everything up to it. */
  #checkpoint(log: RunLog): void {
    if (!log.fold) return;
    log.checkpoints.push({ seq: log.record.lastSeq, state: log.fold.state });
    log.eventsSinceCheckpoint = 0;
    log.bytesSinceCheckpoint = 0;
  }

  /** True when the log, with `events` more events of `bytes` more JSON, is over a bound. */
  #overBound(log: RunLog, events: number, bytes: number): boolean {
    return log.packed.length + log.recent.length + events > this.#options.maxEventsPerRun || this.#overBytes(log, this.#options.maxBytesPerRun, bytes);
  }

  /**
   * True when the run, with `bytes` more JSON, is over `bound`, and its retained events hold at least
   * 1/16 of the byte bound: a snapshot that alone is near the bound (state that is not truncated:
   * tool calls, data) is built again once per 1/16 appended, not at every append.
   */
  #overBytes(log: RunLog, bound: number, bytes: number): boolean {
    return footprint(log) + bytes > bound && log.packed.jsonLength + log.recentBytes + bytes >= this.#chunkBytes;
  }

  #evict(log: RunLog): void {
    if (!this.#overBound(log, 0, 0)) return;
    const { maxEventsPerRun, maxBytesPerRun } = this.#options;
    const held = () => log.packed.length + log.recent.length;
    // Over a bound: evict down to 15/16 of it (large bounds), so a long run folds its old events
    // into the snapshot in chunks rather than one per append.
    const eventTarget = maxEventsPerRun >= 1024 ? maxEventsPerRun - (maxEventsPerRun >> 4) : maxEventsPerRun;
    const byteTarget = maxBytesPerRun >= 65_536 ? maxBytesPerRun - (maxBytesPerRun >> 4) : maxBytesPerRun;
    // The snapshot counts too, and its size is known once it is built: cut as if it kept the size of
    // the last one, build it once for where the cut ends, and cut again in the rare case it grew
    // past what was left for it.
    for (;;) {
      let cut: Checkpoint | undefined;
      // Cut at checkpoints, all before the newest event: the log never loses its tail.
      while (held() > 1 && (held() > eventTarget || this.#overBytes(log, byteTarget, 0)) && log.checkpoints.length > 0) {
        cut = log.checkpoints.shift() as Checkpoint;
        this.#dropThrough(log, cut.seq);
      }
      if (!cut) return;
      log.snapshot = toStoredEvent({ type: 'run.snapshot', seq: cut.seq, at: Date.now(), state: cut.state } satisfies RunSnapshotEvent & {
        seq: number;
        at: number;
      });
    }
  }

  /** Drops every retained event up to `seq` (the new evicted range's end). */
  #dropThrough(log: RunLog, seq: number): void {
    const packedEnd = log.packed.firstSeq + log.packed.length - 1;
    if (seq <= packedEnd) {
      log.packed.dropFirst(seq - log.packed.firstSeq + 1);
    } else {
      // The cut is among the recent events: drop them as they are (packing them first would join
      // their JSON only to drop it), and every packed one with them.
      for (const stored of log.recent.splice(0, seq - packedEnd)) log.recentBytes -= stored.json.length;
      log.packed = new PackedLog(seq + 1);
    }
    log.evictedSeq = seq;
  }

  /**
   * Wakes followers once per turn of the event loop (its check phase) rather than once per event:
   * a producer that appends in a burst is read in one batch (one socket write), at the cost of well
   * under a millisecond of latency. Waking from `process.nextTick` instead (right after the
   * microtask queue drains) was tried: 2,000 paced streams cost the gateway ~15 % more system time,
   * the writes of the streams woken in one timers phase no longer going out back to back.
   */
  #wake(log: RunLog): void {
    if (!log.listeners || log.listeners.length === 0) return;
    this.#pendingWake.add(log);
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setImmediate(this.#flushWakes);
  }

  readonly #flushWakes = (): void => {
    this.#wakeScheduled = false;
    const logs = [...this.#pendingWake];
    this.#pendingWake.clear();
    for (const pending of logs) this.#wakeNow(pending);
  };

  /** Calls every listener of the run (a listener may stop listening while called). */
  #wakeNow(log: RunLog): void {
    const listeners = log.listeners;
    if (!listeners || listeners.length === 0) return;
    if (listeners.length === 1) return (listeners[0] as () => void)();
    for (const listener of listeners.slice()) listener();
  }

  #sweep(now = Date.now()): void {
    for (const [id, log] of this.#runs) {
      if (log.record.endedAt !== undefined && now - log.record.endedAt >= this.#options.retentionMs) this.#drop(id, log);
    }
  }

  #evictOldestFinished(): void {
    for (const [id, log] of this.#runs) {
      if (log.record.status !== 'running') {
        this.#drop(id, log);
        return;
      }
    }
  }

  #overBudget(): boolean {
    return this.#retainedBytes > this.#options.maxRetainedBytes;
  }

  /** Drops finished runs, the oldest first, until the retained runs are within the budget (or none is left to drop). */
  #dropFinished(): void {
    for (const [id, log] of this.#runs) {
      if (!this.#overBudget()) return;
      if (log.record.status !== 'running') this.#drop(id, log);
    }
  }

  #drop(id: string, log: RunLog): void {
    this.#runs.delete(id);
    this.#retainedBytes -= footprint(log);
  }
}

/** What a run takes, as the bounds count it: the JSON of its retained events and of its snapshot. */
function footprint(log: RunLog): number {
  return log.packed.jsonLength + log.recentBytes + (log.snapshot?.json.length ?? 0);
}

/** Throws unless `stored` may be appended next: the run has not ended and it has the expected seq. */
function checkNext(runId: string, stored: StoredEvent, expected: number, ended: boolean): void {
  if (ended) throw new AgentwireError('AW_INTERNAL', `run ${runId} already ended; cannot append ${stored.type}`);
  if (stored.seq !== expected) throw new AgentwireError('AW_INTERNAL', `run ${runId}: expected seq ${expected}, got ${stored.seq}`);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

/** The follow of an unknown run: ends at once. */
async function* nothing(): AsyncGenerator<StoredEvent[]> {}
