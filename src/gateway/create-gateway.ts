/**
 * `createGateway(options)`: the agentwire HTTP API over one runner and one store, as a Node
 * listener and as a Web fetch handler sharing the same core.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { Runner, describeAgentError } from '../runner/runner.js';
import { MemoryStore } from '../store/memory-store.js';
import type { RunStore } from '../store/store.js';
import { StreamTokens, resolveAuthenticate } from './policy/auth.js';
import { GatewayCore } from './core.js';
import { Cors } from './policy/cors.js';
import { IdempotencyKeys, describeIdempotencyFailure } from './policy/idempotency.js';
import { shareSignal } from './transports/linked-signal.js';
import { logRunEnd, logRunStart } from './operations/logger.js';
import { watchEventLoop } from './operations/loop-monitor.js';
import { GatewayMetrics } from './operations/metrics.js';
import { StreamLimits } from './policy/stream-limits.js';
import { watchStoreFaults } from './operations/store-faults.js';
import { type UpgradeHandler, createWebSocketTransport } from './transports/websocket.js';
import { type FetchHandler, createFetchHandler } from './adapters/fetch-handler.js';
import { type NodeListener, createNodeListener } from './adapters/node-listener.js';
import { type GatewayOptions, resolveOptions } from './options.js';
import { Router } from './router.js';
import { registerChatRoutes } from './routes/chat.js';
import { registerMetaRoutes } from './routes/meta.js';
import { registerPollRoutes } from './transports/poll.js';
import { registerRunRoutes } from './routes/runs.js';
import { registerStaticRoutes } from './routes/static.js';

/** A gateway: mount `listener` in a Node server or `fetch` in a Web-standard framework. */
export interface Gateway {
  /** `(req, res)` listener for `node:http`, Express, Fastify's raw handler. */
  readonly listener: NodeListener;
  /** `fetch(Request) → Response` for Hono, Next.js route handlers, Bun, Deno. */
  readonly fetch: FetchHandler;
  /** The WebSocket transport (`/api/ws`): `server.on('upgrade', gateway.upgrade)` (`listen` does it). */
  readonly upgrade: UpgradeHandler;
  /** The runner driving this gateway's runs. */
  readonly runner: Runner;
  /** The run log. */
  readonly store: RunStore;
  /**
   * Shuts down: new requests get 503; live runs are cancelled (their streams receive
   * `run.cancelled` and end) or, with `runs: 'finish'`, given until the deadline to finish; then the
   * store is closed if the gateway created it.
   */
  close(options?: CloseOptions): Promise<void>;
}

/** How a gateway shuts down. */
export interface CloseOptions {
  /** `cancel` live runs at once, or let them `finish` until the deadline. @defaultValue 'cancel' */
  runs?: 'cancel' | 'finish';
  /** Most time given to runs to finish, in ms (then they are cancelled). @defaultValue 10000 */
  deadlineMs?: number;
  /**
   * End every open stream at once, without a terminal event, so clients reconnect (with
   * `Last-Event-ID`) to another gateway: for several gateways sharing a store. @defaultValue false
   */
  endStreams?: boolean;
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
 * import { createGateway } from 'agentwire/gateway';
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
  const { limits, logger } = resolved;
  // The metrics read the runner when scraped; the runner reports to the metrics through its hooks.
  const metrics = resolved.metrics ? new GatewayMetrics(() => runner.liveRunCount) : undefined;
  const runner: Runner = new Runner({
    store,
    agents: resolved.agents,
    graceMs: resolved.graceMs,
    exposeErrors: resolved.exposeErrors,
    maxRuns: limits.maxRuns,
    maxRunsPerOwner: limits.maxRunsPerPrincipal,
    maxRunMs: limits.maxRunMs,
    hooks: {
      onRunStart(run) {
        metrics?.runStarted(run);
        if (logger) logRunStart(logger, run);
      },
      onRunEnd(run) {
        metrics?.runEnded(run);
        if (logger) logRunEnd(logger, run);
      },
      onAgentCleanupError: () => metrics?.agentCleanupError(),
    },
    ...(resolved.onAgentError ? { onAgentError: resolved.onAgentError } : logger ? { onAgentError: (error, run) => logger.error({ event: 'agent.error', ...run, err: error }, describeAgentError(run)) } : {}),
  });
  const stopLoopWatch = logger ? watchEventLoop(runner, logger, resolved.blockWarnMs) : () => {};
  const stopFaultWatch = watchStoreFaults(store, logger, metrics);
  const authenticate = resolveAuthenticate(resolved.auth);
  const streamsClosing = new AbortController();
  // Every stream links to it: one listener, the streams in a set (see linked-signal.ts).
  shareSignal(streamsClosing.signal);
  const streamTokens = new StreamTokens(resolved.auth?.streamTokenSecret, resolved.auth?.streamTokenTtlMs);
  const streamLimits = new StreamLimits(limits);
  const context = {
    runner,
    store,
    options: resolved,
    limits: streamLimits,
    streamTokens,
    idempotency: new IdempotencyKeys(
      store,
      logger ? { onError: (error, failure) => logger.error({ event: 'idempotency.store_error', ...failure, err: error }, describeIdempotencyFailure(failure)) } : {},
    ),
    authEnabled: authenticate !== undefined,
    metrics,
    shutdownSignal: streamsClosing.signal,
  };
  const router = new Router();
  registerRunRoutes(router, context);
  registerChatRoutes(router, context);
  registerPollRoutes(router, context);
  registerMetaRoutes(router, { runner, startedAt: Date.now(), metrics });
  if (resolved.uiDir !== false) registerStaticRoutes(router, resolved.uiDir ?? BUNDLED_UI_DIR);
  const cors = new Cors(resolved.corsOrigins);
  const webSocket = createWebSocketTransport(context, { authenticate, streamTokens, allowedOrigin: (origin, host) => cors.allows(origin, host) });
  const core = new GatewayCore(router, {
    cors,
    authenticate,
    streamTokens,
    ...(metrics ? { onRefused: (code: string) => metrics.refused(code) } : {}),
  });
  let closing: Promise<void> | undefined;
  return {
    listener: createNodeListener(core),
    fetch: createFetchHandler(core),
    upgrade: webSocket.upgrade,
    runner,
    store,
    close(closeOptions: CloseOptions = {}) {
      closing ??= (async () => {
        core.close();
        if (closeOptions.endStreams) streamsClosing.abort();
        if (closeOptions.endStreams) await webSocket.close();
        if (closeOptions.runs === 'finish') await runner.drain(closeOptions.deadlineMs ?? 10_000);
        await runner.shutdown();
        // The runs here have ended: once their streams have sent that end, the streams left follow
        // runs another gateway produces. End those as a hand-off does (no terminal event, a clean
        // close), so their clients resume elsewhere instead of having the connection cut.
        await streamLimits.settled(async (runId) => (await store.getRun(runId).catch(() => undefined))?.status === 'running', 1_000);
        streamsClosing.abort();
        await webSocket.close(1_000);
        stopLoopWatch();
        stopFaultWatch();
        metrics?.close();
        if (ownsStore) await store.close();
      })();
      return closing;
    },
  };
}
