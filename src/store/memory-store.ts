/**
 * The in-memory run log: the default store. Bounded per run in events and bytes (beyond the bound
 * the oldest events are evicted and folded into a snapshot state, so a late subscriber starts from
 * a `run.snapshot`), with finished runs retained for a while.
 *
 * @module
 */
import type { RunSnapshotEvent } from '../protocol/events.js';
import { isTerminalType } from '../protocol/events.js';
import { AgentwireError } from '../protocol/errors.js';
import { reduceAll } from '../reducer/reduce.js';
import { initialRunState, type RunState } from '../reducer/run-state.js';
import { type FollowOptions, type RunRecord, type RunStore, type StoredEvent, toStoredEvent } from './store.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Most events kept per run; older ones are evicted into a snapshot. @defaultValue 100000 */
  maxEventsPerRun?: number;
  /**
   * Most bytes kept per run, counted as twice the JSON length (each event is held both as an object
   * and as its JSON). @defaultValue 16777216 (16 MiB)
   */
  maxBytesPerRun?: number;
  /** How long a finished run stays readable, in ms. @defaultValue 600000 (10 min) */
  retentionMs?: number;
  /** Most runs kept in total; the oldest finished runs go first. @defaultValue 10000 */
  maxRuns?: number;
}

const DEFAULTS = Object.freeze({
  maxEventsPerRun: 100_000,
  maxBytesPerRun: 16 * 1024 * 1024,
  retentionMs: 10 * 60 * 1000,
  maxRuns: 10_000,
});

/** One run's log. Entries live in `entries[head…]`; `head` moves on eviction, compacted lazily. */
interface RunLog {
  record: RunRecord;
  entries: StoredEvent[];
  head: number;
  bytes: number;
  /** State of every evicted event, and the seq it stands for (0: nothing evicted). */
  evictedState: RunState;
  evictedSeq: number;
  waiters: Set<() => void>;
  cancelListeners: Set<(reason: string) => void>;
}

/** The default, in-process {@link RunStore}. */
export class MemoryStore implements RunStore {
  readonly #options: Required<MemoryStoreOptions>;
  readonly #runs = new Map<string, RunLog>();
  readonly #pendingWake = new Set<RunLog>();
  #wakeScheduled = false;
  #closed = false;
  readonly #sweeper: ReturnType<typeof setInterval>;

