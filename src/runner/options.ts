/**
 * The {@link Runner}'s options, and what its hooks and error handler are told about runs.
 *
 * @module
 */
import type { RunStore } from '../store/store.js';
import type { AgentsInput } from './agents.js';
import type { Runner } from './runner.js';

/** Options of {@link Runner}. */
export interface RunnerOptions {
  store: RunStore;
  agents: AgentsInput;
  /**
   * How long a run with no subscriber keeps going before it is cancelled, in ms, so a reconnecting
   * client can pick it up; `'continue'` never cancels (background runs). @defaultValue 30000
   */
  graceMs?: number | 'continue';
  /**
   * How long a run started with no subscriber waits for its first one, in ms, when that is longer
   * than `graceMs`: the time for a client to create a run, then subscribe (one round trip), even
   * with `graceMs: 0`. Once a subscriber has come, `graceMs` alone applies. @defaultValue 5000
   */
  attachWindowMs?: number;
  /** Show unexpected agent errors' messages to clients (development). @defaultValue false */
  exposeErrors?: boolean;
  /**
   * Called with every error an agent throws (masked or not), once each; `phase: 'cleanup'` for one
   * thrown by its `finally` after the run was stopped. @defaultValue logs to `console.error`
   */
  onAgentError?: (error: unknown, run: AgentErrorRun) => void;
  /** Most runs this runner drives at once; one more is refused with `AW_TOO_MANY_RUNS`. @defaultValue unlimited */
  maxRuns?: number;
  /** Most runs one owner has running at once. @defaultValue unlimited */
  maxRunsPerOwner?: number;
  /** Longest a run may take, in ms, before it fails with `AW_RUN_TIMEOUT`; 0 for no limit. @defaultValue 0 */
  maxRunMs?: number;
  /** Called when a run starts and when it ends (logs, metrics). */
  hooks?: RunnerHooks;
}

/** The run an agent error belongs to, as {@link RunnerOptions.onAgentError} is told. */
export interface AgentErrorRun {
  runId: string;
  agent: string;
  /** `'cleanup'`: thrown by the agent's `finally` (or an `await` in it) after its run was stopped. */
  phase?: 'cleanup';
}

/** The one-line summary logged with an agent's error: which agent, which run, and when it threw. */
export function describeAgentError(run: AgentErrorRun): string {
  return `agent "${run.agent}" ${run.phase === 'cleanup' ? 'threw in its finally after the run stopped' : 'failed'} in run ${run.runId}`;
}

/** What stopped a run early. */
export type AbortSource = 'cancel' | 'disconnect' | 'timeout' | 'shutdown' | 'failure';

/** A run as the hooks see it. */
export interface RunInfo {
  runId: string;
  agent: string;
  owner: string | undefined;
  startedAt: number;
}

/** A finished run as the end hook sees it. */
export interface RunEndInfo extends RunInfo {
  outcome: 'finished' | 'failed' | 'cancelled';
  /** The error code of a failed run. */
  code: string | undefined;
  /** What stopped it early, if anything did. */
  abortSource: AbortSource | undefined;
  durationMs: number;
  /** Events in its log. */
  events: number;
}

/** Observers of the runner. Exceptions they throw are ignored. */
export interface RunnerHooks {
  onRunStart?(run: RunInfo): void;
  onRunEnd?(run: RunEndInfo): void;
  /** An agent's `finally` threw after its run was stopped (the error goes to `onAgentError`). */
  onAgentCleanupError?(run: AgentErrorRun): void;
}

/** A request to start a run. */
export interface StartRunRequest {
  agent?: string | undefined;
  input: unknown;
  owner?: string | undefined;
}
