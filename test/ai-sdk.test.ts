/**
 * `?format=ai-sdk` and `POST /api/chat` read by the `ai` package itself: its chunk schema, its
 * UI message reader and its chat transport (send, and resume through `reconnectToStream`).
 */
import { DefaultChatTransport, type UIMessage, type UIMessageChunk, parseJsonEventStream, readUIMessageStream, uiMessageChunkSchema } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAgents } from '../src/demo/demo-agents.js';
import type { AgentContext, AgentDefinition } from '../src/producer/agent.js';
import { type TestServer, startNodeServer } from './helpers/servers.js';
import { startRun } from './helpers/sse-client.js';

/** Validates every chunk with the AI SDK's own schema (a failure rejects). */
function chunks(body: ReadableStream<Uint8Array>): ReadableStream<UIMessageChunk> {
  return parseJsonEventStream({ stream: body, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream({
      transform(result, controller) {
        if (!result.success) throw result.error;
        controller.enqueue(result.value as UIMessageChunk);
      },
    }),
  );
}

/** The last UI message the AI SDK builds from a chunk stream, and the errors it reported. */
async function lastMessage(stream: ReadableStream<UIMessageChunk>): Promise<{ message: UIMessage | undefined; errors: unknown[] }> {
  const errors: unknown[] = [];
  let message: UIMessage | undefined;
  for await (const snapshot of readUIMessageStream({ stream, onError: (error) => errors.push(error) })) message = snapshot;
  return { message, errors };
}

const agents: AgentDefinition[] = [
  ...demoAgents({ speed: 0 }),
  {
    name: 'slow',
    async *run(ctx: AgentContext) {
      for (let index = 0; index < 40; index++) {
        await ctx.sleep(10);
        yield `w${index} `;
      }
    },
  },
];

describe('AI SDK UI message stream', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startNodeServer({ agents, onAgentError: () => {} });
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves ?format=ai-sdk with its header and [DONE], and the AI SDK builds text, reasoning, tool and step parts from it', async () => {
    const { id } = await startRun(server.url, { agent: 'demo', input: 'What is the capital of France?' });
    const response = await fetch(`${server.url}/api/runs/${id}/events?format=ai-sdk`);
    expect(response.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    const [forReader, forRaw] = (response.body as ReadableStream<Uint8Array>).tee();
    const raw = new Response(forRaw).text();
    const { message, errors } = await lastMessage(chunks(forReader));
    expect(errors).toEqual([]);
    expect((await raw).endsWith('data: [DONE]\n\n')).toBe(true);
    expect(message?.id).toBe(id);
    const parts = message?.parts ?? [];
    const text = parts.filter((part) => part.type === 'text').map((part) => (part as { text: string }).text).join('');
    expect(text).toContain('The capital of France is **Paris**.');
    expect(parts.some((part) => part.type === 'reasoning' && (part as { text: string }).text.includes('look this up'))).toBe(true);
    expect(parts.find((part) => part.type === 'dynamic-tool' || part.type === 'tool-search')).toMatchObject({ toolCallId: 'c1', state: 'output-available' });
    const steps = parts.filter((part) => part.type === 'data-step') as { id: string; data: { title: string; status: string; parentId?: string } }[];
    expect(steps.map((step) => step.data.title)).toEqual(['Plan the answer', 'Research', 'Search the knowledge base', 'Read 3 sources']);
    expect(steps.every((step) => step.data.status === 'complete')).toBe(true);
    expect(steps[2]?.data.parentId).toBe(steps[1]?.id);
    expect(message?.metadata).toMatchObject({ output: { sources: expect.any(Array) }, usage: { outputTokens: expect.any(Number) } });
  });

  it('answers useChat through its DefaultChatTransport on POST /api/chat', async () => {
    const transport = new DefaultChatTransport({ api: `${server.url}/api/chat` });
    const stream = await transport.sendMessages({
      chatId: 'chat-1',
      messageId: undefined,
      trigger: 'submit-message',
      abortSignal: undefined,
      messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'What is the capital of France?' }] }],
    });
    const { message, errors } = await lastMessage(stream);
    expect(errors).toEqual([]);
    expect(message?.parts.filter((part) => part.type === 'text').map((part) => (part as { text: string }).text).join('')).toContain('Paris');
  });

  it('reports a failing agent as an error chunk the AI SDK surfaces', async () => {
    const transport = new DefaultChatTransport({ api: `${server.url}/api/chat`, body: { agent: 'failing' } });
    const stream = await transport.sendMessages({
      chatId: 'chat-2',
      messageId: undefined,
      trigger: 'submit-message',
      abortSignal: undefined,
      messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'report please' }] }],
    });
    const reader = stream.getReader();
    const seen: UIMessageChunk[] = [];
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      seen.push(next.value);
    }
    expect(seen.at(-1)).toMatchObject({ type: 'error', errorText: expect.stringMatching(/503.*UPSTREAM_UNAVAILABLE/) });
    expect(seen.find((chunk) => chunk.type === 'tool-output-error')).toBeDefined();
  });

  it('resumes a live chat stream through reconnectToStream (replay from the start), and answers 204 once it ended', async () => {
    const transport = new DefaultChatTransport({ api: `${server.url}/api/chat`, body: { agent: 'slow' } });
    const first = await transport.sendMessages({
      chatId: 'chat-3',
      messageId: undefined,
      trigger: 'submit-message',
      abortSignal: undefined,
      messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'go' }] }],
    });
    const reader = first.getReader();
    await reader.read();
    await reader.cancel(); // the page went away mid-answer
    const resumed = await transport.reconnectToStream({ chatId: 'chat-3' });
    expect(resumed).not.toBeNull();
    const { message } = await lastMessage(resumed as ReadableStream<UIMessageChunk>);
    const text = message?.parts.filter((part) => part.type === 'text').map((part) => (part as { text: string }).text).join('');
    expect(text).toBe(Array.from({ length: 40 }, (_, index) => `w${index} `).join(''));
    expect(await transport.reconnectToStream({ chatId: 'chat-3' })).toBeNull();
    expect(await transport.reconnectToStream({ chatId: 'never-seen' })).toBeNull();
  });

  it('refuses a body that is not useChat-shaped with 400', async () => {
    const response = await fetch(`${server.url}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"messages":[]}' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('AW_BAD_REQUEST');
  });
});
