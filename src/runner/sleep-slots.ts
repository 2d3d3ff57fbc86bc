/**
 * The timers of every run's `ctx.sleep` in the process: sleeps that end in the same millisecond
 * share one Node timer (a slot), instead of each making its own `Timeout`. Thousands of paced runs
 * sleep at once, so a slot wakes up to {@link SLOT_SIZE} of them, in the order they began sleeping,
 * in one macrotask. A sleep ends no earlier than a `setTimeout` of its length would: its slot is
 * the millisecond at or after its end, on the monotonic clock.
 *
 * @module
 */

/** The sleeps that end in one millisecond, and their timer. */
export interface SleepSlot {
  /** The slot's millisecond (`performance.now()` scale). */
  readonly at: number;
  readonly timer: ReturnType<typeof setTimeout>;
  /** The `setTimeout` that made the timer: a sleep joins the slot only while it is still the global one. */
  readonly clock: typeof setTimeout;
  /** Called when the slot's timer fires, at most {@link SLOT_SIZE}; `undefined` where a sleep was cancelled. */
  readonly wakes: ((() => void) | undefined)[];
  /** Wakes not cancelled. */
  live: number;
}

/** Longest delay a Node timer takes; beyond it (and below 1 ms, or NaN) a timer fires after 1 ms, as `setTimeout`'s. */
const TIMEOUT_MAX = 2 ** 31 - 1;

/**
 * Most sleeps one slot wakes (more go to another slot of the same millisecond). A slot's runs all
 * resume before any of their events is delivered, so a larger slot saves more CPU (the runs' work
 * is done together) and delays the first of its events more: this bounds the delay to the work of
 * 16 events.
 */
const SLOT_SIZE = 16;

const slots = new Map<number, SleepSlot>();

/** Calls `wake` once `milliseconds` have passed (see the module comment). Returns its slot, to {@link cancelWake} it. */
export function wakeAfter(milliseconds: number, wake: () => void): SleepSlot {
  const delay = milliseconds >= 1 && milliseconds <= TIMEOUT_MAX ? milliseconds : 1;
  const now = performance.now();
  const at = Math.ceil(now + delay);
  let slot = slots.get(at);
  // A slot whose timer another `setTimeout` made (fake timers installed or removed since) may never
  // fire on this one's clock: a new slot takes its place (its own sleeps keep their timer).
  if (slot === undefined || slot.clock !== setTimeout || slot.wakes.length >= SLOT_SIZE) {
    const wakes: ((() => void) | undefined)[] = [];
    slot = { at, timer: setTimeout(fire, at - now, wakes, at), clock: setTimeout, wakes, live: 0 };
    slots.set(at, slot);
  }
  slot.wakes.push(wake);
  slot.live++;
  return slot;
}

/** Cancels `wake` in `slot` (nothing when it is not there); a slot left with no wake stops its timer. */
export function cancelWake(slot: SleepSlot, wake: () => void): void {
  const index = slot.wakes.indexOf(wake);
  if (index < 0) return;
  slot.wakes[index] = undefined;
  if (--slot.live > 0) return;
  clearTimeout(slot.timer);
  if (slots.get(slot.at) === slot) slots.delete(slot.at);
}

function fire(wakes: ((() => void) | undefined)[], at: number): void {
  if (slots.get(at)?.wakes === wakes) slots.delete(at);
  for (const wake of wakes) wake?.();
}
