/**
 * `agentwire/reducer`: folds a run's events into a {@link RunState}. Browser-safe and pure.
 *
 * @module
 */
export { reduce, reduceAll, RunFold, type RunFoldLimits } from './reduce.js';
export type { RunState, RunStatus, StepState, StepStatus, ToolCallState, ToolCallStatus, Truncation } from '../protocol/run-state.js';
export { initialRunState } from '../protocol/run-state.js';
