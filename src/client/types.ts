/**
 * Types shared by the client's functions: connection status, options, errors.
 *
 * @module
 */

/** Where a subscription's connection is. Reported through `onStatus` whenever it changes. */
export type ConnectionStatus =
  | { state: 'connecting' }
  | {
      state: 'open';
      /** How events arrive: a server-sent event stream, or long-polling after a fallback. */
      transport: Transport;
    }
  | {
      state: 'reconnecting';
      /** 1 for the first retry after a drop, then 2, 3… (reset once events flow again). */
      attempt: number;
      /** How long the client waits before this attempt, in ms. */
      delayMs: number;
      /** What ended the previous connection. */
      error: unknown;
    }
  | {
      state: 'closed';
      /**
       * `ended`: a terminal event arrived or the server answered 204 (nothing more to send);
       * `aborted`: the caller's signal fired or the iteration was stopped;
       * `error`: a failure that retrying cannot fix (404, another 4xx, a start that died too early).
       */
      reason: 'ended' | 'aborted' | 'error';
      error?: unknown;
    };

/** Reconnect policy: exponential backoff with full jitter. */
export interface RetryOptions {
  /**
   * Base delay before the first retry, in ms. A `retry:` field from the server replaces it.
   * @defaultValue 1000
   */
  initialDelayMs?: number;
  /** Cap of the exponential delay, in ms. @defaultValue 30000 */
  maxDelayMs?: number;
  /** Consecutive failed attempts before giving up (closed with `error`). @defaultValue Infinity */
  maxAttempts?: number;
}

/** Options shared by {@link subscribe} and {@link startRun}. */
export interface ConnectOptions {
  /**
   * Origin (and path prefix) of the gateway, e.g. `https://agents.example.com`. Relative URLs (and
   * the default) work only in a browser; outside one (Node, Bun, Deno without `location`) an
   * absolute http(s) URL is required, else the call throws `AW_INVALID_OPTION`.
   * @defaultValue '' (the page's origin)
   */
  baseUrl?: string;
  /** Extra request headers (auth). */
  headers?: Record<string, string>;
  /** Stops the subscription for good (the iterator returns; status `closed`/`aborted`). */
  signal?: AbortSignal;
  /** Called on every connection status change. */
  onStatus?: (status: ConnectionStatus) => void;
  /** The gateway's heartbeat interval, in ms; the idle watchdog fires after 2.5 of them. @defaultValue 15000 */
  heartbeatMs?: number;
  /** Reconnect after this long without a single byte, in ms. @defaultValue 2.5 × `heartbeatMs` */
  idleTimeoutMs?: number;
  /** Reconnect policy. */
  retry?: RetryOptions;
  /** The fetch to use. @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
  /** Random source for the jitter, in [0, 1). @defaultValue Math.random */
  random?: () => number;
  /**
   * How to receive events: `sse`, `poll` (long-polling, where nothing else passes), or `auto`:
   * SSE, falling back to long-polling when a stream delivers no byte within `fallbackAfterMs` (a
   * proxy that buffers or blocks it) while a poll gets through. @defaultValue 'auto'
   */
  transport?: 'auto' | Transport;
  /** With `transport: 'auto'`, how long a new stream may stay silent before the fallback, in ms. @defaultValue 5000 */
  fallbackAfterMs?: number;
}

/** A way of receiving a run's events. */
export type Transport = 'sse' | 'poll';

/** An error the client gives up on. `code` is the server's error code when it sent one. */
export class RunStreamError extends Error {
  /** The server's code (`AW_RUN_NOT_FOUND`, …) or a client one (`AW_CONNECTION_FAILED`, `AW_START_INTERRUPTED`). */
  readonly code: string;
  /** The HTTP status, when the error came from a response. */
  readonly status: number | undefined;

  constructor(code: string, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RunStreamError';
    this.code = code;
    this.status = options.status;
  }
}

/** Reads an `{ error: { code, message } }` body into a {@link RunStreamError}. */
export async function errorFromResponse(response: Response, fallback: string): Promise<RunStreamError> {
  let code = `HTTP_${response.status}`;
  let message = `${fallback}: HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    // Not JSON: keep the generic message.
  }
  return new RunStreamError(code, message, { status: response.status });
}
