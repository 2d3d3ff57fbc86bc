/**
 * The error catalog: every code agentwire uses, with its HTTP status. A shipped code is never
 * renamed or reused. HTTP error bodies and `run.failed` events carry the same strings.
 *
 * @module
 */

/** Every agentwire error code and the HTTP status it maps to. */
export const ERROR_CODES = {
  /** A request body is not valid JSON or misses required fields; the message names which (`input is missing: …`). */
  AW_BAD_REQUEST: 400,
  /** A resume cursor (`Last-Event-ID`, `after`, `lastEventId`) is not a non-negative integer. */
  AW_BAD_CURSOR: 400,
  /** The requested agent is not served by this gateway. */
  AW_UNKNOWN_AGENT: 400,
  /** The request carries no valid credentials. */
  AW_UNAUTHORIZED: 401,
  /** The credentials do not allow this action (e.g. a stream token for another run). */
  AW_FORBIDDEN: 403,
  /** A cross-origin request from an origin not on the allow-list. */
  AW_CORS_FORBIDDEN: 403,
  /** No run with this id (or not yours). */
  AW_RUN_NOT_FOUND: 404,
  /** No such route. */
  AW_NOT_FOUND: 404,
  /** The route exists but not for this method. */
  AW_METHOD_NOT_ALLOWED: 405,
  /** The run already ended; it cannot be cancelled. */
  AW_RUN_ENDED: 409,
  /** An `Idempotency-Key` was reused with a different request body. */
  AW_IDEMPOTENCY_MISMATCH: 409,
  /** A request with this `Idempotency-Key` is still starting its run (on this or another gateway); retry shortly. */
  AW_IDEMPOTENCY_IN_PROGRESS: 409,
  /** The request body exceeds the limit. */
  AW_BODY_TOO_LARGE: 413,
  /** The request body has a content type other than JSON. */
  AW_UNSUPPORTED_MEDIA_TYPE: 415,
  /** Too many runs running (for this caller or this gateway); retry after `Retry-After`. */
  AW_TOO_MANY_RUNS: 429,
  /** Too many open streams (for this caller or this gateway). */
  AW_TOO_MANY_STREAMS: 429,
  /** Too many subscribers on this run. */
  AW_TOO_MANY_SUBSCRIBERS: 429,
  /** An unexpected server error. */
  AW_INTERNAL: 500,
  /** The gateway is shutting down. */
  AW_SHUTTING_DOWN: 503,
  /**
   * A bad option passed to a factory or the CLI; thrown at startup. For example `agents: demoAgents`
   * (a factory: call it, `demoAgents()`), or a relative client `baseUrl` outside a browser.
   */
  AW_INVALID_OPTION: 500,
  /**
   * The agent, or a tool it ran with `ctx.tool`, threw. Appears in `tool.result` and `run.failed`.
   * The message is masked unless the error is an `AgentError` (its code and message are kept) or
   * `exposeErrors` is on.
   */
  AW_AGENT_ERROR: 500,
  /** The agent yielded something that is not a valid event. Appears in `run.failed`. */
  AW_INVALID_EVENT: 500,
  /** The agent broke the step invariants (unknown step, parent not open, finished twice). */
  AW_STEP_INVALID: 500,
  /** A step was still open when its run ended. Appears in `step.finished`. */
  AW_STEP_UNFINISHED: 500,
  /** The run was cancelled while the step was open. Appears in `step.finished`. */
  AW_RUN_CANCELLED: 499,
  /** The run exceeded its time limit. Appears in `run.failed`. */
  AW_RUN_TIMEOUT: 504,
  /** An upstream (model server, bridged SSE endpoint) answered with an HTTP error. Appears in `run.failed`. */
  AW_UPSTREAM_HTTP: 502,
  /** An upstream could not be reached or dropped the connection. Appears in `run.failed`. */
  AW_UPSTREAM_CONNECTION: 502,
  /** An upstream reported an error inside its stream. Appears in `run.failed`. */
  AW_UPSTREAM_ERROR: 502,
  /** An upstream sent a chunk that could not be understood. Appears in `run.failed`. */
  AW_UPSTREAM_MALFORMED: 502,
  /** An upstream stream ended before its end marker. Appears in `run.failed`. */
  AW_UPSTREAM_INCOMPLETE: 502,
  /** A tool of `openaiAgent` threw; the run goes on and the model sees the error. Appears in `tool.result`. */
  AW_TOOL_ERROR: 500,
  /** The run log refused an event, so the run was ended. Appears in `run.failed`. */
  AW_STORE_ERROR: 500,
  /** The run log's backend (Redis) cannot be reached. */
  AW_STORE_UNAVAILABLE: 503,
  /**
   * The run log lost the run under its live streams (Redis restarted without persistence, or its
   * keys were deleted or evicted): the run cannot continue or be resumed. Appears in `run.failed`,
   * which the stream's own gateway sends (the log has nowhere to keep it); a resume answers 404.
   */
  AW_LOG_LOST: 410,
  /** The gateway's memory budget for retained runs (`maxRetainedBytes`) is taken by running runs: no new run starts, and the run that grew past it is failed with it. */
  AW_OVERLOADED: 503,
} as const;

/** A code from the catalog. */
export type ErrorCode = keyof typeof ERROR_CODES;

const MARKER = Symbol.for('agentwire.error');

/**
 * The one error class of agentwire: a `code` from the catalog, the HTTP `status` it maps to, and
 * an optional `cause`. Check with {@link isAgentwireError}, not `instanceof` (copies of the package
 * may coexist).
 */
export class AgentwireError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra fields sent with the HTTP error body (e.g. `allowed` methods). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentwireError';
    this.code = code;
    this.status = ERROR_CODES[code];
    this.details = options?.details;
    Object.defineProperty(this, MARKER, { value: true });
  }
}

/** True if `value` is an {@link AgentwireError} (from any copy of agentwire). */
export function isAgentwireError(value: unknown): value is AgentwireError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
}

/** The JSON error body every HTTP error uses: `{ error: { code, message } }`. */
export function errorBody(error: { code: string; message: string }): { error: { code: string; message: string } } {
  return { error: { code: error.code, message: error.message } };
}