  constructor(options: MemoryStoreOptions = {}) {
    this.#options = { ...DEFAULTS, ...stripUndefined(options) };
    for (const [name, value] of Object.entries(this.#options)) {
      if (!Number.isFinite(value) || value < 1) {
        throw new AgentwireError('AW_INVALID_OPTION', `MemoryStore option ${name} must be a positive number, got ${value}`);
      }
    }
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(this.#options.retentionMs, 60_000));
    (this.#sweeper as { unref?: () => void }).unref?.();
  }

  async createRun(record: RunRecord): Promise<void> {
    if (this.#runs.has(record.id)) throw new AgentwireError('AW_INTERNAL', `run ${record.id} already exists`);
    this.#runs.set(record.id, {
      record: { ...record },
      entries: [],
      head: 0,
      bytes: 0,
      evictedState: initialRunState(),
      evictedSeq: 0,
      waiters: new Set(),
      cancelListeners: new Set(),
    });
    if (this.#runs.size > this.#options.maxRuns) this.#evictOldestFinished();
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
    const log = this.#runs.get(runId);
    if (!log) throw new AgentwireError('AW_RUN_NOT_FOUND', `run ${runId} not found`);
    // Check the whole batch first: an append is all or nothing.
    let expected = log.record.lastSeq + 1;
    let ended = log.record.status !== 'running';
    for (const stored of events) {
      if (ended) throw new AgentwireError('AW_INTERNAL', `run ${runId} already ended; cannot append ${stored.type}`);
      if (stored.seq !== expected) throw new AgentwireError('AW_INTERNAL', `run ${runId}: expected seq ${expected}, got ${stored.seq}`);
      expected++;
      ended = isTerminalType(stored.type);
    }
    for (const stored of events) {
      log.entries.push(stored);
      log.bytes += heldBytes(stored);
      log.record.lastSeq = stored.seq;
      if (isTerminalType(stored.type)) {
        log.record.status =
          stored.type === 'run.finished' ? 'finished' : stored.type === 'run.failed' ? 'failed' : 'cancelled';
        log.record.endedAt = stored.event.at;
        log.cancelListeners.clear();
      }
    }
    this.#evict(log);
    this.#wake(log);
  }

  async read(runId: string, after: number): Promise<StoredEvent[]> {
    const log = this.#runs.get(runId);
    return log ? this.#readNow(log, after, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY) : [];
  }

  async *follow(runId: string, after: number, options: FollowOptions = {}): AsyncIterable<StoredEvent[]> {
    const log = this.#runs.get(runId);
    if (!log) return;
    const { signal } = options;
    const maxBatch = options.maxBatch ?? 512;
    const maxBatchBytes = options.maxBatchBytes ?? 256 * 1024;
    // One abort listener for the whole follow, not one per wait: it wakes the pending wait.
    let wake: (() => void) | undefined;
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let cursor = after;
      while (!signal?.aborted) {
        const batch = this.#readNow(log, cursor, maxBatch, maxBatchBytes);
        if (batch.length > 0) {
          const last = batch[batch.length - 1] as StoredEvent;
          cursor = last.seq;
          yield batch;
          if (isTerminalType(last.type)) return;
          continue;
        }
        if (log.record.status !== 'running' || this.#closed) return;
        await new Promise<void>((resolve) => {
          const done = () => {
            log.waiters.delete(done);
            wake = undefined;
            resolve();
          };
          log.waiters.add(done);
          wake = done;
        });
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async requestCancel(runId: string, reason: string): Promise<boolean> {
    const log = this.#runs.get(runId);
    if (!log || log.record.status !== 'running') return false;
    for (const listener of [...log.cancelListeners]) listener(reason);
    return true;
  }

  onCancel(runId: string, listener: (reason: string) => void): () => void {
    const log = this.#runs.get(runId);
    if (!log) return () => {};
    log.cancelListeners.add(listener);
    return () => log.cancelListeners.delete(listener);
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
    const firstSeq = log.record.lastSeq - (log.entries.length - log.head) + 1;
    if (after < log.evictedSeq) {
      // The subscriber's next events were evicted: the snapshot stands for them, and the retained
      // events follow it (a `read` must return the whole tail, not the snapshot alone).
      return [this.#snapshot(log), ...this.#readNow(log, log.evictedSeq, max - 1, maxBytes)];
    }
    const start = log.head + Math.max(0, after - firstSeq + 1);
    let end = Math.min(log.entries.length, start + max);
    if (maxBytes !== Number.POSITIVE_INFINITY) {
      let bytes = 0;
      for (let index = start; index < end; index++) {
        bytes += (log.entries[index] as StoredEvent).json.length;
        if (bytes > maxBytes) {
          end = Math.max(index, start + 1);
          break;
        }
      }
    }
    return start >= end ? [] : log.entries.slice(start, end);
  }

  #snapshot(log: RunLog): StoredEvent {
    const event: RunSnapshotEvent & { seq: number; at: number } = {
      type: 'run.snapshot',
      seq: log.evictedSeq,
      at: Date.now(),
      state: log.evictedState,
    };
    return toStoredEvent(event);
  }

  #evict(log: RunLog): void {
    const { maxEventsPerRun, maxBytesPerRun } = this.#options;
    if (log.entries.length - log.head <= maxEventsPerRun && log.bytes <= maxBytesPerRun) return;
    // Over a bound: evict down to 15/16 of it (large bounds), so a long run folds its old events
    // into the snapshot in chunks rather than one per append.
    const eventTarget = maxEventsPerRun >= 1024 ? maxEventsPerRun - (maxEventsPerRun >> 4) : maxEventsPerRun;
    const byteTarget = maxBytesPerRun >= 65_536 ? maxBytesPerRun - (maxBytesPerRun >> 4) : maxBytesPerRun;
    const from = log.head;
    // Keep at least the newest event so the log never loses its tail.
    while (log.entries.length - log.head > 1 && (log.entries.length - log.head > eventTarget || log.bytes > byteTarget)) {
      log.bytes -= heldBytes(log.entries[log.head] as StoredEvent);
      log.head++;
    }
    if (log.head > from) {
      const evicted = log.entries.slice(from, log.head);
      log.entries.fill(undefined as unknown as StoredEvent, from, log.head);
      log.evictedState = reduceAll(
        evicted.map((stored) => stored.event),
        log.evictedState,
      );
      log.evictedSeq = (evicted[evicted.length - 1] as StoredEvent).seq;
    }
    if (log.head > 1024 && log.head * 2 > log.entries.length) {
      log.entries = log.entries.slice(log.head);
      log.head = 0;
    }
  }

  /**
   * Wakes followers once per turn of the event loop rather than once per event: a producer that
   * appends in a burst is read in one batch (one socket write), at the cost of well under a
   * millisecond of latency.
   */
  #wake(log: RunLog): void {
    if (log.waiters.size === 0) return;
    this.#pendingWake.add(log);
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      const logs = [...this.#pendingWake];
      this.#pendingWake.clear();
      for (const pending of logs) this.#wakeNow(pending);
    });
  }

  #wakeNow(log: RunLog): void {
    for (const waiter of [...log.waiters]) waiter();
  }

  #sweep(now = Date.now()): void {
    for (const [id, log] of this.#runs) {
      if (log.record.endedAt !== undefined && now - log.record.endedAt >= this.#options.retentionMs) this.#runs.delete(id);
    }
  }

  #evictOldestFinished(): void {
    for (const [id, log] of this.#runs) {
      if (log.record.status !== 'running') {
        this.#runs.delete(id);
        return;
      }
    }
  }
}

/** Approximate memory an entry holds: the event object and its JSON, each about the JSON's size. */
function heldBytes(stored: StoredEvent): number {
  return stored.json.length * 2;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
