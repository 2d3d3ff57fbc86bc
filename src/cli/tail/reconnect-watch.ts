/**
 * What `tail` says and decides while its connection fails: one stderr line per outage (not one per
 * attempt), and — for a run URL that never answered — giving up after a bounded time, since that
 * is a wrong URL or a stopped gateway. A stream that was live keeps resuming however long it
 * takes: that is what a resumable run is for.
 *
 * @module
 */
import { causeText } from '../../client/cause-text.js';
import type { ConnectionStatus } from '../../client/types.js';

/** How long a followed run URL may stay unanswered before tail gives up, in ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** What {@link createReconnectWatch} needs. */
export interface ReconnectWatchOptions {
  /** The host (and port) shown in messages, e.g. `127.0.0.1:8787`. */
  target: string;
  /** Give up when no connection opened within this long, in ms; `undefined`: never. */
  connectTimeoutMs: number | undefined;
  /** Writes one line (without its newline) for the user. */
  say: (line: string) => void;
  /** Called once on giving up, with an error whose cause is the last failure. */
  giveUp: (error: Error) => void;
}

/** The watch: feed it every status; `stop` when tail is done. */
export interface ReconnectWatch {
  onStatus(status: ConnectionStatus): void;
  stop(): void;
}

/** Starts the watch (and the connect timer, when there is one). */
export function createReconnectWatch(options: ReconnectWatchOptions): ReconnectWatch {
  const { target, connectTimeoutMs, say, giveUp } = options;
  let everOpen = false;
  let outage = false;
  let lastError: unknown;
  const seconds = connectTimeoutMs === undefined ? 0 : Math.round(connectTimeoutMs / 100) / 10;
  const timer =
    connectTimeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          if (everOpen) return;
          giveUp(new Error(`gave up on ${target} after ${seconds} s without an answer`, lastError === undefined ? {} : { cause: lastError }));
        }, connectTimeoutMs);
  return {
    onStatus(status) {
      if (status.state === 'open') {
        everOpen = true;
        outage = false;
        clearTimeout(timer);
        return;
      }
      if (status.state !== 'reconnecting') return;
      lastError = status.error;
      if (outage) return;
      outage = true;
      const cause = causeText(status.error);
      say(
        everOpen
          ? `lost the stream from ${target} (${cause}); reconnecting… (Ctrl-C to stop)`
          : `cannot reach ${target} (${cause}); retrying${timer ? ` for up to ${seconds} s` : ''}… (Ctrl-C to stop)`,
      );
    },
    stop() {
      clearTimeout(timer);
    },
  };
}
