import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeServer, chunk, sseHead, startFakeServer, usageChunk } from '../../test/helpers/fake-upstream.js';
import type { AgentEvent } from '../protocol/events.js';
import { Runner } from '../runner/runner.js';
import { MemoryStore } from '../store/memory-store.js';
import { type OpenAIAgentOptions, openaiAgent } from './openai-agent.js';

/** The fake model server: the request's `model` picks the scenario. */
async function modelServer(): Promise<FakeServer> {
  return startFakeServer(async ({ body }, response) => {
    const request = body as { model: string; messages: { role: string }[]; stream: boolean };
    const write = (text: string) => response.write(text);
    switch (request.model) {
      case 'basic':
        sseHead(response);
        write(chunk({ role: 'assistant', content: '' }));
        write(chunk({ content: 'Hello' }));
        write(chunk({ content: ' world' }));
        write(chunk({}, 'stop'));
        write(usageChunk(7, 2));
        write('data: [DONE]\n\n');
        return response.end();
      case 'reasoning':
        sseHead(response);
        write(chunk({ reasoning_content: 'Let me ' }));
        write(chunk({ reasoning_content: 'think.' }));
        write(chunk({ content: 'Paris.' }));
        write(chunk({ reasoning: 'Ollama-style reasoning' }));
        write(chunk({ content: ' Done.' }, 'stop'));
        write('data: [DONE]\n\n');
        return response.end();
      case 'tools': {
        sseHead(response);
        if (request.messages.at(-1)?.role === 'tool') {
          write(chunk({ content: 'It is sunny.' }, 'stop'));
          write(usageChunk(20, 4));
          write('data: [DONE]\n\n');
          return response.end();
        }
        write(chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } }] }));
        write(chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'time', arguments: '{"tz":' } }] }));
        write(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }));
        write(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }));
        write(chunk({ tool_calls: [{ index: 1, function: { arguments: '"UTC"}' } }] }));
        write(chunk({}, 'tool_calls'));
        write(usageChunk(10, 8));
        write('data: [DONE]\n\n');
        return response.end();
      }
      case 'http-error':
        response.writeHead(401, { 'content-type': 'application/json' });
        return response.end(JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } }));
      case 'mid-error':
        sseHead(response);
        write(chunk({ content: 'Par' }));
        write(`data: ${JSON.stringify({ error: { message: 'The server is overloaded', type: 'server_error' } })}\n\n`);
        return response.end();
      case 'malformed':
        sseHead(response);
        write(chunk({ content: 'ok' }));
        write('data: {"choices": [\n\n');
        return response.end();
      case 'no-done':
        sseHead(response);
        write(chunk({ content: 'cut' }));
        return response.end();
      case 'reset':
        sseHead(response);
        write(chunk({ content: 'before the reset' }));
        setTimeout(() => response.socket?.destroy(), 20);
        return;
      case 'slow': {
        sseHead(response);
        const timer = setInterval(() => write(chunk({ content: '.' })), 20);
        response.once('close', () => clearInterval(timer));
        return;
      }
      default:
        response.writeHead(404);
        response.end();
    }
  });
}

