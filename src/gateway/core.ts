/**
 * The gateway core: routes a transport-neutral request to a handler and turns every error into
 * the JSON error shape. Both the Node listener and the fetch handler call it.
 *
 * @module
 */
import { AgentwireError, errorBody, isAgentwireError } from '../protocol/errors.js';
import type { GatewayRequest, GatewayResponse } from './http-types.js';
import type { Router } from './router.js';

/** Routes requests and maps errors; refuses new requests once closing. */
export class GatewayCore {
  readonly #router: Router;
  #closing = false;

  constructor(router: Router) {
    this.#router = router;
  }

  /** Marks the gateway as closing: new requests get 503. */
  close(): void {
    this.#closing = true;
  }

  /** Answers one request. Never throws. */
  async handle(request: GatewayRequest): Promise<GatewayResponse> {
    try {
      if (this.#closing) throw new AgentwireError('AW_SHUTTING_DOWN', 'the gateway is shutting down; retry on another instance');
      const { handler, params } = this.#router.match(request.method, request.url.pathname);
      const response = await handler(request, params);
      // HEAD gets a stream's headers only; starting a subscription nobody reads would hold it open.
      if (request.method === 'HEAD' && response.kind === 'stream') return { kind: 'empty', status: response.status, headers: response.headers };
      return response;
    } catch (error) {
      return errorResponse(error);
    }
  }
}

/** The JSON error response for a thrown value; unexpected errors are logged and masked. */
export function errorResponse(error: unknown): GatewayResponse {
  if (isAgentwireError(error)) {
    const headers: Record<string, string> = {};
    if (typeof error.details?.allow === 'string') headers.allow = error.details.allow;
    if (error.code === 'AW_SHUTTING_DOWN') headers['retry-after'] = '1';
    return { kind: 'json', status: error.status, headers, body: errorBody(error) };
  }
  console.error('[agentwire] unexpected error while handling a request:', error);
  return { kind: 'json', status: 500, body: errorBody({ code: 'AW_INTERNAL', message: 'internal error' }) };
}
