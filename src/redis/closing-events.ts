/**
 * The events a survivor appends to close a run whose producer was lost: a `step.finished` (error)
 * for every step still open, children before parents, then `run.failed` with code `producer_lost`.
 *
 * @module
 */
import type { AgentEvent, EventBody } from '../protocol/events.js';
import { reduceAll } from '../reducer/reduce.js';
import type { StepState } from '../protocol/run-state.js';

/** The code of the `run.failed` a survivor appends when a run's producer is gone. */
export const PRODUCER_LOST = 'producer_lost';

/** Closing events for a run whose retained log is `events`. */
export function closingEvents(events: readonly AgentEvent[], message: string): EventBody[] {
  const state = reduceAll(events);
  const open = Object.values(state.steps).filter((step) => step.status === 'running');
  const depth = (step: StepState): number => {
    let count = 0;
    let parent = step.parentId;
    while (parent !== undefined && count < 1000) {
      count++;
      parent = state.steps[parent]?.parentId;
    }
    return count;
  };
  open.sort((left, right) => depth(right) - depth(left) || right.startedAt - left.startedAt);
  const error = { code: PRODUCER_LOST, message };
  return [
    ...open.map((step): EventBody => ({ type: 'step.finished', stepId: step.id, status: 'error', error })),
    { type: 'run.failed', error },
  ];
}
