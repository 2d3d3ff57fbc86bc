/**
 * Backpressure, the one way every transport writes a run's events: write, and when the consumer's
 * buffer is full, wait for it to drain before reading more of the log, telling the run it is
 * blocked meanwhile (so a run whose every subscriber waits pauses its producer) and watching the
 * wait for a stall (a client that reads nothing for the stall timeout is dropped, so it cannot
 * hold its run paused). SSE writes to its adapter's {@link StreamSink} (Node's response or a
 * `ReadableStream`), the WebSocket transport to {@link webSocketOutlet}. A long-poll answer needs
 * none: it is one bounded batch, and the client asks for the next only once it has read it.
 *
 * @module
 */
import type { WebSocket } from 'ws';

/** Where a transport writes, and how it says it is full. A {@link StreamSink} is one. */
export interface Outlet {
  /** Writes `chunk`; `false` when the consumer's buffer is now full (the chunk is written all the same). */
  write(chunk: string | Uint8Array): boolean;
  /** Resolves once the consumer has taken what was buffered, or the outlet closed. */
  ready(): Promise<void>;
}

/** A clock that drops a connection whose wait to write lasts for the stall timeout. */
export interface StallWatch {
  /** Starts watching (`timeoutMs`) when a wait starts; stops (`undefined`) when it ends. */
  watchStall(timeoutMs: number | undefined): void;
}

/** What a wait for an outlet to drain tells, and whom. */
export interface DrainWatch {
  /** Counts each wait (the `waited` metric). */
  readonly observer?: { waited(): void } | undefined;
  /** The run's subscriber handle: `blocked(true)` while the wait lasts, `blocked(false)` after. */
  readonly subscriber?: { blocked?(full: boolean): void } | undefined;
  /** Drops the connection past `stallTimeoutMs` of waiting, which ends the wait. */
  readonly stall?: StallWatch | undefined;
  readonly stallTimeoutMs: number;
}

/**
 * Writes `chunk` to `outlet`: `undefined` when the consumer took it within its buffer, otherwise a
 * promise of `drained`, which the caller awaits before writing more.
 */
export function writeOrWait(outlet: Outlet, chunk: string | Uint8Array, watch: DrainWatch): Promise<void> | undefined {
  return outlet.write(chunk) ? undefined : drained(outlet, watch);
}

/** Waits for `outlet` to drain, the run told it is blocked and the stall clock running meanwhile. */
async function drained(outlet: Outlet, watch: DrainWatch): Promise<void> {
  watch.observer?.waited();
  watch.subscriber?.blocked?.(true);
  watch.stall?.watchStall(watch.stallTimeoutMs);
  try {
    await outlet.ready();
  } finally {
    watch.stall?.watchStall(undefined);
    watch.subscriber?.blocked?.(false);
  }
}

/**
 * Bytes a socket may have buffered before whatever writes to it (a subscription's events, the
 * replies to the client's frames) waits for it to drain. One mark for every writer, so no kind of
 * frame can grow a socket's buffer past it.
 */
const WS_HIGH_WATER = 256 * 1024;

/**
 * One writer's {@link Outlet} on a WebSocket, sending text frames. A frame that takes the socket's
 * buffer past `WS_HIGH_WATER` is sent all the same and makes the outlet full; `ready`
 * resolves once that frame, and so everything buffered before it, has been handed to the socket
 * (or the socket closed). Each writer of a socket has its own outlet, so each waits for its own frame.
 */
export function webSocketOutlet(ws: WebSocket): Outlet {
  let sent: Promise<void> | undefined;
  return {
    write(frame) {
      const length = typeof frame === 'string' ? frame.length : frame.byteLength;
      if (ws.bufferedAmount + length <= WS_HIGH_WATER) {
        ws.send(frame, { binary: false });
        return true;
      }
      sent = new Promise<void>((resolve) => ws.send(frame, { binary: false }, () => resolve()));
      return false;
    },
    ready: () => {
      const waiting = sent ?? Promise.resolve();
      sent = undefined;
      return waiting;
    },
  };
}

/**
 * The {@link StallWatch} of one WebSocket, shared by its subscriptions: the socket has stalled
 * once some subscription has waited `timeoutMs` with no frame reaching the socket meanwhile (a
 * frame that does means it drains, so the clock starts again). The socket's heartbeat interval
 * asks {@link stalled}.
 */
export class SocketStallClock implements StallWatch {
  /** Subscriptions waiting, and since when no frame has reached the socket (0: none waits). */
  #waiting = 0;
  #since = 0;
  #timeoutMs = 0;

  watchStall(timeoutMs: number | undefined): void {
    if (timeoutMs !== undefined) {
      this.#timeoutMs = timeoutMs;
      if (this.#waiting++ === 0) this.#since = Date.now();
    } else this.#since = --this.#waiting === 0 ? 0 : Date.now();
  }

  /** True when a wait has lasted the stall timeout. */
  stalled(now = Date.now()): boolean {
    return this.#since !== 0 && now - this.#since >= this.#timeoutMs;
  }
}
