/**
 * The AI SDK `useChat` endpoints: `POST /api/chat` starts a run from the chat's messages and
 * answers in the UI message stream format; `GET /api/chat/:id/stream` lets `useChat` resume the
 * chat's live run (a replay from its start, as the AI SDK expects) or answers 204 when none is live.
 *
 * @module
 */
import { z } from 'zod';
import { AgentwireError } from '../../protocol/errors.js';
import type { Router } from '../router.js';
import { readJsonBody } from '../adapters/request-body.js';
import { acquireBeforeStart, runStreamResponse } from '../transports/sse-response.js';
import type { RunStreamContext } from '../transports/stream-context.js';
import { aiSdkFormat } from '../transports/stream-formats.js';

/** The body `useChat`'s default transport sends (fields agentwire reads; others are ignored). */
const chatBodySchema = z.object({
  id: z.string().min(1).max(200),
  messages: z.array(
    z.object({
      role: z.enum(['system', 'user', 'assistant']),
      parts: z.array(z.object({ type: z.string() }).passthrough()).default([]),
    }).passthrough(),
  ).min(1),
  /** Pick an agent with the transport's `body: { agent }` option. */
  agent: z.string().min(1).max(200).optional(),
});

/** Most chats whose live run is remembered for resume (oldest forgotten first). */
const MAX_CHATS = 10_000;

/** Registers the chat routes. */
export function registerChatRoutes(router: Router, context: RunStreamContext): void {
  const { runner, store, options } = context;
  /** chat id → the chat's latest run id. In memory: with several gateways, resume hits the one that started it. */
  const chats = new Map<string, string>();

  router.on('POST', '/api/chat', async (request) => {
    const parsed = chatBodySchema.safeParse(await readJsonBody(request, options.maxBodyBytes));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AgentwireError('AW_BAD_REQUEST', `the body must be useChat's request { id, messages: [{ role, parts }] }: ${issue?.path.join('.') || 'body'}: ${issue?.message}`);
    }
    const messages = parsed.data.messages.map((message) => ({
      role: message.role,
      content: message.parts
        .filter((part) => part.type === 'text' && typeof (part as { text?: unknown }).text === 'string')
        .map((part) => (part as unknown as { text: string }).text)
        .join(''),
    }));
    const prompt = [...messages].reverse().find((message) => message.role === 'user')?.content ?? '';
    const { record, heldLimit } = await acquireBeforeStart(context, request.principal, () =>
      runner.start({ agent: parsed.data.agent, input: { prompt, messages, chatId: parsed.data.id }, owner: request.principal }),
    );
    // Keyed by principal too: one caller cannot resume another's chat by guessing its id.
    const chatKey = `${request.principal ?? ''}\u0000${parsed.data.id}`;
    chats.delete(chatKey);
    chats.set(chatKey, record.id);
    if (chats.size > MAX_CHATS) chats.delete(chats.keys().next().value as string);
    const format = await aiSdkFormat({ store, runId: record.id, after: 0 }).catch((error: unknown) => {
      heldLimit();
      throw error;
    });
    return runStreamResponse(context, record, request.principal, 0, format, {}, 'ai-sdk', heldLimit);
  });

  router.on('GET', '/api/chat/:id/stream', async (request, params) => {
    const runId = chats.get(`${request.principal ?? ''}\u0000${params.id ?? ''}`);
    const record = runId === undefined ? undefined : await store.getRun(runId);
    if (!record || record.status !== 'running') return { kind: 'empty', status: 204 };
    const format = await aiSdkFormat({ store, runId: record.id, after: 0 });
    return runStreamResponse(context, record, request.principal, 0, format, {}, 'ai-sdk');
  });
}
