/**
 * The runs an in-memory store holds, and what they take: finished runs are retained for
 * `retentionMs`, at most `maxRuns` runs in all, and within `maxRetainedBytes` (the oldest finished
 * runs go first; when running runs alone take the budget, new runs are refused, and a running run
 * that grows past it is failed by the store).
 *
 * @module
 */
import { AgentwireError } from '../protocol/errors.js';
import type { RunLog } from './run-log.js';

/** The bounds of {@link RetainedRuns}. */
export interface RetentionBounds {
  readonly retentionMs: number;
  readonly maxRuns: number;
  readonly maxRetainedBytes: number;
}

/** The store's runs by id, in creation order, with the sum of their footprints. */
export class RetainedRuns {
  readonly #bounds: RetentionBounds;
  readonly #runs = new Map<string, RunLog>();
  #bytes = 0;
  /** Runs held that have ended (so {@link shed} has nothing to look for when there are none). */
  #ended = 0;
  readonly #sweeper: ReturnType<typeof setInterval>;

  constructor(bounds: RetentionBounds) {
    this.#bounds = bounds;
    this.#sweeper = setInterval(() => this.sweep(), Math.min(bounds.retentionMs, 60_000));
    (this.#sweeper as { unref?: () => void }).unref?.();
  }

  /** Number of runs held. */
  get size(): number {
    return this.#runs.size;
  }

  /** The budget, `maxRetainedBytes`. */
  get budget(): number {
    return this.#bounds.maxRetainedBytes;
  }

  /** Sum of every run's footprint, as `maxRetainedBytes` counts it. */
  get bytes(): number {
    return this.#bytes;
  }

  get(runId: string): RunLog | undefined {
    return this.#runs.get(runId);
  }

  has(runId: string): boolean {
    return this.#runs.has(runId);
  }

  /** The runs, oldest first. */
  values(): IterableIterator<RunLog> {
    return this.#runs.values();
  }

  /**
   * Makes room for a new run: drops finished runs, the oldest first, while over the budget; throws
   * `AW_OVERLOADED` when running runs alone take it.
   */
  makeRoom(): void {
    if (this.shed()) {
      throw new AgentwireError(
        'AW_OVERLOADED',
        `running runs hold ${this.#bytes} bytes, past the store's budget (maxRetainedBytes ${this.#bounds.maxRetainedBytes}); try again when some have ended`,
      );
    }
  }

  /**
   * Drops finished runs, the oldest first, while over the budget. Returns true when running runs
   * alone still take more than it.
   */
  shed(): boolean {
    if (!this.#overBudget()) return false;
    if (this.#ended > 0) {
      for (const [id, log] of this.#runs) {
        if (log.ended) this.#drop(id, log);
        if (!this.#overBudget() || this.#ended === 0) break;
      }
    }
    return this.#overBudget();
  }

  /** A held run ended (its bytes may now go to make room). */
  ended(): void {
    this.#ended++;
  }

  /** Adds a new run; past `maxRuns`, the oldest finished one goes. */
  add(log: RunLog): void {
    this.#runs.set(log.record.id, log);
    this.#bytes += log.footprint;
    if (this.#runs.size > this.#bounds.maxRuns) this.#dropOldestFinished();
  }

  /** A run's footprint changed by `delta` (an append). */
  account(delta: number): void {
    this.#bytes += delta;
  }

  /** Drops the runs that ended `retentionMs` ago or more. */
  sweep(now = Date.now()): void {
    for (const [id, log] of this.#runs) {
      if (log.record.endedAt !== undefined && now - log.record.endedAt >= this.#bounds.retentionMs) this.#drop(id, log);
    }
  }

  /** Stops the sweeper. */
  close(): void {
    clearInterval(this.#sweeper);
  }

  #overBudget(): boolean {
    return this.#bytes > this.#bounds.maxRetainedBytes;
  }

  #dropOldestFinished(): void {
    for (const [id, log] of this.#runs) {
      if (log.ended) {
        this.#drop(id, log);
        return;
      }
    }
  }

  #drop(id: string, log: RunLog): void {
    this.#runs.delete(id);
    this.#bytes -= log.footprint;
    if (log.ended) this.#ended--;
  }
}
