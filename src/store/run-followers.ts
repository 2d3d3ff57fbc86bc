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
  #listeners: WakeListener[] | undefined = undefined;
  /**
   * The {@link WakeScheduler}'s: the last turn the run was appended to in, whether it was appended
   * to more than once in it, and whether a wake-up is queued.
   */
  wakeTurn = 0;
  appendedAgain = false;
  wakePending = false;

  /** True when at least one follower listens. */
  get any(): boolean {
    return this.#listeners !== undefined && this.#listeners.length > 0;
  }

  /** Calls `listener.wake()` at every {@link wakeAll} until the returned function is called. */
  listen(listener: WakeListener): () => void {
    (this.#listeners ??= []).push(listener);
    return () => {
      const index = this.#listeners?.indexOf(listener) ?? -1;
      if (index >= 0) this.#listeners?.splice(index, 1);
    };
  }

  /** Calls every listener (a listener may stop listening while called). */
  wakeAll(): void {
    const listeners = this.#listeners;
    if (!listeners || listeners.length === 0) return;
    if (listeners.length === 1) return (listeners[0] as WakeListener).wake();
    for (const listener of listeners.slice()) listener.wake();
  }
}
