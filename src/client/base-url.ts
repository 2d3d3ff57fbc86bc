/**
 * The gateway's base URL as the client's requests need it: relative (same origin) only where there
 * is an origin to be relative to, i.e. in a browser.
 *
 * @module
 */
import { AgentwireError } from '../protocol/errors.js';

/**
 * `baseUrl` with its trailing slashes trimmed, so `${base}/api/…` is always right. Throws an
 * `AW_INVALID_OPTION` {@link AgentwireError} when the URL cannot work: a relative one outside a
 * browser (Node's fetch has no origin to resolve it against), or a scheme other than http(s).
 */
export function resolveBaseUrl(baseUrl: string | undefined): string {
  const base = (baseUrl ?? '').replace(/\/+$/, '');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(base)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (hasOrigin()) return base;
    throw new AgentwireError(
      'AW_INVALID_OPTION',
      `baseUrl: outside a browser the client needs an absolute baseUrl, e.g. { baseUrl: 'http://127.0.0.1:8787' }; got ${baseUrl === undefined || baseUrl === '' ? 'none' : JSON.stringify(baseUrl)}`,
    );
  }
  if (scheme !== 'http' && scheme !== 'https') {
    throw new AgentwireError('AW_INVALID_OPTION', `baseUrl must be an http(s) URL such as 'http://127.0.0.1:8787', got ${JSON.stringify(baseUrl)}`);
  }
  return base;
}

/** True where relative URLs resolve: a page or a worker (both have `location`). */
function hasOrigin(): boolean {
  return typeof (globalThis as { location?: { href?: unknown } }).location?.href === 'string';
}
