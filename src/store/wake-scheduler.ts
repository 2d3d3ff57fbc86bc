/**
 * When a run's followers are woken after an append: once per turn of the event loop (its check
 * phase) rather than once per event, so a producer that appends in a burst is read in one batch
 * (one socket write per follower).
 *
 * @module
 */
import type { RunFollowers } from './run-followers.js';

/** Wakes the followers of the runs appended to, once per turn; one per store. */
export class WakeScheduler {
  readonly #pending = new Set<RunFollowers>();
  #scheduled = false;

  /** Wakes `followers` in the loop's next check phase (nothing when none listens). */
  wake(followers: RunFollowers): void {
    if (!followers.any) return;
    this.#pending.add(followers);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const followers of pending) followers.wakeAll();
  };
}
