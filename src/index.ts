/**
 * `agentwire`: write agents, and the protocol's public types and errors. An agent is an async
 * generator that receives an {@link AgentContext} and yields events or answer text; a gateway
 * (`agentwire/gateway`) runs it and streams its runs. Browser-safe: it imports nothing from Node, so
 * agent code and shared types may live in modules a browser bundle also reads.
 *
 * The other entries: `agentwire/gateway` (the gateway, runner and in-memory store),
 * `agentwire/sources` (ready-made agents), `agentwire/redis`, `agentwire/protocol`,
 * `agentwire/reducer`, `agentwire/client`, `agentwire/react`.
 *
 * @example
 * ```ts
 * import { AgentError, type AgentContext } from 'agentwire';
 *
 * export async function* hello(ctx: AgentContext) {
 *   if (typeof ctx.input !== 'string') throw new AgentError('send a name', 'BAD_INPUT');
 *   const greeting = yield* ctx.step('Think', async function* (step) {
 *     yield step.log('looking at the input');
 *     return `Hello, ${ctx.input}!`;
 *   });
 *   yield greeting; // answer text
 * }
 * ```
 * @module
 */
export type { AgentContext, AgentDefinition, AgentFunction, AgentItem } from './producer/agent.js';
export { AgentError, defineAgent } from './producer/agent.js';
export type { StepBody, StepOptions, StepScope } from './producer/scope.js';
export { sleep } from './runner/sleep.js';
export type {
  AgentEvent,
  AgentYield,
  ErrorInfo,
  EventBody,
  EventType,
  Usage,
} from './protocol/events.js';
export type { ErrorCode } from './protocol/errors.js';
export { AgentwireError, ERROR_CODES, isAgentwireError } from './protocol/errors.js';
export type { RunState, StepState, ToolCallState } from './protocol/run-state.js';
