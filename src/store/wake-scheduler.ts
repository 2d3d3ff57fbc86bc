/**
 * When a run's followers are woken after an append. A run's first append in a turn of the event
 * loop wakes its followers in a microtask (once the code that appended, and whatever it appends
 * synchronously after, has run), so a paced agent's event goes out without waiting for the loop's
 * check phase. Further appends of the same run in the same turn (a fast agent's, each after an
 * `await`) are batched to the check phase, as one wake-up: a follower reads them in one batch
 * (one socket write) instead of one per event.
 *
 * @module
 */
import type { RunFollowers } from './run-followers.js';

/** Wakes the followers of the runs appended to: see the module comment. One per store. */
export class WakeScheduler {
  /** Runs whose first append of this turn wakes them in the next microtask. */
  readonly #soon: RunFollowers[] = [];
  /** Runs appended to again this turn, after their microtask wake: woken in the check phase. */
  readonly #later: RunFollowers[] = [];
  #soonScheduled = false;
  #laterScheduled = false;
  /** The turn's number: moved on by the check phase's flush, which also forgets who was woken in it. */
  #turn = 1;

  /** Wakes `followers` after an append (nothing when none listens). */
  wake(followers: RunFollowers): void {
    if (!followers.any) return;
    if (followers.wakeTurn !== this.#turn) {
      // The run's first append in this turn.
      followers.wakeTurn = this.#turn;
      followers.wakePending = true;
      this.#soon.push(followers);
      if (!this.#soonScheduled) {
        this.#soonScheduled = true;
        // A reaction on a settled promise: `queueMicrotask` also makes an async resource per call.
        void RESOLVED.then(this.#flushSoon);
      }
      this.#scheduleLater();
      return;
    }
    if (followers.wakePending) return;
    followers.wakePending = true;
    this.#later.push(followers);
    this.#scheduleLater();
  }

  /** The check phase's flush moves the turn on; it is scheduled whenever a run was appended to in this turn. */
  #scheduleLater(): void {
    if (this.#laterScheduled) return;
    this.#laterScheduled = true;
    setImmediate(this.#flushLater);
  }

  readonly #flushSoon = (): void => {
    this.#soonScheduled = false;
    wakeEach(this.#soon);
  };

  readonly #flushLater = (): void => {
    this.#laterScheduled = false;
    this.#turn++;
    wakeEach(this.#later);
  };
}

const RESOLVED = Promise.resolve();

/** Wakes every run of `queue` and empties it (a wake-up may append, and so queue more). */
function wakeEach(queue: RunFollowers[]): void {
  if (queue.length <= 1) {
    // Most turns wake one run or none: no copy of the queue.
    const followers = queue.pop();
    if (!followers) return;
    followers.wakePending = false;
    followers.wakeAll();
    return;
  }
  const pending = queue.splice(0);
  for (const followers of pending) {
    followers.wakePending = false;
    followers.wakeAll();
  }
}
