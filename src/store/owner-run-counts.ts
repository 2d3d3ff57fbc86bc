/**
 * How many runs each owner has running, in one process: what an in-process store checks
 * `maxRunsPerOwner` against when it records a run. Checked and counted in one synchronous step,
 * so a burst of concurrent starts cannot pass the limit.
 *
 * @module
 */
import { AgentwireError } from '../protocol/errors.js';

/** Running runs per owner. */
export class OwnerRunCounts {
  readonly #running = new Map<string, number>();

  /** Counts one more running run of `owner`, or throws `AW_TOO_MANY_RUNS` when it has `limit` already. */
  add(owner: string, limit = Number.POSITIVE_INFINITY): void {
    const running = this.#running.get(owner) ?? 0;
    if (running >= limit) throw tooManyOwnerRuns(running);
    this.#running.set(owner, running + 1);
  }

  /** One run of `owner` ended. */
  remove(owner: string): void {
    const running = (this.#running.get(owner) ?? 1) - 1;
    if (running > 0) this.#running.set(owner, running);
    else this.#running.delete(owner);
  }
}

/** The refusal of a start whose owner already has `running` runs running, the most it may. */
export function tooManyOwnerRuns(running: number): AgentwireError {
  return new AgentwireError('AW_TOO_MANY_RUNS', `you have ${running} runs running, the maximum; wait for one to end or cancel one`, {
    details: { retryAfterSeconds: 5 },
  });
}
