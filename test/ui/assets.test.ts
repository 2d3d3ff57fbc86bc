/**
 * The built viewer as the gateway serves it: fresh (not older than its sources), correct types,
 * cache headers and CSP, no inline script or style, and a bundle within budget.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAgents } from '../../src/demo/demo-agents.js';
import { ROOT } from '../helpers/process.js';
import { type TestServer, startNodeServer } from '../helpers/servers.js';

function newest(dir: string): { path: string; mtime: number } {
  let best = { path: dir, mtime: 0 };
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.test.ts')) continue; // tests are not part of the build
    const path = join(dir, name);
    const stat = statSync(path);
    const candidate = stat.isDirectory() ? newest(path) : { path, mtime: stat.mtimeMs };
    if (candidate.mtime > best.mtime) best = candidate;
  }
  return best;
}

describe('the built viewer', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startNodeServer({ agents: demoAgents({ speed: 0 }) });
  });
  afterAll(async () => {
    await server.close();
  });

  it('is not older than its sources (a stale dist/ui fails here: run npm run build)', () => {
    const built = statSync(join(ROOT, 'dist/ui/index.html')).mtimeMs;
    for (const dir of ['src/ui', 'src/react', 'src/client']) {
      const source = newest(join(ROOT, dir));
      expect(source.mtime, `${source.path} is newer than dist/ui`).toBeLessThanOrEqual(built);
    }
  });

  it('serves the page at / and /runs/:id with a strict CSP, and hashed assets as immutable with the right types', async () => {
    const page = await fetch(`${server.url}/runs/run_anything`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    // No inline script or style: the CSP would block them.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style="/);
    // An icon of its own (a data: image, which the CSP allows), or every browser asks for /favicon.ico and logs a 404.
    expect(html).toMatch(/<link rel="icon" href="data:image\/svg\+xml,/);
    expect(page.headers.get('content-security-policy')).toContain("img-src 'self' data:");
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((match) => match[1] as string);
    expect(assets.some((path) => path.endsWith('.js'))).toBe(true);
    expect(assets.some((path) => path.endsWith('.css'))).toBe(true);
    let scriptBytes = 0;
    for (const path of assets) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(path.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      if (path.endsWith('.js')) scriptBytes += (await response.arrayBuffer()).byteLength;
    }
    // React + marked + the app, minified: keep it light.
    expect(scriptBytes).toBeLessThan(400 * 1024);
  });
});
