/**
 * `openaiAgent`: an agent that streams chat completions from any OpenAI-compatible endpoint
 * (OpenAI, vLLM, Ollama, llama.cpp server, DeepSeek…). Content becomes answer text, reasoning
 * deltas a "Thinking" step, streamed tool-call fragments `tool.call` events (executed, and their
 * results sent back to the model, when you give the tool an `execute`), usage `run.finished.usage`.
 *
 * @module
 */
import type { AgentContext, AgentDefinition, AgentItem } from '../producer/agent.js';
import type { Usage } from '../protocol/events.js';
import { AgentwireError } from '../protocol/errors.js';
import { type FetchFunction, readUpstreamSse, requestUpstream } from './upstream.js';

/** A tool the model may call; with `execute`, the agent runs it and sends the result back. */
export interface OpenAITool {
  description?: string;
  /** JSON Schema of the arguments. */
  parameters?: Record<string, unknown>;
  execute?: (args: unknown, signal: AbortSignal) => Promise<unknown> | unknown;
}

/** Options of {@link openaiAgent}. */
export interface OpenAIAgentOptions {
  /** e.g. `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1` (Ollama), `http://127.0.0.1:8000/v1` (vLLM). */
  baseURL: string;
  model: string;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  /** The agent's name. @defaultValue 'openai' */
  name?: string;
  /** A system message put first. */
  system?: string;
  /** Tools by name. */
  tools?: Record<string, OpenAITool>;
  /** Most model calls per run when tools are executed. @defaultValue 5 */
  maxSteps?: number;
  /** Extra fields of the request body (`temperature`, `max_tokens`, …). */
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** @defaultValue globalThis.fetch */
  fetch?: FetchFunction;
}

/** A chat message in the OpenAI format. */
type ChatMessage = Record<string, unknown> & { role: string };

interface PendingCall {
  id: string;
  name: string;
  args: string;
}

interface ChunkChoice {
  delta?: {
    content?: unknown;
    reasoning_content?: unknown;
    reasoning?: unknown;
    tool_calls?: { index?: number; id?: string; function?: { name?: string; arguments?: string } }[];
  };
  finish_reason?: string | null;
}

/**
 * Creates an agent that streams from an OpenAI-compatible `/chat/completions`. Its input is a
 * string (the user message), `{ messages }` (a whole conversation) or `{ prompt }`.
 *
 * @example
 * ```ts
 * const gateway = createGateway({
 *   agents: [openaiAgent({ baseURL: 'http://127.0.0.1:11434/v1', model: 'qwen3' })],
 * });
 * ```
 */
