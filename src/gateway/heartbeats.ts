/**
 * Heartbeats for every stream of a gateway from one timer per interval, instead of a timer per
 * stream. A timer per stream cost each request a `Timeout` and, for a lone stream, a timer list
 * created and torn down (~9 µs of a ~270 µs start-and-stream request); here a stream joins a `Set`.
 *
 * Every stream is pinged once per interval, busy or quiet: a comment line every 15 s costs a busy
 * stream nothing worth counting, and tracking each write's time cost every event a clock read and
 * a store into one more per-stream object. The clock ticks five times per interval and pings, on
 * each tick, the streams whose ping is due within half a tick, so each is pinged every interval to
 * within half a tick (a tenth of the interval), early or late: early by design, so that timer
 * jitter never makes a ping a whole tick late. It stops after a tick that finds no stream, and is
 * `unref`'d so it never keeps a process alive.
 *
 * @module
 */

/** One stream's membership: leave when the stream ends. */
export interface Heartbeat {
  /** Stops the heartbeats of this stream. */
  leave(): void;
}

interface Member {
  /** When the stream joined or was last pinged. */
  lastPingAt: number;
  /** Writes a ping. */
  ping(): void;
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

  join(ping: () => void): Heartbeat {
    const member: Member = { lastPingAt: Date.now(), ping };
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
    return {
      leave: () => {
        this.#members.delete(member);
      },
    };
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
      if (member.lastPingAt > due) continue;
      member.lastPingAt = now;
      member.ping();
    }
  }
}

const clocks = new Map<number, HeartbeatClock>();

/** Calls `ping` (which writes an SSE comment) every `intervalMs` until the stream leaves. */
export function joinHeartbeats(intervalMs: number, ping: () => void): Heartbeat {
  let clock = clocks.get(intervalMs);
  if (!clock) clocks.set(intervalMs, (clock = new HeartbeatClock(intervalMs)));
  return clock.join(ping);
}
