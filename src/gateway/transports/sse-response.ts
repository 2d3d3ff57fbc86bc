/**
 * The streaming response of one run, as every route that streams a run sends it.
 *
 * @module
 */
import type { RunRecord } from '../../store/store.js';
import type { GatewayResponse } from '../http-types.js';
import { SSE_HEADERS, createSseStream } from './sse.js';
import type { StreamFormat } from './stream-formats.js';
import type { RunStreamContext } from './stream-context.js';

/**
 * A 200 SSE response streaming `record`'s events after `after` in `format`, counted against the
 * stream limits of `principal` and registered as a subscriber (for the disconnect policy) while
 * it lasts. Throws 429 at a limit. `heldLimit`: the release of a stream slot acquired already
 * (before the run was started, see {@link acquireBeforeStart}).
 */
export function runStreamResponse(
  context: RunStreamContext,
  record: RunRecord,
  principal: string | undefined,
  after: number,
  format?: StreamFormat,
  extraHeaders: Record<string, string> = {},
  formatName = 'agentwire',
  heldLimit?: () => void,
): GatewayResponse {
  const releaseLimit = heldLimit ?? context.limits.acquire(principal, record.id);
  const headers: Record<string, string> = { ...SSE_HEADERS };
  if (format?.headers) Object.assign(headers, format.headers);
  headers['x-agentwire-run-id'] = record.id;
  for (const name in extraHeaders) headers[name] = extraHeaders[name] as string;
  // What the stream's closures keep for its whole life: not the record, nor the route's context.
  const { runner, metrics } = context;
  const runId = record.id;
  return {
    kind: 'stream',
    status: 200,
    headers,
    stream: createSseStream({
      store: context.store,
      runId,
      after,
      heartbeatMs: context.options.heartbeatMs,
      stallTimeoutMs: context.options.stallTimeoutMs,
      retryMs: context.options.retryMs,
      format,
      formatName,
      observer: metrics,
      shutdownSignal: context.shutdownSignal,
      onSubscribe: () => {
        const detach = runner.attach(runId);
        const release = () => {
          detach();
          releaseLimit();
        };
        release.blocked = detach.blocked;
        return release;
      },
    }),
  };
}

/**
 * Starts a run for a stream of it: the stream limits are checked first, so a 429 starts no run and
 * invokes no agent. Resolves the run's record and the stream slot held for it.
 */
export async function acquireBeforeStart(
  context: RunStreamContext,
  principal: string | undefined,
  start: () => Promise<RunRecord>,
): Promise<{ record: RunRecord; heldLimit: () => void }> {
  const heldLimit = context.limits.acquire(principal, undefined);
  try {
    return { record: await start(), heldLimit };
  } catch (error) {
    heldLimit();
    throw error;
  }
}
