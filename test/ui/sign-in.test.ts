/**
 * The viewer with auth on, in a real Chromium: the sign-in form on a 401, a wrong token, signing
 * in (agents, a demo run that streams), stream tokens instead of the bearer token on event
 * streams (renewed when they expire), a reload that stays signed in, sign-out, and a token the
 * gateway stopped accepting; and signed in by an app's session cookie (examples/cookie-session.ts)
 * instead. Screenshots go to .artifacts/ui/.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoAgents } from '../../src/demo/demo-agents.js';
import type { AgentContext, AgentDefinition } from '../../src/producer/agent.js';
import { useExample } from '../helpers/listening-process.js';
import { ROOT } from '../helpers/process.js';
import { startNodeServer } from '../helpers/servers.js';
import { chromiumSkipReason, launchChromium, poll, useGatewayAndChromium } from './browser.js';

const skip = chromiumSkipReason();
const ARTIFACTS = `${ROOT}.artifacts/ui`;
const TOKEN = 'alice-token-0123456789';

/** Numbered words, slowly: a run that outlives a stream token. */
const words: AgentDefinition = {
  name: 'words',
  run: async function* (ctx: AgentContext) {
    const { count, delayMs } = ctx.input as { count: number; delayMs: number };
    for (let index = 1; index <= count; index++) {
      await ctx.sleep(delayMs);
      yield `w${index} `;
    }
  } as AgentDefinition['run'],
};

interface Seen {
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
}

