/**
 * `cancelRun()`: ask the gateway to cancel a run.
 *
 * @module
 */
import { resolveBaseUrl } from './base-url.js';
import { errorFromResponse } from './types.js';

/** Options of {@link cancelRun}. */
export interface CancelRunOptions {
  /** The gateway's URL; relative only in a browser, absolute (http(s)) elsewhere. @defaultValue '' (the page's origin) */
  baseUrl?: string;
  headers?: Record<string, string>;
  /** Why, shown in `run.cancelled`. @defaultValue 'cancelled by request' */
  reason?: string;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/**
 * Cancels a run: the producer's `AbortSignal` fires and the run ends with `run.cancelled`, which
 * every subscriber receives. Resolves `'cancelled'`, or `'ended'` when the run had already ended;
 * throws a {@link RunStreamError} otherwise (e.g. `AW_RUN_NOT_FOUND`).
 */
export async function cancelRun(runId: string, options: CancelRunOptions = {}): Promise<'cancelled' | 'ended'> {
  const base = resolveBaseUrl(options.baseUrl);
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const init: RequestInit = {
    method: 'POST',
    headers: { ...options.headers, 'content-type': 'application/json' },
    body: JSON.stringify(options.reason === undefined ? {} : { reason: options.reason }),
  };
  if (options.signal) init.signal = options.signal;
  const response = await fetchImpl(`${base}/api/runs/${encodeURIComponent(runId)}/cancel`, init);
  if (response.ok) {
    await response.body?.cancel();
    return 'cancelled';
  }
  const error = await errorFromResponse(response, 'the run could not be cancelled');
  if (error.code === 'AW_RUN_ENDED') return 'ended';
  throw error;
}
