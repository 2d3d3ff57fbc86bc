/**
 * A small method-and-path router: `:name` segments, 404 for unknown paths, 405 (with `Allow`) for
 * a known path and a method it does not take.
 *
 * @module
 */
import { AgentwireError } from '../protocol/errors.js';
import type { GatewayResponse, RouteRequest } from './http-types.js';

/** A route handler: the request and the path's named segments. */
export type Handler = (request: RouteRequest, params: Record<string, string>) => Promise<GatewayResponse> | GatewayResponse;

/** How a route is guarded. */
export interface RouteOptions {
  /** No authentication needed (health, metrics, the page). */
  public?: boolean;
  /** A signed stream token in `?token=` may stand in for credentials (for the `:id` run). */
  streamToken?: boolean;
}

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
  options: RouteOptions;
}

/** A matched route. */
export interface RouteMatch {
  handler: Handler;
  params: Record<string, string>;
  options: RouteOptions;
}

/** Routes requests to handlers. */
export class Router {
  readonly #routes: Route[] = [];

  /** Adds a route; `path` segments starting with `:` capture, a final `*` captures the rest as `rest`. */
  on(method: string, path: string, handler: Handler, options: RouteOptions = {}): this {
    this.#routes.push({ method, segments: path.split('/').filter(Boolean), handler, options });
    return this;
  }

  /** Finds the handler for a request; throws `AW_NOT_FOUND` or `AW_METHOD_NOT_ALLOWED`. */
  match(method: string, pathname: string): RouteMatch {
    let segments: string[];
    try {
      segments = pathname.split('/').filter(Boolean);
      // Most paths have no escapes; decoding only those that do spares a call per segment.
      if (pathname.includes('%')) segments = segments.map(decodeURIComponent);
    } catch {
      throw new AgentwireError('AW_NOT_FOUND', `no route for ${pathname}`);
    }
    let allowed: Set<string> | undefined;
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, segments);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { handler: route.handler, params, options: route.options };
      (allowed ??= new Set()).add(route.method);
    }
    if (allowed) {
      const allow = [...allowed, 'OPTIONS'].join(', ');
      if (method === 'OPTIONS') {
        return { handler: () => ({ kind: 'empty', status: 204, headers: { allow } }), params: {}, options: { public: true } };
      }
      throw new AgentwireError('AW_METHOD_NOT_ALLOWED', `${method} is not allowed on ${pathname}; use ${[...allowed].join(' or ')}`, {
        details: { allow },
      });
    }
    throw new AgentwireError('AW_NOT_FOUND', `no route for ${pathname}; the API lives under /api (see GET /api/agents)`);
  }
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | undefined {
  // Most routes tried do not match: compare first, build the params only for the one that does.
  const rest = pattern[pattern.length - 1] === '*';
  if (rest ? actual.length < pattern.length - 1 : actual.length !== pattern.length) return undefined;
  const fixed = rest ? pattern.length - 1 : pattern.length;
  for (let index = 0; index < fixed; index++) {
    const part = pattern[index] as string;
    if (part.charCodeAt(0) !== 58 /* ':' */ && part !== actual[index]) return undefined;
  }
  const params: Record<string, string> = {};
  for (let index = 0; index < fixed; index++) {
    const part = pattern[index] as string;
    if (part.charCodeAt(0) === 58) params[part.slice(1)] = actual[index] as string;
  }
  if (rest) params.rest = actual.slice(fixed).join('/');
  return params;
}
