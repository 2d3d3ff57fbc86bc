/**
 * The gateway core: CORS, routing, authentication, and every error as the JSON error shape. Both
 * the Node listener and the fetch handler call it.
 *
 * @module
 */
import { AgentwireError, errorBody, isAgentwireError } from '../protocol/errors.js';
import type { Authenticate, StreamTokens } from './policy/auth.js';
import type { Cors } from './policy/cors.js';
import type { GatewayRequest, GatewayResponse, RouteRequest } from './http-types.js';
import type { Router } from './router.js';

/** What the core needs besides its routes. */
export interface CoreOptions {
  cors: Cors;
  /** `undefined`: no authentication. */
  authenticate: Authenticate | undefined;
  streamTokens: StreamTokens;
  /** Told about every refused request (for the metrics). */
  onRefused?: (code: string) => void;
}

/** Routes requests, applies CORS and auth, maps errors; refuses new requests once closing. */
export class GatewayCore {
  readonly #router: Router;
  readonly #options: CoreOptions;
  #closing = false;

  constructor(router: Router, options: CoreOptions) {
    this.#router = router;
    this.#options = options;
  }

  /** Marks the gateway as closing: new requests get 503. */
  close(): void {
    this.#closing = true;
  }

  /** Answers one request. Never throws. */
  async handle(request: GatewayRequest): Promise<GatewayResponse> {
    let corsHeaders: Record<string, string> = {};
    try {
      const cors = this.#options.cors.check(request.header('origin'), request.method, request.header('access-control-request-method'));
      corsHeaders = cors.headers;
      if (cors.preflight) return { kind: 'empty', status: cors.preflight.status, headers: cors.preflight.headers };
      if (this.#closing) throw new AgentwireError('AW_SHUTTING_DOWN', 'the gateway is shutting down; retry on another instance');
      const { handler, params, options } = this.#router.match(request.method, request.url.pathname);
      let principal: string | undefined;
      if (this.#options.authenticate && !options.public) {
        principal = (await this.#options.authenticate(request)) ?? undefined;
        const token = options.streamToken ? request.url.searchParams.get('token') : null;
        if (principal === undefined && token) principal = this.#options.streamTokens.verify(token, params.id ?? '');
        if (principal === undefined) {
          // Someone who sent a token needs to hear that it was refused, not to be told to send one.
          throw new AgentwireError(
            'AW_UNAUTHORIZED',
            request.header('authorization')
              ? 'the Authorization header was not accepted: check the token (send "Authorization: Bearer <token>" with a token this gateway knows)'
              : 'authentication required: send "Authorization: Bearer <token>" (or a stream token in ?token= for an event stream)',
          );
        }
      }
      request.principal = principal;
      const response = await handler(request as RouteRequest, params);
      return withHeaders(response, corsHeaders);
    } catch (error) {
      if (isAgentwireError(error) && [401, 403, 413, 429].includes(error.status)) this.#options.onRefused?.(error.code);
      return withHeaders(errorResponse(error), corsHeaders);
    }
  }
}

function withHeaders(response: GatewayResponse, headers: Record<string, string>): GatewayResponse {
  if (Object.keys(headers).length === 0) return response;
  return { ...response, headers: { ...response.headers, ...headers } } as GatewayResponse;
}

/** The JSON error response for a thrown value; unexpected errors are logged and masked. */
export function errorResponse(error: unknown): GatewayResponse {
  if (isAgentwireError(error)) {
    const headers: Record<string, string> = {};
    if (typeof error.details?.allow === 'string') headers.allow = error.details.allow;
    if (error.code === 'AW_SHUTTING_DOWN') headers['retry-after'] = '1';
    if (error.status === 429) headers['retry-after'] = String(error.details?.retryAfterSeconds ?? 1);
    if (error.code === 'AW_UNAUTHORIZED') headers['www-authenticate'] = 'Bearer realm="agentwire"';
    return { kind: 'json', status: error.status, headers, body: errorBody(error) };
  }
  console.error('[agentwire] unexpected error while handling a request:', error);
  return { kind: 'json', status: 500, body: errorBody({ code: 'AW_INTERNAL', message: 'internal error' }) };
}
