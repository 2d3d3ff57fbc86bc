/**
 * The streaming response of one run, as every route that streams a run sends it.
 *
 * @module
 */
import type { Runner } from '../runner/runner.js';
import type { RunRecord, RunStore } from '../store/store.js';
import type { GatewayResponse } from './http-types.js';
import type { ResolvedGatewayOptions } from './options.js';
import { SSE_HEADERS, createSseStream } from './sse-stream.js';
import type { StreamFormat } from './stream-formats.js';

/** What streaming a run needs from the gateway. */
export interface RunStreamContext {
  runner: Runner;
  store: RunStore;
  options: ResolvedGatewayOptions;
}

/**
 * A 200 SSE response streaming `record`'s events after `after` in `format`, registered as a
 * subscriber (for the disconnect policy) while it lasts.
 */
export function runStreamResponse(
  context: RunStreamContext,
  record: RunRecord,
  after: number,
  format?: StreamFormat,
  extraHeaders: Record<string, string> = {},
): GatewayResponse {
  return {
    kind: 'stream',
    status: 200,
    headers: { ...SSE_HEADERS, ...format?.headers, 'x-agentwire-run-id': record.id, ...extraHeaders },
    stream: createSseStream({
      store: context.store,
      runId: record.id,
      after,
      heartbeatMs: context.options.heartbeatMs,
      retryMs: context.options.retryMs,
      ...(format ? { format } : {}),
      onSubscribe: () => context.runner.attach(record.id),
    }),
  };
}
