/**
 * Agents you do not have to write: OpenAI-compatible model servers and existing SSE endpoints.
 *
 * @module
 */
export type { OpenAIAgentOptions, OpenAITool } from './openai-agent.js';
export { openaiAgent } from './openai-agent.js';
export type { SseBridgeOptions } from './sse-bridge-agent.js';
export { sseBridgeAgent } from './sse-bridge-agent.js';
export type { FetchFunction } from './upstream.js';
