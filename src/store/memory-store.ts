/**
 * The in-memory run log: the default store. Bounded per run in events and bytes (beyond the bound
 * the oldest events are evicted and folded into a snapshot state, so a late subscriber starts from
 * a `run.snapshot`; the snapshot counts toward the bytes, its answer text and log lines truncated to
 * fit), and in all (`maxRetainedBytes`, checked at every append: a running run that grows past it
 * is failed with `AW_OVERLOADED`), with finished runs retained for a while.
 *
 * Its parts: {@link RunLog} (one run's log, with `log-packing.ts` and `log-eviction.ts`),
 * {@link RetainedRuns} (retention and the budget), {@link WakeScheduler} (when followers wake),
 * {@link Follower} (a follow), {@link MemoryIdempotency} and {@link OwnerRunCounts}.
 *
 * @module
 */
import type { ErrorInfo } from '../protocol/events.js';
import { AgentwireError } from '../protocol/errors.js';
import type { RunState } from '../protocol/run-state.js';
import { Follower } from './follower.js';
import { MemoryIdempotency } from './memory-idempotency.js';
import { type MemoryStoreOptions, resolveMemoryStoreOptions } from './memory-store-options.js';
import { LogFollowSource, type StoreStatus } from './log-follow-source.js';
import { OwnerRunCounts } from './owner-run-counts.js';
import { RetainedRuns } from './retained-runs.js';
import { type LogBounds, logBounds, RunLog } from './run-log.js';
import { type CreateRunOptions, type FollowOptions, type IdempotencyEntry, type RunRecord, type RunStore, type StoredEvent, toStoredEvent } from './store.js';
import { WakeScheduler } from './wake-scheduler.js';

export type { MemoryStoreOptions } from './memory-store-options.js';

/** The default, in-process {@link RunStore}. */
export class MemoryStore implements RunStore {
  readonly #bounds: LogBounds;
  readonly #runs: RetainedRuns;
  readonly #wakes = new WakeScheduler();
  readonly #ownerRuns = new OwnerRunCounts();
  readonly #idempotency = new MemoryIdempotency();
  readonly #onEnd = (record: RunRecord): void => {
    if (record.owner !== undefined) this.#ownerRuns.remove(record.owner);
    this.#runs.ended();
  };
  /** Whether the store closed, shared with every follower's source. */
  readonly #status: StoreStatus = { closed: false };

  constructor(options: MemoryStoreOptions = {}) {
    const resolved = resolveMemoryStoreOptions(options);
    this.#bounds = logBounds(resolved);
    this.#runs = new RetainedRuns(resolved);
  }

  async createRun(record: RunRecord, options: CreateRunOptions = {}): Promise<void> {
    if (this.#runs.has(record.id)) throw new AgentwireError('AW_INTERNAL', `run ${record.id} already exists`);
    this.#runs.makeRoom();
    // Checked and counted before any await: concurrent starts cannot pass the limit.
    if (record.status === 'running' && record.owner !== undefined) this.#ownerRuns.add(record.owner, options.maxRunsPerOwner);
    this.#runs.add(new RunLog(record, this.#bounds, this.#onEnd));
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
    return this.#runs.get(runId)?.state(at);
  }

  /** Bytes all retained runs take, as `maxRetainedBytes` counts them (for tests and metrics). */
  get retainedBytes(): number {
    return this.#runs.bytes;
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
    const log = this.#logOf(runId);
    this.#runs.account(log.appendBatch(events));
    this.#withinBudget(log);
    this.#wakes.wake(log);
  }

  /** One event at a time, synchronously, bound to the run: see {@link RunStore.openAppender}. */
  openAppender(runId: string): (event: StoredEvent) => void {
    const log = this.#logOf(runId);
    return (stored) => {
      this.#runs.account(log.append(stored));
      this.#withinBudget(log);
      this.#wakes.wake(log);
    };
  }

  /** See {@link RunStore.endRun}: the record says `failed`, and every follower ends. */
  async endRun(runId: string, error: ErrorInfo): Promise<void> {
    const log = this.#runs.get(runId);
    if (!log || log.ended) return;
    log.endWithoutTerminal(error);
    this.#wakes.wake(log);
  }

  async read(runId: string, after: number): Promise<StoredEvent[]> {
    return this.#runs.get(runId)?.read(after, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY) ?? [];
  }

  follow(runId: string, after: number, options: FollowOptions = {}): AsyncIterable<StoredEvent[]> {
    const log = this.#runs.get(runId);
    if (!log) return nothing();
    const maxBatch = options.maxBatch ?? 512;
    const maxBatchBytes = options.maxBatchBytes ?? 256 * 1024;
    return new Follower(new LogFollowSource(log, maxBatch, maxBatchBytes, this.#status), after, options.signal);
  }

  async requestCancel(runId: string, reason: string): Promise<boolean> {
    const log = this.#runs.get(runId);
    if (!log || log.ended) return false;
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
    this.#status.closed = true;
    this.#runs.close();
    for (const log of this.#runs.values()) log.wakeAll();
  }

  /** Number of runs held (for tests and metrics). */
  get size(): number {
    return this.#runs.size;
  }

  /**
   * After an append to `log`: past `maxRetainedBytes`, drops finished runs (the oldest first); when
   * running runs alone are still past it, fails the run that grew (a `run.failed` coded
   * `AW_OVERLOADED`), so running runs cannot take the budget times however many run at once. The
   * run's next append throws, and its agent is stopped as on any refused append.
   */
  #withinBudget(log: RunLog): void {
    if (!this.#runs.shed() || log.ended) return;
    const error = { code: 'AW_OVERLOADED', message: `retained runs passed the store's budget (maxRetainedBytes ${this.#runs.budget} bytes) as this run grew` };
    this.#runs.account(log.append(toStoredEvent({ type: 'run.failed', seq: log.record.lastSeq + 1, at: Date.now(), error })));
    log.stoppedBy = error;
  }

  #logOf(runId: string): RunLog {
    const log = this.#runs.get(runId);
    if (!log) throw new AgentwireError('AW_RUN_NOT_FOUND', `run ${runId} not found`);
    return log;
  }
}

/** The follow of an unknown run: ends at once. */
async function* nothing(): AsyncGenerator<StoredEvent[]> {}
