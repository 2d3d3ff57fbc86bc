/**
 * The Node adapter: a `(req, res)` listener for `node:http` (and so Express, Fastify's raw
 * handler…). Streams write while the socket accepts and wait for `drain` or `close`; the
 * response's `close` (not the request's) marks a disconnect.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgentwireError } from '../../protocol/errors.js';
import type { GatewayCore } from '../core.js';
import { bodyTooLarge } from './request-body.js';
import type { GatewayRequest, GatewayResponse, StreamSink } from '../http-types.js';

/** Largest too-large body still read and discarded after a 413, in bytes. */
const MAX_DRAINED_BODY = 64 * 1024 * 1024;

/** A Node HTTP request listener. */
export type NodeListener = (request: IncomingMessage, response: ServerResponse) => void;

/** Creates the Node listener over a gateway core. */
export function createNodeListener(core: GatewayCore): NodeListener {
  return (request, response) => {
    const handle = () =>
      serve(core, request, response).catch((error) => {
        console.error('[agentwire] error while writing a response:', error);
        if (!response.headersSent) {
          response.writeHead(500, { 'content-type': 'application/json' });
          response.end('{"error":{"code":"AW_INTERNAL","message":"internal error"}}');
        } else response.destroy();
      });
    // Pipelined requests are answered in order, and Node holds in memory the answers that cannot
    // go out yet: a client that pipelines a thousand GETs of a large run and reads nothing would
    // make the gateway build and hold a thousand copies. Node hands the connection to a response
    // once the one before it has finished: each request is served then, so the connection holds
    // one answer and the socket's backpressure pauses the rest. A request behind an answer whose
    // client went away is never served. (HTTP/2 streams are independent and always have theirs.)
    if (response.socket) void handle();
    else response.once('socket', handle);
  };
}

/**
 * A Node request as the core sees it. Its signal is made when something reads it (a long-poll, a
 * stream): most requests never do, and so pay for no controller and no `close` listener.
 */
class NodeRequest implements GatewayRequest {
  readonly method: string;
  readonly url: URL;
  principal: string | undefined = undefined;
  readonly #request: IncomingMessage;
  readonly #response: ServerResponse;
  #gone: AbortController | undefined = undefined;

  constructor(request: IncomingMessage, response: ServerResponse) {
    this.#request = request;
    this.#response = response;
    this.method = request.method ?? 'GET';
    this.url = new URL(request.url ?? '/', 'http://gateway.invalid');
    // An HTTP/2 compatibility response cannot say later that it has closed: listened to from the start.
    if (request.httpVersionMajor !== 1) void this.signal;
  }

