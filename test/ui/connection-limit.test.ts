/**
 * The browser's connection limit, shown in Chromium: ten EventSources to one origin. Over HTTP/1.1
 * at most six progress at once (the seventh waits for a connection); over HTTP/2 all ten share
 * one connection and progress together.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevCertificate } from '../../src/cli/commands/cert.js';
import { createGateway } from '../../src/gateway/create-gateway.js';
import { type ListeningGateway, listen } from '../../src/gateway/adapters/listen.js';
import type { AgentContext } from '../../src/producer/agent.js';
import { chromiumSkipReason, launchChromium } from './browser.js';

const STREAMS = 10;
const EVENT_MS = 100;
const EVENTS = 30; // each stream lasts about 3 s

const agents = {
  async *paced(ctx: AgentContext) {
    for (let index = 0; index < EVENTS; index++) {
      await ctx.sleep(EVENT_MS);
      yield `${index} `;
    }
  },
};

/** Opens STREAMS EventSources from a page of `origin`; resolves each stream's first-event and end times (ms). */
async function openStreams(browser: Browser, origin: string): Promise<{ first: number[]; end: number[] }> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  try {
    await page.goto(`${origin}/healthz`);
    const result = await page.evaluate(
      async ({ streams }) => {
        const ids: string[] = [];
        for (let index = 0; index < streams; index++) {
          const response = await fetch('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"agent":"paced","input":null}' });
          ids.push(((await response.json()) as { id: string }).id);
        }
        const started = performance.now();
        const first: number[] = [];
        const end: number[] = [];
        await Promise.all(
          ids.map(
            (id, index) =>
              new Promise<void>((resolve) => {
                const source = new EventSource(`/api/runs/${id}/events`);
                source.addEventListener('text.delta', () => {
                  first[index] ??= performance.now() - started;
                });
                source.addEventListener('run.finished', () => {
                  end[index] = performance.now() - started;
                  source.close();
                  resolve();
                });
              }),
          ),
        );
        return { first, end };
      },
      { streams: STREAMS },
    );
    return result;
  } finally {
    await context.close();
  }
}

const skip = chromiumSkipReason();

describe.skipIf(skip !== undefined)('ten streams from one page to one origin', () => {
  let browser: Browser;
  let http1: ListeningGateway;
  let http2: ListeningGateway;
  let directory: string;
  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'agentwire-h2-'));
    const files = createDevCertificate(directory, 1);
    http1 = await listen(createGateway({ agents, uiDir: false }), { port: 0 });
    http2 = await listen(createGateway({ agents, uiDir: false }), { port: 0, tls: { cert: readFileSync(files.cert), key: readFileSync(files.key) } });
    browser = await launchChromium(['--ignore-certificate-errors']);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all([http1?.close(), http2?.close()]);
    rmSync(directory, { recursive: true, force: true });
  });

  it('over HTTP/1.1 only six progress at once: the others start when one ends', async () => {
    const { first, end } = await openStreams(browser, http1.url);
    const sorted = [...first].sort((a, b) => a - b);
    const firstEnd = Math.min(...end);
    // Six streams begin right away; the seventh only after a connection is freed by a finished stream.
    expect(sorted[5]).toBeLessThan(firstEnd);
    expect(sorted[6]).toBeGreaterThanOrEqual(firstEnd - 50);
    console.log(`HTTP/1.1: first events at ${sorted.map((value) => Math.round(value)).join(', ')} ms; first stream ended at ${Math.round(firstEnd)} ms`);
  }, 60_000);

  it('over HTTP/2 all ten progress together on one connection', async () => {
    const { first, end } = await openStreams(browser, http2.url);
    const sorted = [...first].sort((a, b) => a - b);
    const firstEnd = Math.min(...end);
    expect(sorted[STREAMS - 1]).toBeLessThan(firstEnd);
    console.log(`HTTP/2: first events at ${sorted.map((value) => Math.round(value)).join(', ')} ms; first stream ended at ${Math.round(firstEnd)} ms`);
  }, 60_000);
});