describe('openaiAgent', () => {
  let server: FakeServer;
  const stores: MemoryStore[] = [];
  beforeAll(async () => {
    server = await modelServer();
  });
  afterAll(async () => {
    await server.close();
    for (const store of stores) await store.close();
  });

  async function runWith(options: Partial<OpenAIAgentOptions> & { model: string }, input: unknown = 'hi'): Promise<AgentEvent[]> {
    const store = new MemoryStore();
    stores.push(store);
    const runner = new Runner({ store, agents: [openaiAgent({ baseURL: `${server.url}/v1`, ...options })], graceMs: 'continue', onAgentError: () => {} });
    const record = await runner.start({ input });
    const events: AgentEvent[] = [];
    for await (const batch of store.follow(record.id, 0)) events.push(...batch.map((stored) => stored.event));
    return events;
  }

  const answer = (events: AgentEvent[]) => events.flatMap((event) => (event.type === 'text.delta' && event.stepId === undefined ? [event.text] : [])).join('');

  it('streams content deltas as answer text and reports usage, sending a streaming request with the key', async () => {
    const events = await runWith({ model: 'basic', apiKey: 'sk-test', system: 'Be brief.' }, 'Say hello');
    expect(answer(events)).toBe('Hello world');
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', usage: { inputTokens: 7, outputTokens: 2, totalTokens: 9 }, output: { finishReason: 'stop' } });
    const request = server.requests.at(-1);
    expect(request?.url).toBe('/v1/chat/completions');
    expect(request?.headers.authorization).toBe('Bearer sk-test');
    expect(request?.body).toMatchObject({
      model: 'basic',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }],
    });
  });

  it('puts reasoning deltas (reasoning_content and reasoning) in Thinking steps closed before the answer', async () => {
    const events = await runWith({ model: 'reasoning' });
    const types = events.map((event) => (event.type === 'text.delta' ? `${event.type}${event.stepId ? '@step' : ''}` : event.type));
    expect(types).toEqual([
      'run.started',
      'step.started',
      'text.delta@step',
      'text.delta@step',
      'step.finished',
      'text.delta',
      'step.started',
      'text.delta@step',
      'step.finished',
      'text.delta',
      'run.finished',
    ]);
    expect(events[1]).toMatchObject({ type: 'step.started', title: 'Thinking', kind: 'thought' });
    expect(answer(events)).toBe('Paris. Done.');
  });

  it('assembles streamed tool-call fragments into tool.call events with parsed arguments', async () => {
    const events = await runWith({ model: 'tools' });
    const calls = events.filter((event) => event.type === 'tool.call');
    expect(calls).toMatchObject([
      { callId: 'call_a', name: 'weather', args: { city: 'Paris' } },
      { callId: 'call_b', name: 'time', args: { tz: 'UTC' } },
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', output: { finishReason: 'tool_calls', toolCalls: [{ id: 'call_a' }, { id: 'call_b' }] } });
  });

  it('executes tools that have execute, sends their results back and streams the final answer', async () => {
    const seen: unknown[] = [];
    const events = await runWith({
      model: 'tools',
      tools: {
        weather: { execute: (args) => (seen.push(args), { sky: 'sunny' }) },
        time: { execute: () => '12:00' },
      },
    });
    expect(seen).toEqual([{ city: 'Paris' }]);
    expect(events.filter((event) => event.type === 'tool.result')).toMatchObject([
      { callId: 'call_a', result: { sky: 'sunny' } },
      { callId: 'call_b', result: '12:00' },
    ]);
    expect(answer(events)).toBe('It is sunny.');
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', usage: { inputTokens: 30, outputTokens: 12 } });
    const followUp = server.requests.at(-1)?.body as { messages: { role: string; tool_call_id?: string; content?: string }[] };
    expect(followUp.messages.slice(-3)).toMatchObject([
      { role: 'assistant' },
      { role: 'tool', tool_call_id: 'call_a', content: '{"sky":"sunny"}' },
      { role: 'tool', tool_call_id: 'call_b', content: '12:00' },
    ]);
  });

  it.each([
    ['http-error', 'AW_UPSTREAM_HTTP', /HTTP 401: Incorrect API key provided/],
    ['mid-error', 'AW_UPSTREAM_ERROR', /overloaded/],
    ['malformed', 'AW_UPSTREAM_MALFORMED', /not JSON/],
    ['no-done', 'AW_UPSTREAM_INCOMPLETE', /ended before \[DONE\]/],
    ['reset', 'AW_UPSTREAM_CONNECTION', /broke/],
  ])('fails the run with a clear code when the upstream does %s', async (model, code, message) => {
    const events = await runWith({ model });
    const last = events.at(-1);
    expect(last).toMatchObject({ type: 'run.failed', error: { code } });
    expect(last?.type === 'run.failed' && last.error.message).toMatch(message);
  });

  it('fails with AW_UPSTREAM_CONNECTION when nothing listens at the base URL', async () => {
    const store = new MemoryStore();
    stores.push(store);
    const runner = new Runner({ store, agents: [openaiAgent({ baseURL: 'http://127.0.0.1:9/v1', model: 'x' })], graceMs: 'continue', onAgentError: () => {} });
    const record = await runner.start({ input: 'hi' });
    const events: AgentEvent[] = [];
    for await (const batch of store.follow(record.id, 0)) events.push(...batch.map((stored) => stored.event));
    expect(events.at(-1)).toMatchObject({ type: 'run.failed', error: { code: 'AW_UPSTREAM_CONNECTION' } });
  });

  it('aborts the upstream request when the run is cancelled', async () => {
    const store = new MemoryStore();
    stores.push(store);
    const runner = new Runner({ store, agents: [openaiAgent({ baseURL: `${server.url}/v1`, model: 'slow' })], graceMs: 'continue' });
    const record = await runner.start({ input: 'hi' });
    const events: AgentEvent[] = [];
    for await (const batch of store.follow(record.id, 0)) {
      events.push(...batch.map((stored) => stored.event));
      if (events.length >= 4) break;
    }
    const gone = server.clientGone();
    await runner.cancel(record.id, 'user stop');
    await gone;
    expect((await store.read(record.id, 0)).at(-1)?.event).toMatchObject({ type: 'run.cancelled', reason: 'user stop' });
  });

  it('rejects bad options at creation', () => {
    expect(() => openaiAgent({ baseURL: 'localhost:1234', model: 'm' })).toThrow(/baseURL/);
    expect(() => openaiAgent({ baseURL: 'http://x', model: '' })).toThrow(/model/);
  });
});
