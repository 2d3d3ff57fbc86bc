/**
 * The viewer page and its assets, from one directory: no path traversal (only files directly
 * listed at startup are served), a strict content security policy, `nosniff`.
 *
 * @module
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { AgentwireError } from '../../protocol/errors.js';
import type { GatewayResponse } from '../http-types.js';
import type { Router } from '../router.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** Headers on every page and asset. No inline script is allowed. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
});

/**
 * Serves `dir`: `/` and `/runs/*` get `index.html` (the page routes itself); `/assets/<file>` the
 * files under `dir/assets`. Files are read once at startup, so nothing outside can be reached.
 */
export function registerStaticRoutes(router: Router, dir: string): void {
  const files = loadFiles(dir);
  const index = files.get('index.html');
  if (!index) throw new AgentwireError('AW_INVALID_OPTION', `uiDir ${dir} has no index.html`);
  const page = (): GatewayResponse => ({ kind: 'bytes', status: 200, headers: { ...index.headers }, body: index.body });
  router.on('GET', '/', page, { public: true });
  router.on('GET', '/runs/:id', page, { public: true });
  router.on('GET', '/assets/*', (_request, params) => {
    const file = files.get(`assets/${params.rest}`);
    if (!file) throw new AgentwireError('AW_NOT_FOUND', `no asset ${params.rest}`);
    return { kind: 'bytes', status: 200, headers: { ...file.headers }, body: file.body };
  }, { public: true });
}

function loadFiles(dir: string): Map<string, { body: Uint8Array; headers: Record<string, string> }> {
  const files = new Map<string, { body: Uint8Array; headers: Record<string, string> }>();
  const walk = (relative: string) => {
    for (const name of readdirSync(join(dir, relative))) {
      const path = relative ? `${relative}/${name}` : name;
      if (statSync(join(dir, path)).isDirectory()) walk(path);
      else {
        const body = readFileSync(join(dir, path));
        files.set(path, {
          body,
          headers: {
            ...PAGE_HEADERS,
            'content-type': TYPES[extname(name)] ?? 'application/octet-stream',
            'cache-control': cacheControl(path),
          },
        });
      }
    }
  };
  walk('');
  return files;
}

/**
 * `index.html` is revalidated on every load; Vite's content-hashed assets (`index-3fQx9b2A.js`)
 * never change under their name, so browsers may keep them for a year; anything else for 5 minutes.
 */
function cacheControl(path: string): string {
  if (path === 'index.html') return 'no-cache';
  return /-[\w-]{8,}\.(?:js|css|svg|png|woff2?)$/.test(path) ? 'public, max-age=31536000, immutable' : 'public, max-age=300';
}
