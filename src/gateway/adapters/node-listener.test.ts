/**
 * The Node listener against a fake request and response, so the test controls when Node hands
 * the connection to a response.
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
    writeHead() {
      response.headersSent = true;
      return response;
    },
    end(body?: string) {
      response.writableEnded = true;
      answer(String(body));
    },
  });
  return { response: response as unknown as ServerResponse & EventEmitter & { writableFinished: boolean }, answered };
}

/** A core that answers with what `route` returns for the request. */
function coreOf(route: (request: GatewayRequest) => Promise<unknown>): GatewayCore {
  return { handle: async (request: GatewayRequest): Promise<GatewayResponse> => ({ kind: 'json', status: 200, body: await route(request) }) } as unknown as GatewayCore;
}

describe('Node listener', () => {
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
