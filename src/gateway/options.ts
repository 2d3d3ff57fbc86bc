/**
 * Gateway options, their defaults (one frozen object) and their validation.
 *
 * @module
 */
import { AgentwireError } from '../protocol/errors.js';
import type { AgentsInput } from '../runner/agents.js';
import type { RunStore } from '../store/store.js';

/** Options of {@link createGateway}. Times in ms, sizes in bytes. */
export interface GatewayOptions {
  /** The agents this gateway serves; the first is the default. */
  agents: AgentsInput;
  /** The run log. @defaultValue a new `MemoryStore` */
  store?: RunStore;
  /** Interval of `: ping` comments on idle streams, in ms. @defaultValue 15000 */
  heartbeatMs?: number;
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
  /** Called with every error an agent throws. @defaultValue logs to `console.error` */
  onAgentError?: (error: unknown, run: { runId: string; agent: string }) => void;
}

/** The defaults of every optional {@link GatewayOptions} field. */
export const DEFAULTS = Object.freeze({
  heartbeatMs: 15_000,
  retryMs: 2_000,
  graceMs: 30_000 as number | 'continue',
  maxBodyBytes: 1024 * 1024,
  exposeErrors: false,
});

/** Options after defaults are applied. */
export type ResolvedGatewayOptions = Omit<GatewayOptions, keyof typeof DEFAULTS> & typeof DEFAULTS;

/** Merges the defaults and validates; throws `AW_INVALID_OPTION` naming the bad option. */
export function resolveOptions(options: GatewayOptions): ResolvedGatewayOptions {
  if (typeof options !== 'object' || options === null) {
    throw new AgentwireError('AW_INVALID_OPTION', 'createGateway(options): options must be an object with at least { agents }');
  }
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const resolved = { ...DEFAULTS, ...defined } as ResolvedGatewayOptions;
  positive('heartbeatMs', resolved.heartbeatMs);
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
