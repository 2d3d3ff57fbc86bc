/**
 * The Node listener against a fake request and response, so the tests control when the response
 * closes and when Node hands the connection to a response.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { GatewayCore } from '../core.js';
import type { GatewayRequest, GatewayResponse } from '../http-types.js';
import { createNodeListener } from './node-listener.js';

/** A request (its body is a stream the test could write). */
function fakeRequest(headers: Record<string, string>): PassThrough & IncomingMessage {
  return Object.assign(new PassThrough(), { headers, method: 'POST', url: '/api/x', httpVersionMajor: 1, socket: {} }) as unknown as PassThrough &
    IncomingMessage;
}

/** A response that records its answer; `answered` resolves with the body once it ends. */
function fakeResponse() {
  let answer: (body: string) => void = () => {};
  const answered = new Promise<string>((resolve) => (answer = resolve));
  const response = Object.assign(new EventEmitter(), {
    socket: {},
    headersSent: false,
    writableFinished: false,
    writableEnded: false,
    destroyed: false,
    closed: false,
    /** As Node closes a response: `closed`, then the event. */
    close() {
      response.closed = true;
      response.emit('close');
    },
    writeHead() {
      response.headersSent = true;
      return response;
    },
    end(body?: string) {
      response.writableEnded = true;
      answer(String(body));
    },
  });
  return { response: response as unknown as ServerResponse & EventEmitter & { writableFinished: boolean; close(): void }, answered };
}

/** A core that answers with what `route` returns for the request. */
function coreOf(route: (request: GatewayRequest) => Promise<unknown>): GatewayCore {
  return { handle: async (request: GatewayRequest): Promise<GatewayResponse> => ({ kind: 'json', status: 200, body: await route(request) }) } as unknown as GatewayCore;
}

describe('Node listener', () => {
  it("makes a request's signal when a route reads it: aborted if the client went away before, and when it goes away after", async () => {
    const early = fakeRequest({});
    const gone = fakeResponse();
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    createNodeListener(
      coreOf(async (request) => {
        await released;
        return request.signal.aborted;
      }),
    )(early, gone.response);
    gone.response.close(); // not finished: the client went away
    release();
    expect(await gone.answered).toBe('true');

    const late = fakeRequest({});
    const open = fakeResponse();
    let signal: AbortSignal | undefined;
    createNodeListener(
      coreOf(async (request) => {
        signal = request.signal;
        await new Promise((resolve) => signal?.addEventListener('abort', resolve, { once: true }));
        return signal.aborted;
      }),
    )(late, open.response);
    await new Promise((resolve) => setImmediate(resolve));
    expect(signal?.aborted).toBe(false);
    open.response.close();
    expect(await open.answered).toBe('true');

    // A response that finished before its close: the client did not go away.
    const done = fakeRequest({});
    const finished = fakeResponse();
    let finishedSignal: AbortSignal | undefined;
    createNodeListener(
      coreOf(async (request) => {
        finishedSignal = request.signal;
        return 'ok';
      }),
    )(done, finished.response);
    await finished.answered;
    finished.response.writableFinished = true;
    finished.response.close();
    expect(finishedSignal?.aborted).toBe(false);
  });

  it('serves a pipelined request once the connection is handed to its response, not before', async () => {
    const request = fakeRequest({});
    const { response, answered } = fakeResponse();
    (response as unknown as { socket: unknown }).socket = null; // the answer before it is still going out
    let served = false;
    createNodeListener(
      coreOf(async () => {
        served = true;
        return 'served';
      }),
    )(request, response);
    await new Promise((resolve) => setImmediate(resolve));
    expect(served).toBe(false);
    response.emit('socket', {});
    expect(await answered).toBe(JSON.stringify('served'));
  });
});
