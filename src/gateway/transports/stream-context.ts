/**
 * What every transport (SSE, WebSocket, long-poll) and the run routes need from the gateway to
 * stream a run.
 *
 * @module
 */
import type { Runner } from '../../runner/runner.js';
import type { RunStore } from '../../store/store.js';
import type { ResolvedGatewayOptions } from '../options.js';
import type { GatewayMetrics } from '../operations/metrics.js';
import type { StreamTokens } from '../policy/auth.js';
import type { IdempotencyKeys } from '../policy/idempotency.js';
import type { StreamLimits } from '../policy/stream-limits.js';

/** What the transports and the run routes need from the gateway. */
export interface RunStreamContext {
  runner: Runner;
  store: RunStore;
  options: ResolvedGatewayOptions;
  limits: StreamLimits;
  streamTokens: StreamTokens;
  idempotency: IdempotencyKeys;
  /** True when the gateway authenticates callers. */
  authEnabled: boolean;
  /** `undefined` when metrics are off. */
  metrics: GatewayMetrics | undefined;
  /** Aborts when the gateway ends every stream for a shutdown. */
  shutdownSignal: AbortSignal;
}
