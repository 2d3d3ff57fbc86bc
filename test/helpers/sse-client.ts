/**
 * A fetch-based SSE reader for tests, parsing with eventsource-parser (an independent parser).
 */
import { type EventSourceMessage, createParser } from 'eventsource-parser';
import type { AgentEvent } from '../../src/protocol/events.js';

/** One opened SSE response. */
export interface SseConnection {
  readonly response: Response;
  /** Messages as they arrive; ends when the server ends the stream. */
  readonly messages: AsyncIterable<EventSourceMessage>;
  /** Comment lines seen so far (heartbeats), with the time they arrived. */
  readonly comments: { text: string; at: number }[];
  /** The `retry:` values seen. */
  readonly retries: number[];
  /** The raw text received so far. */
  readonly raw: () => string;
  /** Aborts the request (a client disconnect). */
  close(): void;
}

/** Opens an SSE request. Rejects if the response is not a 200 event stream. */
export async function openSse(url: string, init: RequestInit = {}): Promise<SseConnection> {
  const controller = new AbortController();
  const response = await fetch(url, { ...init, signal: controller.signal });
  const comments: { text: string; at: number }[] = [];
  const retries: number[] = [];
  let raw = '';
  const queue: EventSourceMessage[] = [];
  let notify: (() => void) | undefined;
  let ended = false;
  let failure: unknown;
  const parser = createParser({
    onEvent: (message) => {
      queue.push(message);
      notify?.();
    },
    onComment: (text) => comments.push({ text, at: Date.now() }),
    onRetry: (retry) => retries.push(retry),
  });
  if (response.body) {
    void (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          const text = decoder.decode(chunk, { stream: true });
          raw += text;
          parser.feed(text);
        }
      } catch (error) {
        if (!controller.signal.aborted) failure = error;
      } finally {
        ended = true;
        notify?.();
      }
    })();
  } else ended = true;
  async function* messages(): AsyncGenerator<EventSourceMessage> {
    for (;;) {
      while (queue.length > 0) yield queue.shift() as EventSourceMessage;
      if (ended) {
        if (failure) throw failure;
        return;
      }
      await new Promise<void>((resolve) => {
        notify = resolve;
      });
      notify = undefined;
    }
  }
  return {
    response,
    messages: messages(),
    comments,
    retries,
    raw: () => raw,
    close: () => controller.abort(),
  };
}

/** Opens a stream and collects its events (parsed JSON) until the server ends it. */
export async function collectEvents(url: string, init: RequestInit = {}): Promise<{ events: AgentEvent[]; connection: SseConnection }> {
  const connection = await openSse(url, init);
  const events: AgentEvent[] = [];
  for await (const message of connection.messages) {
    const event = JSON.parse(message.data) as AgentEvent;
    if (String(event.seq) !== message.id || event.type !== message.event) throw new Error(`frame id/event disagree with data: ${message.id} ${message.event}`);
    events.push(event);
  }
  return { events, connection };
}

/** POST /api/runs as JSON and return the parsed 201 body. */
export async function startRun(baseUrl: string, body: unknown): Promise<{ id: string; eventsUrl: string }> {
  const response = await fetch(`${baseUrl}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201) throw new Error(`start failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string; eventsUrl: string };
}

/** Asserts a list of events has seq from `first` upward with no gap and no duplicate. */
export function seqs(events: readonly AgentEvent[]): number[] {
  return events.map((event) => event.seq);
}

/** 1..n (or from..to) as an array. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index);
}
