/**
 * `agentwire/client`: read agentwire event streams from browsers and Node — start or attach to a
 * run, resume after drops without losing or repeating an event, and fold it into a live store.
 * Browser-safe: `fetch`, streams, `TextDecoder` and `AbortSignal` only.
 *
 * @module
 */
export { backoffDelay } from './backoff.js';
export type { CancelRunOptions } from './cancel-run.js';
export { cancelRun } from './cancel-run.js';
export { CLIENT_DEFAULTS } from './follow-run.js';
export type { CreateRunStoreOptions, FlushScheduler, RunSnapshot, RunStore } from './run-store.js';
export { createRunStore, defaultScheduler } from './run-store.js';
export type { StartRunOptions } from './start-run.js';
export { startRun } from './start-run.js';
export type { SubscribeOptions } from './subscribe.js';
export { subscribe } from './subscribe.js';
export type { ConnectOptions, ConnectionStatus, RetryOptions } from './types.js';
export { RunStreamError } from './types.js';
export type { AgentEvent } from '../protocol/events.js';
export type { RunState, StepState, ToolCallState } from '../protocol/run-state.js';
export { initialRunState } from '../protocol/run-state.js';
export { reduce } from '../reducer/reduce.js';
