/**
 * When a run's followers are woken after an append. A paced run (one append per turn of the event
 * loop) wakes its followers in a microtask, once the code that appended has run, so its event goes
 * out without waiting for the loop's check phase. A run appended to again in the same turn (a fast
 * agent's, one append after each `await`) is woken in the check phase for those further appends,
 * and for every append of its next turns while it keeps appending more than once a turn: its
 * followers read each turn's events in one batch (one socket write), not one per event.
 *
 * @module
 */
import type { RunFollowers } from './run-followers.js';

/** Wakes the followers of the runs appended to: see the module comment. One per store. */
export class WakeScheduler {
  /** Runs woken in the next microtask. */
  readonly #soon: RunFollowers[] = [];
  /** Runs woken in the check phase. */
  readonly #later: RunFollowers[] = [];
  #soonScheduled = false;
  #laterScheduled = false;
  /** The turn's number, moved on by the check phase's flush. */
  #turn = 1;

  /** Wakes `followers` after an append (nothing when none listens). */
  wake(followers: RunFollowers): void {
    if (!followers.any) return;
    if (followers.wakeTurn === this.#turn) {
      // Appended to again in this turn: a fast producer, batched to the check phase.
      followers.appendedAgain = true;
      if (followers.wakePending) return;
      followers.wakePending = true;
      this.#later.push(followers);
      return;
    }
    // The run's first append in this turn: at once, unless it appended in bursts in its last turn.
    const burst = followers.appendedAgain;
    followers.wakeTurn = this.#turn;
    followers.appendedAgain = false;
    followers.wakePending = true;
    if (burst) {
      this.#later.push(followers);
    } else {
      this.#soon.push(followers);
      if (!this.#soonScheduled) {
        this.#soonScheduled = true;
        // A reaction on a settled promise: `queueMicrotask` also makes an async resource per call.
        void RESOLVED.then(this.#flushSoon);
      }
    }
    this.#scheduleLater();
  }

  /** The check phase's flush moves the turn on: scheduled at the first append of a run in a turn. */
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
