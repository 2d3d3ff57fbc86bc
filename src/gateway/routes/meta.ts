/**
 * `GET /api/agents` and `GET /healthz`.
 *
 * @module
 */
import type { Runner } from '../../runner/runner.js';
import type { Router } from '../router.js';

/** Registers the agents list and the health check. */
export function registerMetaRoutes(router: Router, context: { runner: Runner; startedAt: number }): void {
  router.on('GET', '/api/agents', () => ({ kind: 'json', status: 200, body: { agents: context.runner.agents.list() } }));
  router.on('GET', '/healthz', () => {
    // A shared store (Redis) reports its backend: 503 `degraded` while it is unreachable.
    const { ok = true, ...store } = context.runner.store.health?.() ?? {};
    return {
      kind: 'json',
      status: ok ? 200 : 503,
      body: { status: ok ? 'ok' : 'degraded', ...store, liveRuns: context.runner.liveRunCount, uptimeMs: Date.now() - context.startedAt },
    };
  });
}