export function openaiAgent(options: OpenAIAgentOptions): AgentDefinition {
  if (typeof options.baseURL !== 'string' || !/^https?:\/\//.test(options.baseURL)) {
    throw new AgentwireError('AW_INVALID_OPTION', `openaiAgent: baseURL must be an http(s) URL, got ${JSON.stringify(options.baseURL)}`);
  }
  if (typeof options.model !== 'string' || options.model === '') {
    throw new AgentwireError('AW_INVALID_OPTION', 'openaiAgent: model is required');
  }
  const url = `${options.baseURL.replace(/\/+$/, '')}/chat/completions`;
  const fetchFunction = options.fetch ?? ((input, init) => fetch(input, init));
  const maxSteps = options.maxSteps ?? 5;
  const tools = Object.entries(options.tools ?? {}).map(([name, tool]) => ({
    type: 'function',
    function: { name, ...(tool.description ? { description: tool.description } : {}), parameters: tool.parameters ?? { type: 'object', properties: {} } },
  }));

  async function* run(ctx: AgentContext): AsyncGenerator<AgentItem, unknown> {
    const messages = toMessages(ctx.input, options.system);
    const usage: Usage = {};
    let thinkingCount = 0;
    for (let step = 1; ; step++) {
      const response = await requestUpstream(fetchFunction, url, {
        method: 'POST',
        signal: ctx.signal,
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
          ...options.headers,
        },
        body: JSON.stringify({
          ...options.body,
          model: options.model,
          messages,
          stream: true,
          stream_options: { include_usage: true },
          ...(tools.length > 0 ? { tools } : {}),
        }),
      });
      let thinkingStep: string | undefined;
      let content = '';
      let finishReason: string | undefined;
      let done = false;
      const calls = new Map<number, PendingCall>();
      for await (const message of readUpstreamSse(response, url, ctx.signal)) {
        if (message.data.trim() === '[DONE]') {
          done = true;
          break;
        }
        const chunk = parseChunk(message.data, url);
        if (chunk.usage) addUsage(usage, chunk.usage);
        for (const choice of (chunk.choices ?? []) as ChunkChoice[]) {
          const delta = choice.delta ?? {};
          const reasoning = typeof delta.reasoning_content === 'string' ? delta.reasoning_content : delta.reasoning;
          if (typeof reasoning === 'string' && reasoning !== '') {
            if (thinkingStep === undefined) {
              thinkingStep = `thinking-${++thinkingCount}`;
              yield { type: 'step.started', stepId: thinkingStep, title: 'Thinking', kind: 'thought' };
            }
            yield { type: 'text.delta', stepId: thinkingStep, text: reasoning };
          }
          if (typeof delta.content === 'string' && delta.content !== '') {
            if (thinkingStep !== undefined) {
              yield { type: 'step.finished', stepId: thinkingStep, status: 'complete' };
              thinkingStep = undefined;
            }
            content += delta.content;
            yield delta.content;
          }
          for (const fragment of delta.tool_calls ?? []) {
            const index = fragment.index ?? 0;
            const call = calls.get(index) ?? { id: '', name: '', args: '' };
            if (fragment.id) call.id = fragment.id;
            if (fragment.function?.name) call.name += fragment.function.name;
            if (fragment.function?.arguments) call.args += fragment.function.arguments;
            calls.set(index, call);
          }
          if (choice.finish_reason) finishReason = choice.finish_reason;
        }
      }
      if (!done) throw new AgentwireError('AW_UPSTREAM_INCOMPLETE', `the stream from ${url} ended before [DONE]`);
      if (thinkingStep !== undefined) yield { type: 'step.finished', stepId: thinkingStep, status: 'complete' };
      const assembled = [...calls.entries()].sort(([a], [b]) => a - b).map(([index, call]) => ({ ...call, id: call.id || `call_${step}_${index}` }));
      for (const call of assembled) yield { type: 'tool.call', callId: call.id, name: call.name, args: parseArguments(call.args) };
      const executable = assembled.length > 0 && assembled.every((call) => options.tools?.[call.name]?.execute);
      if (!executable || step >= maxSteps) {
        if (Object.keys(usage).length > 0) ctx.reportUsage(usage);
        return {
          model: options.model,
          finishReason,
          ...(assembled.length > 0 ? { toolCalls: assembled.map((call) => ({ id: call.id, name: call.name, arguments: parseArguments(call.args) })) } : {}),
        };
      }
      messages.push({
        role: 'assistant',
        content: content === '' ? null : content,
        tool_calls: assembled.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.args } })),
      });
      for (const call of assembled) {
        const tool = options.tools?.[call.name] as Required<Pick<OpenAITool, 'execute'>>;
        let result: unknown;
        try {
          result = await tool.execute(parseArguments(call.args), ctx.signal);
          yield { type: 'tool.result', callId: call.id, result };
        } catch (error) {
          if (ctx.signal.aborted) throw error;
          const message = error instanceof Error ? error.message : String(error);
          yield { type: 'tool.result', callId: call.id, error: { code: 'AW_TOOL_ERROR', message } };
          result = { error: message };
        }
        messages.push({ role: 'tool', tool_call_id: call.id, content: typeof result === 'string' ? result : JSON.stringify(result ?? null) });
      }
    }
  }

  return { name: options.name ?? 'openai', description: `Streams ${options.model} from ${options.baseURL}`, run };
}

function toMessages(input: unknown, system: string | undefined): ChatMessage[] {
  const messages: ChatMessage[] = system ? [{ role: 'system', content: system }] : [];
  if (typeof input === 'string') return [...messages, { role: 'user', content: input }];
  if (typeof input === 'object' && input !== null) {
    const candidate = input as { messages?: unknown; prompt?: unknown };
    if (Array.isArray(candidate.messages)) return [...messages, ...(candidate.messages as ChatMessage[])];
    if (typeof candidate.prompt === 'string') return [...messages, { role: 'user', content: candidate.prompt }];
  }
  throw new AgentwireError('AW_BAD_REQUEST', 'the input of an OpenAI agent must be a string, { prompt } or { messages }');
}

function parseChunk(data: string, url: string): { choices?: unknown[]; usage?: Record<string, unknown> } {
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch {
    throw new AgentwireError('AW_UPSTREAM_MALFORMED', `${url} sent a chunk that is not JSON: ${data.slice(0, 120)}`);
  }
  if (typeof chunk !== 'object' || chunk === null) {
    throw new AgentwireError('AW_UPSTREAM_MALFORMED', `${url} sent a chunk that is not an object: ${data.slice(0, 120)}`);
  }
  const error = (chunk as { error?: { message?: unknown } | string }).error;
  if (error) {
    const message = typeof error === 'string' ? error : typeof error.message === 'string' ? error.message : JSON.stringify(error);
    throw new AgentwireError('AW_UPSTREAM_ERROR', `the model server reported: ${message}`);
  }
  return chunk as { choices?: unknown[]; usage?: Record<string, unknown> };
}

function addUsage(usage: Usage, reported: Record<string, unknown>): void {
  const number = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
  const input = number(reported.prompt_tokens);
  const output = number(reported.completion_tokens);
  const total = number(reported.total_tokens);
  if (input !== undefined) usage.inputTokens = (usage.inputTokens ?? 0) + input;
  if (output !== undefined) usage.outputTokens = (usage.outputTokens ?? 0) + output;
  if (total !== undefined) usage.totalTokens = (usage.totalTokens ?? 0) + total;
}

/** The tool arguments as JSON when they parse, otherwise the raw string (models do send broken JSON). */
function parseArguments(raw: string): unknown {
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
