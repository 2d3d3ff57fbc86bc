/**
 * `agentwire/sources`: agents you do not have to write. {@link openaiAgent} streams any
 * OpenAI-compatible chat completions server (OpenAI, vLLM, Ollama, llama.cpp) as a run, reasoning as
 * a step and tool calls as tool events; {@link sseBridgeAgent} turns an SSE endpoint you already run
 * into a run. Give them to `createGateway` (`agentwire/gateway`). Node only: they run in the gateway,
 * with its keys; a browser bundle gets a stub that throws (use `agentwire/client` there).
 *
 * @example
 * ```ts
 * import { createGateway } from 'agentwire/gateway';
 * import { openaiAgent, sseBridgeAgent } from 'agentwire/sources';
 *
 * const gateway = createGateway({
 *   agents: [
 *     openaiAgent({ baseURL: 'http://127.0.0.1:11434/v1', model: 'qwen3' }), // named "openai"
 *     sseBridgeAgent('http://127.0.0.1:8000/stream', { name: 'legacy', method: 'GET', inputParam: 'q' }),
 *   ],
 * });
 * ```
 * @module
 */
export type { OpenAIAgentOptions, OpenAITool } from './openai-agent.js';
export { openaiAgent } from './openai-agent.js';
export type { SseBridgeOptions } from './sse-bridge-agent.js';
export { sseBridgeAgent } from './sse-bridge-agent.js';
export type { FetchFunction } from './upstream.js';
