/**
 * A small method-and-path router: `:name` segments, 404 for unknown paths, 405 (with `Allow`) for
 * a known path and a method it does not take.
 *
 * @module
 */
import { AgentwireError } from '../protocol/errors.js';
import type { GatewayRequest, GatewayResponse } from './http-types.js';

/** A route handler: the request and the path's named segments. */
export type Handler = (request: GatewayRequest, params: Record<string, string>) => Promise<GatewayResponse> | GatewayResponse;

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
}

/** Routes requests to handlers. */
export class Router {
  readonly #routes: Route[] = [];

  /** Adds a route; `path` segments starting with `:` capture, a final `*` captures the rest as `rest`. */
  on(method: string, path: string, handler: Handler): this {
    this.#routes.push({ method, segments: path.split('/').filter(Boolean), handler });
    return this;
  }

  /** Finds the handler for a request; throws `AW_NOT_FOUND` or `AW_METHOD_NOT_ALLOWED`. */
  match(method: string, pathname: string): { handler: Handler; params: Record<string, string> } {
    let segments: string[];
    try {
      segments = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw new AgentwireError('AW_NOT_FOUND', `no route for ${pathname}`);
    }
    const allowed = new Set<string>();
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, segments);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { handler: route.handler, params };
      allowed.add(route.method);
    }
    if (allowed.size > 0) {
      const allow = [...allowed, 'OPTIONS'].join(', ');
      if (method === 'OPTIONS') {
        return { handler: () => ({ kind: 'empty', status: 204, headers: { allow } }), params: {} };
      }
      throw new AgentwireError('AW_METHOD_NOT_ALLOWED', `${method} is not allowed on ${pathname}; use ${[...allowed].join(' or ')}`, {
        details: { allow },
      });
    }
    throw new AgentwireError('AW_NOT_FOUND', `no route for ${pathname}; the API lives under /api (see GET /api/agents)`);
  }
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let index = 0; index < pattern.length; index++) {
    const part = pattern[index] as string;
    if (part === '*') {
      params.rest = actual.slice(index).join('/');
      return params;
    }
    const value = actual[index];
    if (value === undefined) return undefined;
    if (part.startsWith(':')) params[part.slice(1)] = value;
    else if (part !== value) return undefined;
  }
  return pattern.length === actual.length ? params : undefined;
}
