/**
 * The built docs site (`npm run docs:build`) in Chromium, served as static files on 127.0.0.1: two
 * pages render their content, and a link of the top navigation leads to its page.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/protocol/errors.js';
import { ROOT } from '../helpers/process.js';
import { chromiumSkipReason, launchChromium } from './browser.js';

const SITE = join(ROOT, 'docs/.vitepress/dist');
const SHOTS = join(ROOT, '.artifacts/docs');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Serves `SITE` as a static host would: `/` is `index.html`, anything missing gets `404.html`. */
function serveSite(): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const file = normalize(join(SITE, path.endsWith('/') ? `${path}index.html` : path));
    const found = file.startsWith(SITE) && existsSync(file) && statSync(file).isFile();
    response.writeHead(found ? 200 : 404, { 'content-type': TYPES[extname(found ? file : '.html')] ?? 'application/octet-stream' });
    response.end(readFileSync(found ? file : join(SITE, '404.html')));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

/** The newest modification time of the Markdown and config under `dir`. */
function newestSource(dir: string): { path: string; mtime: number } {
  let best = { path: dir, mtime: 0 };
  for (const name of readdirSync(dir)) {
    if (name === 'dist' || name === 'cache') continue;
    const path = join(dir, name);
    const stat = statSync(path);
    const candidate = stat.isDirectory() ? newestSource(path) : { path, mtime: stat.mtimeMs };
    if (candidate.mtime > best.mtime) best = candidate;
  }
  return best;
}

const skip = chromiumSkipReason();

describe.skipIf(skip !== undefined)('the built docs site in Chromium', () => {
  let site: { server: Server; url: string };
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(join(SITE, 'index.html'))) throw new Error(`${SITE} is missing: run "npm run docs:build" first (npm test does it)`);
    site = await serveSite();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (site ? site.server.close(() => resolve()) : resolve()));
  });

  it('is not older than its Markdown (a stale build fails here: run npm run docs:build)', () => {
    const built = statSync(join(SITE, 'index.html')).mtimeMs;
    const source = newestSource(join(ROOT, 'docs'));
    expect(source.mtime, `${source.path} is newer than the built site`).toBeLessThanOrEqual(built);
  });

  it('renders Getting started with the install steps, and a screenshot of it', async () => {
    await page.goto(`${site.url}/getting-started.html`);
    expect(await page.locator('main h1').first().textContent()).toContain('Getting started');
    const main = (await page.locator('main').textContent()) ?? '';
    expect(main).toContain('npm install && npm start');
    expect(main).toContain('npm install ../agentwire/agentwire-0.1.0.tgz');
    expect(await page.locator('.VPSidebar a', { hasText: 'Write an agent' }).count()).toBeGreaterThan(0);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'getting-started.png') });
  });

  it('renders the error catalog with a row for every code', async () => {
    await page.goto(`${site.url}/reference/errors.html`);
    expect(await page.locator('main h1').first().textContent()).toContain('Errors');
    const codes = await page.locator('main table').first().locator('tbody tr td:first-child code').allTextContents();
    expect(codes.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('follows the FAQ link of the top navigation to its page', async () => {
    await page.goto(`${site.url}/getting-started.html`);
    await page.locator('.VPNavBar a', { hasText: 'FAQ' }).first().click();
    await page.waitForURL(/\/faq\.html$/, { timeout: 10_000 });
    await page.locator('main h1', { hasText: 'FAQ' }).first().waitFor({ timeout: 10_000 });
    expect(await page.locator('main').textContent()).toContain('Why SSE and not WebSocket?');
    expect(pageErrors).toEqual([]);
  });
});