describe.skipIf(skip !== undefined)('the viewer with auth on', () => {
  const seen: Seen[] = [];
  beforeAll(() => {
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  // Stream tokens live 3 s here, so a run of a few seconds needs a renewed one after a drop.
  const suite = useGatewayAndChromium(
    { agents: [...demoAgents({ speed: 3 }), words], auth: { tokens: { alice: TOKEN }, streamTokenTtlMs: 3_000 }, heartbeatMs: 1000, retryMs: 100 },
    (request) => {
      const url = new URL(request.url ?? '/', 'http://x');
      seen.push({ path: url.pathname, query: url.searchParams, authorization: request.headers.authorization });
    },
  );

  async function newPage(width = 1280, height = 860, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const context = await suite.browser.newContext({ viewport: { width, height }, colorScheme });
    return context.newPage();
  }

  async function signIn(page: Page, token: string): Promise<void> {
    await page.waitForSelector('#token');
    await page.fill('#token', token);
    await page.click('.signin__submit');
  }

  const storedToken = (page: Page) => page.evaluate(() => sessionStorage.getItem('agentwire.token'));

  /** A page signed in from the start (the token already in sessionStorage), with the app loaded. */
  async function signedInPage(): Promise<Page> {
    const page = await newPage();
    await page.addInitScript((token) => sessionStorage.setItem('agentwire.token', token), TOKEN);
    await page.goto(suite.url);
    await poll(async () => (await page.$$eval('#agent option', (options) => options.length)) > 0, 'the agent picker');
    return page;
  }

  /** Starts a run as alice (runs belong to their principal) and opens it in the page; returns its id. */
  async function openRun(page: Page, agent: string, input: unknown): Promise<string> {
    await page.evaluate(
      async ({ token, body }) => {
        const response = await fetch('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
        history.pushState(null, '', `/runs/${((await response.json()) as { id: string }).id}`);
        dispatchEvent(new PopStateEvent('popstate'));
      },
      { token: TOKEN, body: JSON.stringify({ agent, input }) },
    );
    const match = await poll(async () => /\/runs\/([^/]+)$/.exec(new URL(page.url()).pathname), 'the run URL');
    return decodeURIComponent(match[1] as string);
  }

  it('asks for a token instead of showing an empty page or the raw API error; a wrong token gets a clear message and is not kept', async () => {
    const page = await newPage();
    await page.goto(suite.url);
    await page.waitForSelector('.signin__card');
    expect(await page.getAttribute('#token', 'type')).toBe('password');
    expect(await page.textContent('body')).not.toContain('authentication required');
    expect(await page.$('.composer')).toBeNull();
    await page.screenshot({ path: `${ARTIFACTS}/sign-in-light-desktop.png` });

    await signIn(page, 'not-the-token');
    const alert = await poll(() => page.textContent('.signin__error[role="alert"]'), 'the wrong-token message');
    expect(alert).toContain('This token was not accepted');
    expect(await page.getAttribute('#token', 'aria-invalid')).toBe('true');
    expect(await storedToken(page)).toBeNull();
    await page.screenshot({ path: `${ARTIFACTS}/sign-in-wrong-token-light-desktop.png` });
    await page.context().close();
  });

  it('signs in, lists the agents, runs the demo live over stream tokens, stays signed in on reload, and signs out', async () => {
    const page = await newPage();
    await page.goto(suite.url);
    await signIn(page, ` ${TOKEN} `); // pasted with spaces around it
    await poll(async () => (await page.$$eval('#agent option', (options) => options.map((option) => option.textContent))).includes('demo'), 'the agent picker');
    expect(await storedToken(page)).toBe(TOKEN);
    expect(await page.isVisible('.app__signout')).toBe(true);

    await page.selectOption('#agent', 'demo');
    await page.fill('#prompt', 'What is the capital of France?');
    await page.click('.composer__run');
    const match = await poll(async () => /\/runs\/([^/]+)$/.exec(new URL(page.url()).pathname), 'the run URL');
    const runId = decodeURIComponent(match[1] as string);
    // It streams: the pill is live while answer text grows, then the run ends.
    await poll(async () => (await page.getAttribute('.aw-pill', 'data-indicator')) === 'live', 'the live pill');
    await poll(async () => ((await page.textContent('.aw-answer')) ?? '').length > 0, 'answer text while live', 30_000);
    await poll(async () => (await page.getAttribute('.aw-pill', 'data-indicator')) === 'ended', 'the run to end', 60_000);
    expect(await page.textContent('.aw-answer')).toContain('Paris');
    await poll(async () => (await page.$$('.runs__item')).length > 0, 'the run in the runs list');
    await page.screenshot({ path: `${ARTIFACTS}/signed-in-finished-light-desktop.png`, fullPage: true });

    // The event stream carried a stream token for this run, never the bearer token; no URL holds the bearer token.
    const streams = seen.filter((request) => request.path === `/api/runs/${runId}/events`);
    expect(streams.length).toBeGreaterThan(0);
    for (const request of streams) {
      expect(request.authorization).toBeUndefined();
      expect(request.query.get('token')).toMatch(/^[\w-]+\.[\w-]+$/);
    }
    expect(seen.some((request) => request.path === `/api/runs/${runId}/stream-token` && request.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(seen.every((request) => !request.query.toString().includes(TOKEN))).toBe(true);

    // A reload keeps the session (sessionStorage) and shows the run again.
    await page.reload();
    await poll(async () => (await page.getAttribute('.aw-pill', 'data-indicator')) === 'ended', 'the run after a reload');
    expect(await page.$('.signin__card')).toBeNull();

    await page.click('.app__signout');
    await page.waitForSelector('.signin__card');
    expect(await page.textContent('.signin__notice')).toContain('You have signed out');
    expect(await storedToken(page)).toBeNull();
    await page.reload();
    await page.waitForSelector('.signin__card');
    await page.context().close();
  });

  it('renews an expired stream token when the stream reconnects, and the answer arrives whole', async () => {
    const page = await signedInPage();
    const runId = await openRun(page, 'words', { count: 60, delayMs: 100 });
    await poll(async () => ((await page.textContent('.aw-answer')) ?? '').includes('w5 '), 'the first words');
    // Once the first stream token has expired, cut every connection: the reconnect needs a new one.
    const firstToken = seen.find((request) => request.path === `/api/runs/${runId}/events`)?.query.get('token');
    expect(firstToken).toBeTruthy();
    await poll(async () => (await fetch(`${suite.url}/api/runs/${runId}/events?token=${firstToken}`, { method: 'HEAD' })).status === 401, 'the first stream token to expire', 10_000, 200);
    suite.server.dropConnections();
    await poll(async () => (await page.getAttribute('.aw-pill', 'data-indicator')) === 'ended', 'the run to end', 30_000);
    const text = ((await page.textContent('.aw-answer')) ?? '').replace(/\s+/g, ' ').trim();
    expect(text).toBe(Array.from({ length: 60 }, (_, index) => `w${index + 1}`).join(' '));
    const tokens = new Set(seen.filter((request) => request.path === `/api/runs/${runId}/events`).map((request) => request.query.get('token')));
    expect(tokens.size).toBeGreaterThanOrEqual(2);
    expect(await page.$('.signin__card')).toBeNull();
    await page.context().close();
  });

  it('Stop works signed in: the cancel carries the bearer token and the run ends cancelled, still signed in', async () => {
    const page = await signedInPage();
    const runId = await openRun(page, 'words', { count: 10_000, delayMs: 20 });
    await poll(async () => ((await page.textContent('.aw-answer')) ?? '').includes('w3 '), 'the first words');
    await page.click('.aw-button--stop');
    await poll(async () => (await page.getAttribute('.aw-pill', 'data-indicator')) === 'cancelled', 'the cancelled state');
    expect(seen.some((request) => request.path === `/api/runs/${runId}/cancel` && request.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(await page.$('.signin__card')).toBeNull();
    await page.context().close();
  });

  it('a token the gateway stopped accepting brings the sign-in back with a notice (dark, 375 px: no sideways scroll)', async () => {
    const page = await newPage(375, 720, 'dark');
    await page.addInitScript(() => sessionStorage.setItem('agentwire.token', 'revoked-token-000000'));
    await page.goto(suite.url);
    await page.waitForSelector('.signin__card');
    expect(await page.textContent('.signin__notice')).toContain('no longer accepts your token');
    expect(await storedToken(page)).toBeNull();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth)).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}/sign-in-revoked-dark-375.png` });
    await page.context().close();
  });

  it('without auth the page shows no sign-in and no sign-out; a token this tab still holds does not stop its streams', async () => {
    const open = await startNodeServer({ agents: demoAgents({ speed: 0 }) });
    try {
      const page = await newPage();
      await page.goto(open.url);
      await poll(async () => (await page.$$eval('#agent option', (options) => options.length)) > 0, 'the agent picker');
      expect(await page.$('.signin__card')).toBeNull();
      expect(await page.$('.app__signout')).toBeNull();
      // The gateway restarted without auth while the tab kept its token: it mints no stream token, none is needed.
      await page.evaluate((token) => sessionStorage.setItem('agentwire.token', token), TOKEN);
      await page.reload();
      await poll(async () => (await page.$$eval('#agent option', (options) => options.length)) > 0, 'the agent picker after the reload');
      await page.click('.composer__run');
      await poll(async () => (await page.getAttribute('.aw-pill', 'data-indicator')) === 'ended', 'the run to end');
      expect(await page.textContent('.aw-answer')).toContain('Paris');
      await page.context().close();
    } finally {
      await open.close();
    }
  });
});

describe.skipIf(skip !== undefined)('the viewer with a cookie session (examples/cookie-session.ts)', () => {
  const PASSWORD = 'example-password-1';
  const server = useExample('cookie-session.ts', { ALICE_PASSWORD: PASSWORD });

  it('the viewer signs in through the login form and runs an agent with the cookie alone (no token form)', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(server.url);
      expect(new URL(page.url()).pathname).toBe('/login');
      await page.fill('input[name=user]', 'alice');
      await page.fill('input[name=password]', PASSWORD);
      await Promise.all([page.waitForURL(`${server.url}/`), page.click('button')]);
      await poll(async () => (await page.$$eval('#agent option', (options) => options.length)) > 0, 'the agent picker');
      expect(await page.$('.signin__card')).toBeNull();
      // Signed in by the app's cookie: signing out is the app's business, the page offers none.
      expect(await page.$('.app__signout')).toBeNull();
      await page.selectOption('#agent', 'echo');
      await page.fill('#prompt', 'hello from the cookie');
      await page.click('.composer__run');
      await poll(async () => (await page.getAttribute('.aw-pill', 'data-indicator')) === 'ended', 'the run to end', 30_000);
      expect(await page.textContent('.aw-answer')).toContain('hello from the cookie');
    } finally {
      await browser.close();
    }
  }, 60_000);
});
