/**
 * `startRun()`: start a run and stream it in the same request.
 *
 * @module
 */
import type { AgentEvent } from '../protocol/events.js';
import { resolveBaseUrl } from './base-url.js';
import { causeText } from './cause-text.js';
import { followRunBatches } from './follow-run.js';
import { type ConnectOptions, RunStreamError, errorFromResponse } from './types.js';

/** Options of {@link startRun}. */
export interface StartRunOptions extends ConnectOptions {
  /** The agent to run. @defaultValue the gateway's default agent */
  agent?: string;
  /** The run's input (any JSON). */
  input: unknown;
  /** Called as soon as the run id is known (from the `x-agentwire-run-id` header or `run.started`). */
  onRunId?: (runId: string) => void;
}

/**
 * Starts a run (`POST /api/runs` with `Accept: text/event-stream`) and yields its events like
 * {@link subscribe}. Starting is not idempotent, so the start request itself is never retried: if
 * it fails before the run id is known, the iterator throws a {@link RunStreamError}
 * (`AW_START_INTERRUPTED` or the server's code); once the id is known, a dropped stream is resumed
 * by re-attaching to that run.
 *
 * @example
 * ```ts
 * import { startRun } from 'agentwire/client';
 * // In a browser, baseUrl defaults to the page's origin; elsewhere (Node) it is required.
 * for await (const event of startRun({ baseUrl: 'http://127.0.0.1:8787', agent: 'demo', input: 'What is the capital of France?' })) {
 *   console.log(event.seq, event.type);
 * }
 * ```
 */
export async function* startRun(options: StartRunOptions): AsyncGenerator<AgentEvent> {
  for await (const batch of startRunBatches(options)) yield* batch;
}

/** {@link startRun} in batches: the events of one network read at a time (never empty). */
export async function* startRunBatches(options: StartRunOptions): AsyncGenerator<AgentEvent[]> {
  let base: string;
  try {
    base = resolveBaseUrl(options.baseUrl);
  } catch (error) {
    options.onStatus?.({ state: 'closed', reason: 'error', error });
    throw error;
  }
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort);
  options.onStatus?.({ state: 'connecting' });
  let response: Response;
  try {
    const body = options.agent === undefined ? { input: options.input } : { agent: options.agent, input: options.input };
    response = await fetchImpl(`${base}/api/runs`, {
      method: 'POST',
      headers: { ...options.headers, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify(body),
      signal: controller.signal,
      cache: 'no-store',
    });
  } catch (error) {
    options.signal?.removeEventListener('abort', onAbort);
    if (options.signal?.aborted) {
      options.onStatus?.({ state: 'closed', reason: 'aborted' });
      return;
    }
    const failure = new RunStreamError('AW_START_INTERRUPTED', `the start request failed before the run id was known (${causeText(error)}); it was not retried`, { cause: error });
    options.onStatus?.({ state: 'closed', reason: 'error', error: failure });
    throw failure;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (!response.ok) {
    const failure = await errorFromResponse(response, 'the run could not be started');
    options.onStatus?.({ state: 'closed', reason: 'error', error: failure });
    throw failure;
  }
  const input = { runId: undefined, after: 0, first: { response, abort: () => controller.abort() } };
  yield* followRunBatches(options.onRunId ? { ...input, onRunId: options.onRunId } : input, options);
}
