/**
 * `agentwire/gateway`: serve agents over HTTP. {@link createGateway} runs agents and streams their
 * runs (SSE, WebSocket, long-polling) from a Node `(req, res)` listener or a Web `fetch` handler;
 * {@link listen} starts a tuned `node:http` server for it. Below it: the {@link Runner} that drives
 * runs into a {@link RunStore}, the in-process {@link MemoryStore} (the default), and
 * {@link demoAgents}, the scripted agents `agentwire serve` runs when given none. Node only: a
 * browser bundle gets a stub that throws (use `agentwire/client` there).
 *
 * @example
 * ```ts
 * import type { AgentContext } from 'agentwire';
 * import { createGateway, listen } from 'agentwire/gateway';
 *
 * async function* echo(ctx: AgentContext) {
 *   yield `You said: ${String(ctx.input)}`;
 * }
 *
 * const gateway = createGateway({ agents: { echo } });
 * const server = await listen(gateway, { port: 8787 }); // host defaults to 127.0.0.1
 * console.log(server.url);
 * ```
 * @module
 */
export type { Gateway } from './create-gateway.js';
export { createGateway } from './create-gateway.js';
export type { GatewayOptions } from './options.js';
export { DEFAULTS as GATEWAY_DEFAULTS } from './options.js';
export type { FetchHandler } from './adapters/fetch-handler.js';
export type { NodeListener } from './adapters/node-listener.js';
export type { ListenOptions, ListeningGateway } from './adapters/listen.js';
export { listen } from './adapters/listen.js';
export { SSE_HEADERS } from './transports/sse.js';
export type { AgentsInput } from '../runner/agents.js';
export type { Attachment, RunnerOptions, StartRunRequest } from '../runner/runner.js';
export { Runner } from '../runner/runner.js';
export type { CreateRunOptions, FollowOptions, IdempotencyEntry, RunRecord, RunRecordStatus, RunStore, StoreFault, StoreHealth, StoredEvent } from '../store/store.js';
export { toStoredEvent } from '../store/store.js';
export type { MemoryStoreOptions } from '../store/memory-store.js';
export { MemoryStore } from '../store/memory-store.js';
export type { DemoOptions } from '../demo/demo-agents.js';
export { demoAgents } from '../demo/demo-agents.js';
