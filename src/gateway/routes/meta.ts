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
  router.on(
    'GET',
    '/healthz',
    () => ({
    kind: 'json',
    status: 200,
    body: { status: 'ok', liveRuns: context.runner.liveRunCount, uptimeMs: Date.now() - context.startedAt },
    }),
    { public: true },
  );
}
