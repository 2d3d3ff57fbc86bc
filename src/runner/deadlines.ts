/**
 * Deadlines of one fixed delay (a runner's grace period, attach window or `maxRunMs`) for any
 * number of runs, from one timer. Every entry waits the same time, so entries fall due in the
 * order they were added: the queue is a `Map` in insertion order and its one timer is set for the
 * oldest entry. Adding or removing a run costs a map operation, not a `Timeout` and a timer-list
 * update per run; a removed entry leaves the timer set, and a tick that finds nothing due re-arms
 * for the new oldest entry, or stops when there is none. The timer is `unref`'d: a deadline never
 * keeps a process alive. A timer a second or more overdue when an entry is added was lost (fake
 * timers installed, then removed, in a test process) or starved: it is replaced, so the queue
 * never waits on a timer that will not fire.
 *
 * @module
 */

const LOST_AFTER_MS = 1_000;

export class Deadlines<T> {
  /** Each entry's deadline, in whole ms of `performance.now()` (monotonic: a clock change moves nothing). */
  readonly #due = new Map<T, number>();
  readonly #delayMs: number;
  readonly #onDue: (entry: T) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer is due (same clock as the deadlines). */
  #timerAt = 0;

  /** `onDue` is called once per entry whose deadline has passed, in deadline order. */
  constructor(delayMs: number, onDue: (entry: T) => void) {
    this.#delayMs = delayMs;
    this.#onDue = onDue;
  }

  /** Sets `entry`'s deadline to `delayMs` from now (moving it if it had one). */
  add(entry: T): void {
    const now = Math.ceil(performance.now());
    this.#due.delete(entry);
    this.#due.set(entry, now + this.#delayMs);
    if (this.#timer !== undefined && now - this.#timerAt >= LOST_AFTER_MS) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#timer === undefined) this.#arm(this.#delayMs);
  }

  /** Removes `entry`'s deadline, if it has one. */
  delete(entry: T): void {
    this.#due.delete(entry);
  }

  /** True while `entry` has a deadline. */
  has(entry: T): boolean {
    return this.#due.has(entry);
  }

  #arm(delayMs: number): void {
    const wait = Math.max(1, delayMs);
    this.#timerAt = performance.now() + wait;
    this.#timer = setTimeout(this.#tick, wait);
    this.#timer.unref?.();
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    // Collected first: `onDue` may add entries (a grace period armed again), which come after these.
    const due: T[] = [];
    for (const [entry, at] of this.#due) {
      if (at > now) break;
      due.push(entry);
    }
    for (const entry of due) this.#due.delete(entry);
    const next = this.#due.values().next();
    if (!next.done) this.#arm(Math.ceil(next.value - now));
    for (const entry of due) this.#onDue(entry);
  };
}
