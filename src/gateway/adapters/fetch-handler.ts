/**
 * The Web-standard adapter: `fetch(Request) → Response` for Hono, Next.js route handlers, Bun and
 * Deno. Streams are `ReadableStream`s whose `pull` is the backpressure signal and whose `cancel`
 * (or the request's `signal`) is the disconnect.
 *
 * @module
 */
import type { GatewayCore } from '../core.js';
import { bodyTooLarge } from './request-body.js';
import type { GatewayRequest, GatewayResponse, StreamSink } from '../http-types.js';

/** A Web-standard request handler. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** Bytes a stream buffers ahead of a slow reader before it waits. */
const STREAM_HIGH_WATER_MARK = 64 * 1024;

/** Creates the fetch handler over a gateway core. */
export function createFetchHandler(core: GatewayCore): FetchHandler {
  return async (request) => {
    const gatewayRequest: GatewayRequest = {
      signal: request.signal,
      method: request.method,
      url: new URL(request.url),
      header: (name) => request.headers.get(name) ?? undefined,
      readBody: (limit) => readBody(request, limit),
    };
    const result = await core.handle(gatewayRequest);
    switch (result.kind) {
      case 'json':
        return new Response(JSON.stringify(result.body), {
          status: result.status,
          headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...result.headers },
        });
      case 'bytes':
        return new Response(result.body as Uint8Array<ArrayBuffer>, { status: result.status, headers: result.headers });
      case 'empty':
        return new Response(null, { status: result.status, headers: result.headers });
      case 'stream':
        return new Response(toReadableStream(result, request.signal), { status: result.status, headers: result.headers });
    }
  };
}

function toReadableStream(result: Extract<GatewayResponse, { kind: 'stream' }>, requestSignal: AbortSignal | undefined): ReadableStream<Uint8Array> {
  const closed = new AbortController();
  const encoder = new TextEncoder();
  let wake: (() => void) | undefined;
  let onClose: (() => void) | undefined;
  const wakeUp = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const onRequestAbort = () => closed.abort();
  closed.signal.addEventListener(
    'abort',
    () => {
      wakeUp();
      onClose?.();
    },
    { once: true },
  );
  // A client that left while the route was still working aborted the signal already: no event comes.
  if (requestSignal?.aborted) closed.abort();
  else requestSignal?.addEventListener('abort', onRequestAbort, { once: true });
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const sink: StreamSink = {
          get closed() {
            return closed.signal.aborted;
          },
          onClose(callback) {
            onClose = callback;
            if (closed.signal.aborted) callback?.();
          },
          write(chunk) {
            if (closed.signal.aborted) return false;
            controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
            return (controller.desiredSize ?? 0) > 0;
          },
          ready: () =>
            new Promise<void>((resolve) => {
              if (closed.signal.aborted || (controller.desiredSize ?? 0) > 0) return resolve();
              wake = resolve;
            }),
          destroy() {
            if (closed.signal.aborted) return;
            closed.abort();
            // Errors the body: its queued chunks are dropped and the server resets the response.
            controller.error(new Error('the client read nothing for the stall timeout'));
          },
        };
        result.stream.pump(sink).then(
          () => {
            requestSignal?.removeEventListener('abort', onRequestAbort);
            if (!closed.signal.aborted) controller.close();
          },
          (error: unknown) => {
            console.error('[agentwire] error while streaming:', error);
            if (!closed.signal.aborted) controller.error(error);
          },
        );
      },
      pull: wakeUp,
      cancel() {
        closed.abort();
      },
    },
    { highWaterMark: STREAM_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
  );
}

async function readBody(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) throw bodyTooLarge(limit);
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw bodyTooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
