/**
 * Heartbeats for every stream of a gateway from one timer per interval, instead of a timer per
 * stream: a stream joins a `Set` rather than costing its request a `Timeout` (and, for a lone
 * stream, a timer list created and torn down).
 *
 * Every stream is pinged once per interval, busy or quiet: a comment line every 15 s costs a busy
 * stream nothing worth counting, and tracking each write's time cost every event a clock read and
 * a store into one more per-stream object. The clock ticks five times per interval and pings, on
 * each tick, the streams whose ping is due within half a tick, so each is pinged every interval to
 * within half a tick (a tenth of the interval), early or late: early by design, so that timer
 * jitter never makes a ping a whole tick late. It stops after a tick that finds no stream, and is
 * `unref`'d so it never keeps a process alive.
 *
 * The same ticks watch for stalled streams (a client that reads nothing while its stream waits to
 * write), so the stall timeout costs a stream no timer either: a stall is seen at the first tick
 * past its deadline, within a fifth of an interval.
 *
 * @module
 */

/** One stream's membership: leave when the stream ends. */
export interface Heartbeat {
  /** Stops the heartbeats of this stream. */
  leave(): void;
  /**
   * Starts watching for a stall: the stream's `onStall` is called at the first tick `timeoutMs` or
   * more from now, unless `watchStall(undefined)` (the stream could write again) comes first.
   */
  watchStall(timeoutMs: number | undefined): void;
}

class Member implements Heartbeat {
  /** When the stream joined or was last pinged. */
  lastPingAt: number;
  /** When the stream's wait to write counts as a stall (0: it is not waiting). */
  stallAt = 0;
  readonly #members: Set<Member>;
  /** Writes a ping. */
  readonly ping: () => void;
  readonly onStall: (() => void) | undefined;

  constructor(members: Set<Member>, now: number, ping: () => void, onStall: (() => void) | undefined) {
    this.#members = members;
    this.lastPingAt = now;
    this.ping = ping;
    this.onStall = onStall;
  }

  leave(): void {
    this.#members.delete(this);
  }

  watchStall(timeoutMs: number | undefined): void {
    this.stallAt = timeoutMs === undefined ? 0 : Date.now() + timeoutMs;
  }
}

const TICKS_PER_INTERVAL = 5;

class HeartbeatClock {
  readonly #members = new Set<Member>();
  readonly #intervalMs: number;
  readonly #tickMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** When the clock started or last ticked: a clock silent for much longer has lost its timer. */
  #lastTickAt = 0;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
    this.#tickMs = Math.max(1, Math.floor(intervalMs / TICKS_PER_INTERVAL));
  }

  join(ping: () => void, onStall: (() => void) | undefined): Heartbeat {
    const member = new Member(this.#members, Date.now(), ping, onStall);
    this.#members.add(member);
    // A timer that has not ticked for 4 ticks was lost (fake timers installed, then removed, in a
    // test process) or starved: start a new one rather than leave every stream without pings.
    if (this.#timer !== undefined && member.lastPingAt - this.#lastTickAt > 4 * this.#tickMs) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    if (this.#timer === undefined) {
      this.#lastTickAt = member.lastPingAt;
      this.#timer = setInterval(() => this.#tick(), this.#tickMs);
      (this.#timer as { unref?: () => void }).unref?.();
    }
    return member;
  }

  #tick(): void {
    const now = Date.now();
    this.#lastTickAt = now;
    if (this.#members.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    // Half a tick of slack, so timer jitter never pushes a ping a whole tick late.
    const due = now - this.#intervalMs + (this.#tickMs >> 1);
    for (const member of this.#members) {
      if (member.stallAt !== 0 && member.stallAt <= now) {
        member.stallAt = 0;
        member.onStall?.();
        continue;
      }
      if (member.lastPingAt > due) continue;
      member.lastPingAt = now;
      member.ping();
    }
  }
}

const clocks = new Map<number, HeartbeatClock>();

/**
 * Calls `ping` (which writes an SSE comment) every `intervalMs` until the stream leaves, and
 * `onStall` when a stall it watches for (see {@link Heartbeat.watchStall}) has lasted.
 */
export function joinHeartbeats(intervalMs: number, ping: () => void, onStall?: () => void): Heartbeat {
  let clock = clocks.get(intervalMs);
  if (!clock) clocks.set(intervalMs, (clock = new HeartbeatClock(intervalMs)));
  return clock.join(ping, onStall);
}
