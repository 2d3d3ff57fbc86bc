/**
 * The logger a gateway writes to: any pino-compatible logger (`info`/`warn`/`error` taking an
 * object and a message). One line per run start and end, and event-loop stall warnings.
 *
 * @module
 */
import type { RunEndInfo, RunInfo } from '../../runner/runner.js';

/** The subset of pino's API agentwire uses. */
export interface Logger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

/** Logs a run's start. */
export function logRunStart(logger: Logger, run: RunInfo): void {
  logger.info({ event: 'run.started', runId: run.runId, agent: run.agent, owner: run.owner }, `run ${run.runId} started (${run.agent})`);
}

/** Logs a run's end: duration, events, outcome. */
export function logRunEnd(logger: Logger, run: RunEndInfo): void {
  const fields = {
    event: 'run.ended',
    runId: run.runId,
    agent: run.agent,
    owner: run.owner,
    outcome: run.outcome,
    code: run.code,
    abortedBy: run.abortSource,
    durationMs: run.durationMs,
    events: run.events,
  };
  const message = `run ${run.runId} ${run.outcome} after ${run.durationMs} ms, ${run.events} events`;
  if (run.outcome === 'failed') logger.warn(fields, message);
  else logger.info(fields, message);
}
