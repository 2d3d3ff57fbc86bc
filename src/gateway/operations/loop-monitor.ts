/**
 * Event-loop stall detection: an agent that runs synchronous, CPU-heavy code freezes every stream
 * of the process. A timer that fires late measures the stall; the run that appended an event right
 * after it (agents usually yield when their blocking work ends) is named as the likely culprit.
 *
 * @module
 */
import type { Runner } from '../../runner/runner.js';
import type { Logger } from './logger.js';

/** Starts watching; returns the function that stops. */
export function watchEventLoop(runner: Runner, logger: Logger, thresholdMs: number, intervalMs = 100): () => void {
  let expected = performance.now() + intervalMs;
  const timer = setInterval(() => {
    const now = performance.now();
    const stall = now - expected;
    expected = now + intervalMs;
    if (stall < thresholdMs) return;
    const culprit = runner.lastEmit;
    const named = culprit !== undefined && culprit.at >= now - stall - intervalMs;
    logger.warn(
      {
        event: 'event_loop.blocked',
        blockedMs: Math.round(stall),
        ...(named ? { runId: culprit.runId, agent: culprit.agent } : {}),
      },
      named
        ? `the event loop was blocked for ${Math.round(stall)} ms, most likely by agent "${culprit.agent}" (run ${culprit.runId}): move synchronous CPU work to a worker thread`
        : `the event loop was blocked for ${Math.round(stall)} ms`,
    );
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