  header(name: string): string | undefined {
    const value = this.#request.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  readBody(limit: number): Promise<string> {
    return readBody(this.#request, limit);
  }

  /** Aborts when the client goes away before the response is complete (at once if it has). */
  get signal(): AbortSignal {
    if (this.#gone === undefined) {
      const gone = (this.#gone = new AbortController());
      const response = this.#response;
      if (response.closed) {
        if (leftEarly(response)) gone.abort();
      } else {
        response.once('close', () => {
          if (leftEarly(response)) gone.abort();
        });
      }
    }
    return this.#gone.signal;
  }

  /** True once the client has gone away before the response was complete; reads no signal. */
  get gone(): boolean {
    if (this.#gone !== undefined) return this.#gone.signal.aborted;
    return this.#response.closed && leftEarly(this.#response);
  }
}

/**
 * Whether a response that closed was cut: not ended, or not delivered. Not `writableFinished`
 * alone: an HTTP/2 compatibility response whose stream was reset reports itself finished.
 */
function leftEarly(response: ServerResponse): boolean {
  return !response.writableEnded || !response.writableFinished;
}

async function serve(core: GatewayCore, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const gatewayRequest = new NodeRequest(request, response);
  const result = await core.handle(gatewayRequest);
  if (result.kind === 'stream') return pumpStream(request, response, result, gatewayRequest);
  const headers: Record<string, string> = { ...result.headers };
  if ((result.status === 413 || result.status === 415) && request.httpVersionMajor === 1) {
    // A refused body of a sane declared size is drained (discarded) so the connection, and the answer on it,
    // survive; closing while the client still sends would reset it and lose the answer. Anything
    // bigger, or of unknown size, closes the connection.
    const declared = Number(request.headers['content-length']);
    if (!(declared <= MAX_DRAINED_BODY)) headers.connection = 'close';
  }
  if (result.kind === 'json') {
    const body = JSON.stringify(result.body);
    response.writeHead(result.status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(body),
      ...headers,
    });
    response.end(body);
  } else if (result.kind === 'bytes') {
    response.writeHead(result.status, { 'content-length': result.body.byteLength, ...headers });
    response.end(result.body);
  } else {
    response.writeHead(result.status, headers);
    response.end();
  }
}

/**
 * A stream's sink on a Node response: writes while the socket takes them, `ready` waits for
 * `drain` or the close. Fullness is tracked here rather than read from `writableNeedDrain`, which
 * HTTP/2's compatibility response lacks.
 */
class NodeSink implements StreamSink {
  closed = false;
  readonly #response: ServerResponse;
  #full = false;
  #onClose: (() => void) | undefined = undefined;
  /** The pending `ready`'s end, if one waits. */
  #drained: (() => void) | undefined = undefined;

  constructor(response: ServerResponse) {
    this.#response = response;
  }

  /** The response closed (the client went away, or it ended). */
  close(): void {
    this.closed = true;
    this.#drained?.();
    this.#onClose?.();
  }

  onClose(callback: (() => void) | undefined): void {
    this.#onClose = callback;
    if (this.closed) callback?.();
  }

  write(chunk: string | Uint8Array): boolean {
    if (this.closed || this.#response.writableEnded) return false;
    this.#full = !this.#response.write(chunk);
    return !this.#full;
  }

  end(chunk: string | Uint8Array): void {
    if (!this.closed) this.#response.end(chunk);
  }

  /** Its `close` closes the sink (see `pumpStream`). */
  destroy(): void {
    this.#response.destroy();
  }

  ready(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.closed || !this.#full) return resolve();
      const response = this.#response;
      const done = () => {
        this.#full = false;
        this.#drained = undefined;
        response.off('drain', done);
        resolve();
      };
      this.#drained = done;
      response.once('drain', done);
    });
  }
}

async function pumpStream(
  request: IncomingMessage,
  response: ServerResponse,
  result: Extract<GatewayResponse, { kind: 'stream' }>,
  gatewayRequest: NodeRequest,
): Promise<void> {
  if (request.httpVersionMajor === 1) {
    // HTTP/2 multiplexes streams on one session socket, which is not ours to tune.
    request.socket.setNoDelay(true);
    request.socket.setTimeout(0);
  }
  // The sink closes on `close` whatever the response says of itself (an HTTP/2 stream reset
  // mid-write can report itself finished).
  const sink = new NodeSink(response);
  const onClose = () => sink.close();
  response.once('close', onClose);
  // A client that left while the route was still working (a store round trip) closed the
  // response before this listener: that close has happened, and no other comes.
  if (gatewayRequest.gone) sink.close();
  response.writeHead(result.status, result.headers);
  flattenHead(response);
  // The headers leave with the stream's first write (see StreamBody), in one packet.
  try {
    await result.stream.pump(sink);
  } finally {
    response.off('close', onClose);
    if (!response.writableEnded && !response.destroyed) response.end();
  }
}

/**
 * Node keeps the head it wrote as `_header`, for the response's whole life, as built: by `+=`,
 * a rope of ~30 nodes (1 KB a stream). A number conversion flattens a string in place (one
 * 0.3 KB string, the rope's nodes freed); the value does not change. HTTP/2 has no `_header`.
 */
function flattenHead(response: ServerResponse): void {
  const head = (response as { _header?: unknown })._header;
  if (typeof head === 'string') Number(head);
}

function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    // Read and discard what the client is sending, so the 413 reaches it instead of a reset.
    request.resume();
    return Promise.reject(bodyTooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        request.resume();
        reject(bodyTooLarge(limit));
      } else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new AgentwireError('AW_BAD_REQUEST', `the request body could not be read: ${error.message}`, { cause: error }));
    };
    const cleanup = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
  });
}
