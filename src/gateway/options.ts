/**
 * Gateway options, their defaults (one frozen object) and their validation.
 *
 * @module
 */
import { AgentwireError } from '../protocol/errors.js';
import type { AgentsInput } from '../runner/agents.js';
import type { AgentErrorRun } from '../runner/runner.js';
import type { RunStore } from '../store/store.js';
import type { AuthOptions } from './policy/auth.js';
import type { Logger } from './operations/logger.js';

/** Limits that protect a gateway; each answers with 429 and `Retry-After` when hit. */
export interface LimitOptions {
  /** Runs running at once for one principal. @defaultValue 20 */
  maxRunsPerPrincipal?: number;
  /** Runs running at once on this gateway. @defaultValue 1000 */
  maxRuns?: number;
  /** Open streams for one principal. @defaultValue 100 */
  maxStreamsPerPrincipal?: number;
  /** Open streams on this gateway. @defaultValue 10000 */
  maxStreams?: number;
  /** Subscribers of one run on this gateway. @defaultValue 1000 */
  maxSubscribersPerRun?: number;
  /** Longest a run may take, in ms, before it fails with `AW_RUN_TIMEOUT`; 0 for no limit. @defaultValue 1800000 (30 min) */
  maxRunMs?: number;
}

/** Options of {@link createGateway}. Times in ms, sizes in bytes. */
export interface GatewayOptions {
  /** The agents this gateway serves; the first is the default. */
  agents: AgentsInput;
  /** The run log. @defaultValue a new `MemoryStore` */
  store?: RunStore;
  /** Interval of the `: ping` comment every stream gets (so no stream is silent longer), in ms. @defaultValue 15000 */
  heartbeatMs?: number;
  /**
   * Longest a subscriber may read nothing while its stream waits to write, in ms; then the gateway
   * drops it (counted in `agentwire_subscribers_dropped_total{reason="stalled"}`), and the run's
   * grace period applies as for a disconnect. A client that stops reading pauses its run (when it is
   * the only subscriber), so this bounds how long one connection can hold a run paused. Checked on
   * the heartbeat clock's ticks: SSE streams are dropped within a fifth of `heartbeatMs` after it,
   * WebSocket sockets at their next ping (within `heartbeatMs`). @defaultValue 45000 (three heartbeats)
   */
  stallTimeoutMs?: number;
  /**
   * Longest a WebSocket may hold no subscription, in ms, from its opening or its last subscription's
   * end; then the gateway closes it (1000, reason `idle: …`). Each open socket counts as one stream
   * against `maxStreamsPerPrincipal` and `maxStreams` (plus one per subscription beyond its first),
   * so this also frees the slots of sockets a client forgot. @defaultValue 60000 (four heartbeats)
   */
  webSocketIdleMs?: number;
  /** The `retry:` sent first on every stream: how long `EventSource` waits to reconnect, in ms. @defaultValue 2000 */
  retryMs?: number;
  /**
   * How long a run with no subscriber keeps going before it is cancelled, in ms; `'continue'` never
   * cancels it. @defaultValue 30000
   */
  graceMs?: number | 'continue';
  /** Largest accepted request body, in bytes. @defaultValue 1048576 (1 MiB) */
  maxBodyBytes?: number;
  /** Show unexpected agent errors' messages to clients (development only). @defaultValue false */
  exposeErrors?: boolean;
  /** Directory of the viewer page; `false` serves no page. @defaultValue the bundled viewer */
  uiDir?: string | false;
  /**
   * Called with every error an agent throws, once each (`run.phase` is `'cleanup'` for one thrown by
   * its `finally` after the run stopped). @defaultValue logs to `logger`, else to `console.error`
   */
  onAgentError?: (error: unknown, run: AgentErrorRun) => void;
  /** Authentication; without it every caller is anonymous and sees every run. */
  auth?: AuthOptions;
  /** Origins allowed to call cross-origin (`'*'` for any, never with credentials). @defaultValue none: same-origin only */
  corsOrigins?: string[];
  /** Limits; see {@link LimitOptions} for each default. */
  limits?: LimitOptions;
  /** Serve Prometheus metrics at `GET /metrics`. @defaultValue true */
  metrics?: boolean;
  /** A pino-compatible logger for run start/end lines and event-loop stall warnings. @defaultValue none */
  logger?: Logger;
  /** Warn (through `logger`) when the event loop stalls this long, in ms. @defaultValue 200 */
  blockWarnMs?: number;
}

