import type { WakeListener } from './follower.js';

/**
 * The followers of one run that wait for its appends: the listener each registered (see
 * `FollowSource.listen`). Created on first use: most finished runs never have any, and
 * thousands are retained.
 *
 * @module
 */

/** One run's listeners. */
export class RunFollowers {
  /**
   * The listener while there is only one (a start-and-stream run's, the usual case: one object
   * less to reach per wake-up than an array), then every listener in `#many`.
   */
  #one: WakeListener | undefined = undefined;
  #many: WakeListener[] | undefined = undefined;
  /**
   * The {@link WakeScheduler}'s: the last turn the run was appended to in, whether it was appended
   * to more than once in it, and whether a wake-up is queued.
   */
  wakeTurn = 0;
  appendedAgain = false;
  wakePending = false;

  /** True when at least one follower listens. */
  get any(): boolean {
    return this.#one !== undefined || (this.#many !== undefined && this.#many.length > 0);
  }

  /** Calls `listener.wake()` at every {@link wakeAll} until the returned function is called. */
  listen(listener: WakeListener): () => void {
    if (this.#many) this.#many.push(listener);
    else if (this.#one === undefined) this.#one = listener;
    else {
      this.#many = [this.#one, listener];
      this.#one = undefined;
    }
    return () => this.#remove(listener);
  }

  /** Calls every listener (a listener may stop listening while called). */
  wakeAll(): void {
    const one = this.#one;
    if (one !== undefined) return one.wake();
    const many = this.#many;
    if (!many || many.length === 0) return;
    if (many.length === 1) return (many[0] as WakeListener).wake();
    for (const listener of many.slice()) listener.wake();
  }

  #remove(listener: WakeListener): void {
    if (this.#one === listener) {
      this.#one = undefined;
      return;
    }
    const index = this.#many?.indexOf(listener) ?? -1;
    if (index >= 0) this.#many?.splice(index, 1);
  }
}
