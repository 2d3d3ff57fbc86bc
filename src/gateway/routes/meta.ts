/**
 * `GET /api/agents`, `GET /healthz` and `GET /metrics`.
 *
 * @module
 */
import type { Runner } from '../../runner/runner.js';
import type { GatewayMetrics } from '../operations/metrics.js';
import type { Router } from '../router.js';

/** Registers the agents list, the health check and the metrics. */
export function registerMetaRoutes(router: Router, context: { runner: Runner; startedAt: number; metrics: GatewayMetrics | undefined }): void {
  const { metrics } = context;
  if (metrics) {
    router.on(
      'GET',
      '/metrics',
      async () => ({ kind: 'bytes', status: 200, headers: { 'content-type': metrics.contentType, 'cache-control': 'no-store' }, body: new TextEncoder().encode(await metrics.text()) }),
      { public: true },
    );
  }
  router.on('GET', '/api/agents', () => ({ kind: 'json', status: 200, body: { agents: context.runner.agents.list() } }));
  router.on('GET', '/healthz', () => {
    // A shared store (Redis) reports its backend: 503 `degraded` while it is unreachable.
    const { ok = true, ...store } = context.runner.store.health?.() ?? {};
    return {
      kind: 'json',
      status: ok ? 200 : 503,
      body: { status: ok ? 'ok' : 'degraded', ...store, liveRuns: context.runner.liveRunCount, uptimeMs: Date.now() - context.startedAt },
    };
  }, { public: true });
}