/** The defaults of every optional {@link GatewayOptions} field. */
export const DEFAULTS = Object.freeze({
  heartbeatMs: 15_000,
  stallTimeoutMs: 45_000,
  webSocketIdleMs: 60_000,
  retryMs: 2_000,
  graceMs: 30_000 as number | 'continue',
  maxBodyBytes: 1024 * 1024,
  exposeErrors: false,
  metrics: true,
  blockWarnMs: 200,
  limits: Object.freeze({
    maxRunsPerPrincipal: 20,
    maxRuns: 1_000,
    maxStreamsPerPrincipal: 100,
    maxStreams: 10_000,
    maxSubscribersPerRun: 1_000,
    maxRunMs: 30 * 60 * 1000,
  }) as Required<LimitOptions>,
});

/** Options after defaults are applied. */
export type ResolvedGatewayOptions = Omit<GatewayOptions, keyof typeof DEFAULTS> & typeof DEFAULTS;

/** Merges the defaults and validates; throws `AW_INVALID_OPTION` naming the bad option. */
export function resolveOptions(options: GatewayOptions): ResolvedGatewayOptions {
  if (typeof options !== 'object' || options === null) {
    throw new AgentwireError('AW_INVALID_OPTION', 'createGateway(options): options must be an object with at least { agents }');
  }
  if (typeof options.agents === 'function') throw new AgentwireError('AW_INVALID_OPTION', agentsFunctionMessage(options.agents));
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const limits = Object.fromEntries(Object.entries(options.limits ?? {}).filter(([, value]) => value !== undefined));
  const resolved = { ...DEFAULTS, ...defined, limits: { ...DEFAULTS.limits, ...limits } } as ResolvedGatewayOptions;
  for (const [name, value] of Object.entries(resolved.limits)) positive(`limits.${name}`, value, name === 'maxRunMs');
  if (resolved.corsOrigins !== undefined && !Array.isArray(resolved.corsOrigins)) {
    throw new AgentwireError('AW_INVALID_OPTION', 'option corsOrigins must be an array of origins');
  }
  positive('heartbeatMs', resolved.heartbeatMs);
  positive('stallTimeoutMs', resolved.stallTimeoutMs);
  positive('webSocketIdleMs', resolved.webSocketIdleMs);
  positive('retryMs', resolved.retryMs, true);
  positive('maxBodyBytes', resolved.maxBodyBytes);
  if (resolved.graceMs !== 'continue') positive('graceMs', resolved.graceMs, true);
  return resolved;
}

function positive(name: string, value: unknown, zeroAllowed = false): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!zeroAllowed && value === 0)) {
    throw new AgentwireError('AW_INVALID_OPTION', `option ${name} must be a ${zeroAllowed ? 'non-negative' : 'positive'} number, got ${String(value)}`);
  }
}

const AsyncGeneratorFunction = Object.getPrototypeOf(async function* () {}) as object;

/** `agents` got a function: a factory (like `demoAgents`) to call, or one agent to name. */
function agentsFunctionMessage(agents: (...args: never[]) => unknown): string {
  const name = agents.name || 'agents';
  return Object.getPrototypeOf(agents) === AsyncGeneratorFunction
    ? `agents: ${name} is one agent function; pass agents by name: agents: { ${name} }`
    : `agents: ${name} is a function, not agents; if it is a factory like demoAgents, call it: agents: ${name}()`;
}
