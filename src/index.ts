/**
 * `agentwire`: write agents as async generators and stream their runs over SSE.
 *
 * @example
 * ```ts
 * import { createGateway, listen } from 'agentwire';
 *
 * const gateway = createGateway({
 *   agents: {
 *     hello: async function* (ctx) {
 *       const answer = yield* ctx.step('Think', async function* (step) {
 *         yield step.log('looking at the input');
 *         return `Hello, ${String(ctx.input)}!`;
 *       });
 *       yield answer;
 *     },
 *   },
 * });
 * const server = await listen(gateway, { port: 8787 });
 * ```
 * @module
 */
export type { AgentContext, AgentDefinition, AgentFunction, AgentItem } from './producer/agent.js';
export { AgentError, defineAgent } from './producer/agent.js';
export type { StepBody, StepOptions, StepScope } from './producer/scope.js';
export type { AgentsInput } from './runner/agents.js';
export type { Attachment, RunnerOptions, StartRunRequest } from './runner/runner.js';
export { Runner, sleep } from './runner/runner.js';
export type { CreateRunOptions, FollowOptions, IdempotencyEntry, RunRecord, RunRecordStatus, RunStore, StoreFault, StoreHealth, StoredEvent } from './store/store.js';
export { toStoredEvent } from './store/store.js';
export type { MemoryStoreOptions } from './store/memory-store.js';
export { MemoryStore } from './store/memory-store.js';
export type { Gateway } from './gateway/create-gateway.js';
export { createGateway } from './gateway/create-gateway.js';
export type { GatewayOptions } from './gateway/options.js';
export { DEFAULTS as GATEWAY_DEFAULTS } from './gateway/options.js';
export type { FetchHandler } from './gateway/fetch-handler.js';
export type { NodeListener } from './gateway/node-listener.js';
export type { ListenOptions, ListeningGateway } from './gateway/listen.js';
export { listen } from './gateway/listen.js';
export { SSE_HEADERS } from './gateway/sse-stream.js';
export { demoAgents } from './demo/demo-agents.js';
export type { FetchFunction, OpenAIAgentOptions, OpenAITool, SseBridgeOptions } from './sources/index.js';
export { openaiAgent, sseBridgeAgent } from './sources/index.js';
export type { DemoOptions } from './demo/demo-agents.js';
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
export type { RunState, StepState, ToolCallState } from './reducer/run-state.js';
