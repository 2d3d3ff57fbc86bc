/**
 * `createGateway(options)`: the agentwire HTTP API over one runner and one store, as a Node
 * listener and as a Web fetch handler sharing the same core.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { Runner } from '../runner/runner.js';
import { MemoryStore } from '../store/memory-store.js';
import type { RunStore } from '../store/store.js';
import { GatewayCore } from './core.js';
import { type FetchHandler, createFetchHandler } from './fetch-handler.js';
import { type NodeListener, createNodeListener } from './node-listener.js';
import { type GatewayOptions, resolveOptions } from './options.js';
import { Router } from './router.js';
import { registerMetaRoutes } from './routes/meta.js';
import { registerRunRoutes } from './routes/runs.js';
import { registerStaticRoutes } from './routes/static.js';

/** A gateway: mount `listener` in a Node server or `fetch` in a Web-standard framework. */
export interface Gateway {
  /** `(req, res)` listener for `node:http`, Express, Fastify's raw handler. */
  readonly listener: NodeListener;
  /** `fetch(Request) → Response` for Hono, Next.js route handlers, Bun, Deno. */
  readonly fetch: FetchHandler;
  /** The runner driving this gateway's runs. */
  readonly runner: Runner;
  /** The run log. */
  readonly store: RunStore;
  /**
   * Shuts down: new requests get 503, live runs are cancelled (their streams receive
   * `run.cancelled` and end), then the store is closed if the gateway created it.
   */
  close(): Promise<void>;
}

/**
 * The bundled viewer page: the Vite build in `dist/ui`, beside this module in the build. Run from the
 * sources (tests), `src/ui` holds the page's sources, so the same built `dist/ui` is served.
 */
const BUNDLED_UI_DIR = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../dist/ui/' : '../ui/', import.meta.url));

/**
 * Creates a gateway.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createGateway } from 'agentwire';
 *
 * const gateway = createGateway({
 *   agents: {
 *     echo: async function* (ctx) {
 *       yield `You said: ${String(ctx.input)}`;
 *     },
 *   },
 * });
 * createServer(gateway.listener).listen(8787);
 * ```
 */
export function createGateway(options: GatewayOptions): Gateway {
  const resolved = resolveOptions(options);
  const ownsStore = resolved.store === undefined;
  const store = resolved.store ?? new MemoryStore();
  const runner = new Runner({
    store,
    agents: resolved.agents,
    graceMs: resolved.graceMs,
    exposeErrors: resolved.exposeErrors,
    ...(resolved.onAgentError ? { onAgentError: resolved.onAgentError } : {}),
  });
  const router = new Router();
  registerRunRoutes(router, { runner, store, options: resolved });
  registerMetaRoutes(router, { runner, startedAt: Date.now() });
  if (resolved.uiDir !== false) registerStaticRoutes(router, resolved.uiDir ?? BUNDLED_UI_DIR);
  const core = new GatewayCore(router);
  let closing: Promise<void> | undefined;
  return {
    listener: createNodeListener(core),
    fetch: createFetchHandler(core),
    runner,
    store,
    close() {
      closing ??= (async () => {
        core.close();
        await runner.shutdown();
        if (ownsStore) await store.close();
      })();
      return closing;
    },
  };
}
