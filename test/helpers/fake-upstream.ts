/**
 * Fake upstream servers for the source agents' tests: an OpenAI-compatible `/chat/completions`
 * that streams the documented chunk format (scenario chosen by the request's `model`), and any
 * hand-written SSE endpoint.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running fake server. */
export interface FakeServer {
  readonly url: string;
  /** Bodies (parsed JSON) or URLs of the requests received, in order. */
  readonly requests: { url: string; headers: IncomingMessage['headers']; body: unknown }[];
  /** Resolves when the client has closed the connection of the latest streaming response. */
  clientGone(): Promise<void>;
  close(): Promise<void>;
}

type Handler = (request: { url: string; body: unknown }, response: ServerResponse) => unknown;

/** Starts an HTTP server on a free loopback port whose streaming responses are written by `handler`. */
export async function startFakeServer(handler: Handler): Promise<FakeServer> {
  const requests: FakeServer['requests'] = [];
  let gone: Promise<void> = Promise.resolve();
  const server: Server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => {
      raw += chunk.toString();
    });
    request.on('end', () => {
      let body: unknown = raw;
      try {
        body = raw === '' ? undefined : JSON.parse(raw);
      } catch {
        // keep raw
      }
      requests.push({ url: request.url ?? '/', headers: request.headers, body });
      gone = new Promise((resolve) => response.once('close', () => resolve()));
      void handler({ url: request.url ?? '/', body }, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    clientGone: () => gone,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One `data:` frame of a chat completion chunk. */
export function chunk(delta: Record<string, unknown>, finishReason: string | null = null): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`;
}

/** The usage chunk sent with `stream_options.include_usage`. */
export function usageChunk(prompt: number, completion: number): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } })}\n\n`;
}

/** Writes SSE headers. */
export function sseHead(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
}
