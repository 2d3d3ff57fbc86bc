/**
 * `sseBridgeAgent`: wraps an existing SSE endpoint (a FastAPI `StreamingResponse`, an Express
 * route…) as an agentwire agent, so its stream gains resume, fan-out, backpressure and the viewer.
 *
 * @module
 */
import type { AgentContext, AgentDefinition, AgentItem } from '../producer/agent.js';
import { AgentwireError } from '../protocol/errors.js';
import { type FetchFunction, readUpstreamSse, requestUpstream } from './upstream.js';

/** Options of {@link sseBridgeAgent}. Event names are matched case-insensitively. */
export interface SseBridgeOptions {
  /** The agent's name. @defaultValue 'bridge' */
  name?: string;
  /** `GET` sends the input as a query parameter, `POST` as a JSON body `{ [inputParam]: input }`. @defaultValue 'GET' */
  method?: 'GET' | 'POST';
  /** Name of the query parameter or body field carrying the input. @defaultValue 'input' */
  inputParam?: string;
  headers?: Record<string, string>;
  /** Events that open a new top-level step titled by their data. @defaultValue ['step', 'status', 'thought', 'progress'] */
  stepEvents?: string[];
  /** Events that carry answer text (`message` is SSE's default type). @defaultValue ['token', 'delta', 'text', 'message'] */
  textEvents?: string[];
  /** Events that end the run (data `[DONE]` does too). @defaultValue ['close', 'done', 'end'] */
  endEvents?: string[];
  /** Events that fail the run with their data as the message. @defaultValue ['error'] */
  errorEvents?: string[];
  /** @defaultValue globalThis.fetch */
  fetch?: FetchFunction;
}

const TEXT_FIELDS = ['text', 'token', 'delta', 'content', 'word'] as const;
const TITLE_FIELDS = ['title', 'message', 'status', 'step', 'text', 'name'] as const;

/**
 * Creates an agent that relays `url`'s SSE stream. Step-like events open a top-level step (the
 * previous one finishes when the next opens or the stream ends); text events are answer text
 * (plain data as sent — SSE strips exactly one leading space, so `data:  world` keeps " world" —
 * or a JSON object's `text`/`token`/`delta`/`content`/`word`); end events or `[DONE]` end the run;
 * error events fail it; other events become `data` events named after them.
 */
export function sseBridgeAgent(url: string, options: SseBridgeOptions = {}): AgentDefinition {
  if (!/^https?:\/\//.test(url)) throw new AgentwireError('AW_INVALID_OPTION', `sseBridgeAgent: url must be an http(s) URL, got ${JSON.stringify(url)}`);
  const names = (list: string[] | undefined, fallback: string[]) => new Set((list ?? fallback).map((name) => name.toLowerCase()));
  const stepEvents = names(options.stepEvents, ['step', 'status', 'thought', 'progress']);
  const textEvents = names(options.textEvents, ['token', 'delta', 'text', 'message']);
  const endEvents = names(options.endEvents, ['close', 'done', 'end']);
  const errorEvents = names(options.errorEvents, ['error']);
  const method = options.method ?? 'GET';
  const inputParam = options.inputParam ?? 'input';
  const fetchFunction = options.fetch ?? ((input, init) => fetch(input, init));

  async function* run(ctx: AgentContext): AsyncGenerator<AgentItem, unknown> {
    const input = typeof ctx.input === 'string' ? ctx.input : JSON.stringify(ctx.input ?? null);
    const target = new URL(url);
    if (method === 'GET') target.searchParams.set(inputParam, input);
    const response = await requestUpstream(fetchFunction, target.href, {
      method,
      signal: ctx.signal,
      headers: {
        accept: 'text/event-stream',
        ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      ...(method === 'POST' ? { body: JSON.stringify({ [inputParam]: ctx.input }) } : {}),
    });
    let openStep: string | undefined;
    let steps = 0;
    const finishStep = function* (): Generator<AgentItem> {
      if (openStep !== undefined) yield { type: 'step.finished', stepId: openStep, status: 'complete' };
      openStep = undefined;
    };
    for await (const message of readUpstreamSse(response, url, ctx.signal)) {
      const type = (message.event ?? 'message').toLowerCase();
      if (message.data === '[DONE]' || endEvents.has(type)) break;
      if (errorEvents.has(type)) {
        throw new AgentwireError('AW_UPSTREAM_ERROR', `the bridged stream reported an error: ${pick(message.data, ['error', ...TITLE_FIELDS]) || message.data}`);
      }
      if (stepEvents.has(type)) {
        yield* finishStep();
        openStep = `bridge-${++steps}`;
        yield { type: 'step.started', stepId: openStep, title: pick(message.data, TITLE_FIELDS) || type, kind: type };
      } else if (textEvents.has(type)) {
        const text = pick(message.data, TEXT_FIELDS);
        if (text !== '') yield text;
      } else {
        yield { type: 'data', name: type, value: parseMaybe(message.data) };
      }
    }
    yield* finishStep();
    return undefined;
  }

  return { name: options.name ?? 'bridge', description: `Relays the SSE stream of ${url}`, run };
}

/** The first string field of a JSON object among `fields`; otherwise the data itself. */
function pick(data: string, fields: readonly string[]): string {
  const parsed = parseMaybe(data);
  if (typeof parsed === 'object' && parsed !== null) {
    for (const field of fields) {
      const value = (parsed as Record<string, unknown>)[field];
      if (typeof value === 'string') return value;
    }
  }
  return data;
}

function parseMaybe(data: string): unknown {
  const trimmed = data.trimStart();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return data;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}
