/**
 * CORS: an explicit allow-list of origins. Same-origin only by default (no CORS headers at all).
 * Listed origins are echoed with `Vary: Origin` and credentials allowed; `'*'` allows any origin
 * but then never with credentials (browsers refuse that combination, and it would be unsafe).
 *
 * @module
 */
import { AgentwireError } from '../../protocol/errors.js';

/** Request headers a cross-origin client may send. */
const ALLOWED_HEADERS = 'authorization, content-type, last-event-id, idempotency-key, accept';
/** Response headers a cross-origin client may read. */
const EXPOSED_HEADERS = 'x-agentwire-run-id, location, content-location, retry-after';

/** The CORS decision for one request. */
export interface CorsResult {
  /** Headers to add to the response. */
  headers: Record<string, string>;
  /** A complete answer for a preflight, when this was one. */
  preflight?: { status: number; headers: Record<string, string> };
}

/** Applies an allow-list. `origins` empty or undefined: same-origin only. */
export class Cors {
  readonly #any: boolean;
  readonly #origins: Set<string>;

  constructor(origins: readonly string[] | undefined) {
    this.#any = origins?.includes('*') ?? false;
    this.#origins = new Set((origins ?? []).filter((origin) => origin !== '*').map(normalize));
    for (const origin of this.#origins) {
      if (!/^https?:\/\/[^/]+$/.test(origin)) {
        throw new AgentwireError('AW_INVALID_OPTION', `corsOrigins: "${origin}" is not an origin (scheme://host[:port], no path)`);
      }
    }
  }

  /**
   * Whether a browser page at `origin` may open a WebSocket: listed (or any, with `'*'`), or the
   * same origin as the request's `host` when no list is set.
   */
  allows(origin: string, host: string | undefined): boolean {
    if (this.#any || this.#origins.has(normalize(origin))) return true;
    if (this.#origins.size > 0) return false;
    try {
      return host !== undefined && new URL(origin).host === host.toLowerCase();
    } catch {
      return false;
    }
  }

  /** Decides for a request with `origin` (the `Origin` header) and `method`. */
  check(origin: string | undefined, method: string, requestedMethod: string | undefined): CorsResult {
    const isPreflight = method === 'OPTIONS' && requestedMethod !== undefined;
    if (origin === undefined || (!this.#any && this.#origins.size === 0)) return { headers: {} };
    const listed = this.#origins.has(normalize(origin));
    if (!listed && !this.#any) {
      if (isPreflight) throw new AgentwireError('AW_CORS_FORBIDDEN', `origin ${origin} is not allowed (see corsOrigins / --cors-origin)`);
      // A simple request from an unlisted origin: answer without CORS headers; the browser hides it.
      return { headers: { vary: 'Origin' } };
    }
    const headers: Record<string, string> = listed
      ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' }
      : { 'access-control-allow-origin': '*' };
    headers['access-control-expose-headers'] = EXPOSED_HEADERS;
    if (!isPreflight) return { headers };
    return {
      headers,
      preflight: {
        status: 204,
        headers: {
          ...headers,
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers': ALLOWED_HEADERS,
          'access-control-max-age': '600',
        },
      },
    };
  }
}

function normalize(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '');
}
