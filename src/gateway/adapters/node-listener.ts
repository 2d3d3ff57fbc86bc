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
  /** Per HTTP/1.1 connection: settles when its newest response is done (finished or cut). */
  const previousOnSocket = new WeakMap<object, Promise<void>>();
  return (request, response) => {
    const handle = () =>
      serve(core, request, response).catch((error) => {
        console.error('[agentwire] error while writing a response:', error);
        if (!response.headersSent) {
          response.writeHead(500, { 'content-type': 'application/json' });
          response.end('{"error":{"code":"AW_INTERNAL","message":"internal error"}}');
        } else response.destroy();
      });
    if (request.httpVersionMajor !== 1) return void handle(); // HTTP/2 streams are independent
    // Pipelined requests are answered in order, and Node holds in memory the answers that cannot
    // go out yet: a client that pipelines a thousand GETs of a large run and reads nothing would
    // make the gateway build and hold a thousand copies. Each waits for the answer before it to be
    // done, so the connection holds one answer and the socket's backpressure pauses the rest.
    const previous = previousOnSocket.get(request.socket);
    previousOnSocket.set(request.socket, new Promise<void>((resolve) => response.once('close', () => resolve())));
    if (previous) void previous.then(handle);
    else void handle();
  };
}

async function serve(core: GatewayCore, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const gone = new AbortController();
  const onGone = () => {
    if (!response.writableFinished) gone.abort();
  };
  response.once('close', onGone);
  const gatewayRequest: GatewayRequest = {
    signal: gone.signal,
    method: request.method ?? 'GET',
    url: new URL(request.url ?? '/', 'http://gateway.invalid'),
    header: (name) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    readBody: (limit) => readBody(request, limit),
  };
  const result = await core.handle(gatewayRequest);
  if (result.kind === 'stream') return pumpStream(request, response, result, gone);
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

async function pumpStream(
  request: IncomingMessage,
  response: ServerResponse,
  result: Extract<GatewayResponse, { kind: 'stream' }>,
  closed: AbortController,
): Promise<void> {
  if (request.httpVersionMajor === 1) {
    // HTTP/2 multiplexes streams on one session socket, which is not ours to tune.
    request.socket.setNoDelay(true);
    request.socket.setTimeout(0);
  }
  // The request's own controller, aborted on `close` whatever the response says of itself (an
  // HTTP/2 stream reset mid-write can report itself finished).
  const onClose = () => closed.abort();
  response.once('close', onClose);
  // Read at every write: a variable of this closure, not the signal (two objects more to reach per event).
  let aborted = closed.signal.aborted;
  closed.signal.addEventListener('abort', () => (aborted = true), { once: true });
  response.writeHead(result.status, result.headers);
  // The headers leave with the stream's first write (see StreamBody), in one packet.
  // Tracked here rather than read from writableNeedDrain, which HTTP/2's compatibility response lacks.
  let full = false;
  const sink: StreamSink = {
    signal: closed.signal,
    write: (chunk) => {
      if (aborted || response.writableEnded) return false;
      full = !response.write(chunk);
      return !full;
    },
    end: (chunk) => {
      if (!aborted) response.end(chunk);
    },
    // Its `close` aborts the signal (`onClose`).
    destroy: () => response.destroy(),
    ready: () =>
      new Promise<void>((resolve) => {
        if (closed.signal.aborted || !full) return resolve();
        const done = () => {
          full = false;
          response.off('drain', done);
          closed.signal.removeEventListener('abort', done);
          resolve();
        };
        response.once('drain', done);
        closed.signal.addEventListener('abort', done, { once: true });
      }),
  };
  try {
    await result.stream.pump(sink);
  } finally {
    response.off('close', onClose);
    if (!response.writableEnded && !response.destroyed) response.end();
  }
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
