/**
 * The run viewer in a real Chromium: step states and folding, nesting, answer integrity, sticky
 * user choices, a failing agent, Stop, a cut stream and a reload mid-run, XSS payloads, and
 * screenshots (saved under .artifacts/ui/).
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoAgents } from '../../src/demo/demo-agents.js';
import type { AgentContext, AgentDefinition } from '../../src/producer/agent.js';
import { renderMarkdown } from '../../src/react/markdown.js';
import { ROOT } from '../helpers/process.js';
import { serverAnswer as answerAt, startRunAt } from '../helpers/servers.js';
import { chromiumSkipReason, poll, useGatewayAndChromium } from './browser.js';

const skip = chromiumSkipReason();
const ARTIFACTS = `${ROOT}.artifacts/ui`;

const aborted = new Map<string, boolean>();
const gates = new Map<string, () => void>();
const XSS_ANSWER = [
  'Payloads follow; none may run.',
  '',
  '<img src=x onerror="window.__xss=true;alert(1)">',
  '',
  '<script>window.__xss=true;alert(2)</script>',
  '',
  '[click me](javascript:window.__xss=true) and [data](data:text/html,<script>alert(3)</script>) and <a href="javascript:alert(4)">raw</a>',
  '',
  '<svg onload="window.__xss=true"></svg><iframe srcdoc="<script>parent.__xss=true</script>"></iframe>',
  '',
  '![tracker](https://example.invalid/pixel.png) and a [safe link](https://example.com/docs).',
].join('\n');

const testAgents: AgentDefinition[] = [
  {
    name: 'words',
    description: 'Numbered words, for text integrity.',
    run: async function* (ctx: AgentContext) {
      const { count, delayMs } = ctx.input as { count: number; delayMs: number };
      yield* ctx.step({ title: 'Count', kind: 'thought' }, async function* (step) {
        yield step.log('counting');
      });
      for (let index = 1; index <= count; index++) {
        await ctx.sleep(delayMs);
        yield `w${index} `;
      }
    } as AgentDefinition['run'],
  },
  {
    name: 'forever',
    run: async function* (ctx: AgentContext) {
      ctx.signal.addEventListener('abort', () => aborted.set(ctx.runId, true));
      yield* ctx.step({ title: 'Working forever', kind: 'thought' }, async function* (step) {
        for (let index = 0; ; index++) {
          await ctx.sleep(50);
          yield step.log(`tick ${index}`);
        }
      });
    } as AgentDefinition['run'],
  },
  {
    name: 'gated',
    run: async function* (ctx: AgentContext) {
      const opened = new Promise<void>((resolve) => gates.set(ctx.runId, resolve));
      yield* ctx.step({ title: 'Wait for the gate', kind: 'thought' }, async function* (step) {
        yield step.log('waiting');
        await opened;
      });
      yield* ctx.step({ title: 'After the gate', kind: 'thought' }, async function* (step) {
        yield step.log('holding the run open');
        await ctx.sleep(60_000);
      });
    } as AgentDefinition['run'],
  },
  {
    name: 'xss',
    run: async function* () {
      yield XSS_ANSWER;
    } as AgentDefinition['run'],
  },
];

const normalise = (text: string) => text.replace(/\s+/g, ' ').trim();

describe.skipIf(skip !== undefined)('run viewer in Chromium', () => {
  const eventRequests = new Map<string, number>();
  beforeAll(() => {
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  const suite = useGatewayAndChromium(
    { agents: [...demoAgents({ speed: 2 }), ...testAgents], heartbeatMs: 1000, retryMs: 100, graceMs: 10_000, onAgentError: () => {} },
    (request) => {
      const match = /^\/api\/runs\/([^/]+)\/events/.exec(request.url ?? '');
      if (match?.[1]) eventRequests.set(match[1], (eventRequests.get(match[1]) ?? 0) + 1);
    },
  );

  const startRun = (agent: string, input: unknown) => startRunAt(suite.url, agent, input);
  const serverAnswer = (runId: string) => answerAt(suite.url, runId);

  async function newPage(options: { width?: number; height?: number; colorScheme?: 'light' | 'dark' } = {}): Promise<Page> {
    const context = await suite.browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 900 }, colorScheme: options.colorScheme ?? 'light' });
    const page = await context.newPage();
    await page.addInitScript(() => {
      (window as unknown as { __xss: boolean }).__xss = false;
    });
    return page;
  }

  /** Starts a run from the page's composer (so the page is ready before the first event) and returns its id. */
  async function startFromComposer(page: Page, agent: string, prompt: string): Promise<string> {
    await page.goto(suite.url);
    await poll(async () => (await page.$$eval('#agent option', (options) => options.length)) > 0, 'the agent picker');
    await page.selectOption('#agent', agent);
    await page.fill('#prompt', prompt);
    await page.click('.composer__run');
    const match = await poll(async () => /\/runs\/([^/]+)$/.exec(new URL(page.url()).pathname), 'the run URL');
    return decodeURIComponent(match[1] as string);
  }

  const indicator = (page: Page) => page.getAttribute('.aw-pill', 'data-indicator');
  const stepInfo = (page: Page) =>
    page.$$eval('.aw-step', (elements) =>
      elements.map((element) => ({
        id: element.getAttribute('data-step-id'),
        state: element.getAttribute('data-state'),
        expanded: element.querySelector(':scope > .aw-step__heading > button')?.getAttribute('aria-expanded'),
        nested: element.parentElement?.closest('.aw-step')?.getAttribute('data-step-id') ?? null,
      })),
    );

  it('runs the demo: steps open while running, nested inside their parent, fold with a check after success; a user-opened step stays open; answer = deltas', async () => {
    const page = await newPage();
    const runId = await startFromComposer(page, 'demo', 'What is the capital of France?');
    const answer = serverAnswer(runId);
    // While running: a running step is expanded.
    await poll(async () => (await stepInfo(page)).some((step) => step.state === 'running' && step.expanded === 'true'), 'a running, expanded step');
    // Nested: the search step sits inside the research step's body.
    const nested = await poll(async () => (await stepInfo(page)).find((step) => step.nested !== null), 'a nested step');
    expect(nested.nested).toBeTruthy();
    await page.screenshot({ path: `${ARTIFACTS}/demo-running-light-desktop.png`, fullPage: true });
    // The user closes and re-opens the research step while it runs: an explicit "open" choice.
    const research = page.locator(`.aw-step[data-step-id="${nested.nested}"] > .aw-step__heading > button`);
    // Clicks dispatched on the button itself: while the run streams, the page moves under the
    // pointer, and on a loaded machine a click Playwright aims by coordinates lands beside the
    // heading now and then (a dispatched click toggled it 8 times out of 8 under load, an aimed one
    // 6 of 8). The keyboard path is tested with Stop below.
    await research.dispatchEvent('click');
    await poll(async () => (await research.getAttribute('aria-expanded')) === 'false', 'research closed by the user');
    await research.dispatchEvent('click');
    await poll(async () => (await research.getAttribute('aria-expanded')) === 'true', 'research re-opened by the user');

    await poll(async () => (await indicator(page)) === 'ended', 'the run to end', 30_000);
    // About a second after success the other top-level steps fold; the user's choice wins.
    await poll(async () => {
      const steps = (await stepInfo(page)).filter((step) => step.nested === null);
      return steps.length >= 2 && steps.every((step) => step.state === 'complete' && step.expanded === (step.id === nested.nested ? 'true' : 'false'));
    }, 'top-level steps folded except the one the user opened', 5_000);
    expect(await page.$$eval('.aw-step[data-state="complete"] .aw-icon--complete', (icons) => icons.length)).toBeGreaterThan(0);
    await page.screenshot({ path: `${ARTIFACTS}/demo-finished-light-desktop.png`, fullPage: true });

    const expected = await answer;
    expect(expected.length).toBeGreaterThan(100);
    const rendered = await page.$eval('.aw-answer', (element) => element.textContent ?? '');
    const reference = await page.evaluate((html) => {
      const element = document.createElement('div');
      element.innerHTML = html;
      return element.textContent ?? '';
    }, renderMarkdown(expected));
    expect(normalise(rendered)).toBe(normalise(reference));
    expect(await page.getAttribute('.aw-answer', 'aria-busy')).toBe('false');
    expect(await page.$$eval('.aw-answer [aria-live], .aw-answer[aria-live]', (elements) => elements.length)).toBe(0);
    expect(await page.$$eval('[role="status"]', (elements) => elements.length)).toBe(1);
    await poll(async () => ((await page.textContent('[role="status"]')) ?? '').includes('Answer complete'), 'the completion announced');

    // Reload (a full replay from the log): the user's choice survives.
    await page.reload();
    await poll(async () => (await indicator(page)) === 'ended', 'the replayed run');
    await poll(async () => (await research.getAttribute('aria-expanded')) === 'true', 'the user choice after reload');
    expect((await stepInfo(page)).filter((step) => step.nested === null && step.id !== nested.nested).every((step) => step.expanded === 'false')).toBe(true);
    await page.context().close();
  });

  it('folds a successful step about 1 s after it ends, on the page clock (not before)', async () => {
    const page = await newPage();
    await page.clock.install();
    const runId = await startRun('gated', 'x');
    await page.goto(`${suite.url}/runs/${runId}`);
    const header = page.locator('.aw-step[data-step-id] > .aw-step__heading > button').first();
    await poll(async () => (await header.getAttribute('aria-expanded')) === 'true', 'the running step, expanded');
    // Freeze the page's time, then let the step end on the server.
    // Pause a little ahead of the page's now; on a loaded machine that moment may already have
    // passed by the time the command arrives ("Cannot fast-forward to the past"), so try again.
    for (let tries = 0; ; tries++) {
      try {
        await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 200);
        break;
      } catch (error) {
        if (tries >= 4 || !String(error).includes('past')) throw error;
      }
    }
    gates.get(runId)?.();
    const step = page.locator('.aw-step').first();
    // Network still flows; animation frames and timers only move when the test moves the clock.
    await poll(async () => {
      await page.clock.runFor(16);
      return (await step.getAttribute('data-state')) === 'complete';
    }, 'the step to complete');
    expect(await header.getAttribute('aria-expanded')).toBe('true');
    await page.clock.runFor(800);
    expect(await header.getAttribute('aria-expanded')).toBe('true');
    await page.clock.runFor(300);
    await poll(async () => (await header.getAttribute('aria-expanded')) === 'false', 'the fold after ~1 s');
    expect(await page.$('.aw-step__body:not([hidden])')).not.toBeNull(); // the second step is running, open
    await fetch(`${suite.url}/api/runs/${runId}/cancel`, { method: 'POST' });
    await page.context().close();
  });

  it('shows a failing agent: the failed step stays open and red, the run shows its error', async () => {
    const page = await newPage();
    const runId = await startRun('failing', 'go');
    await page.goto(`${suite.url}/runs/${runId}`);
    await poll(async () => (await indicator(page)) === 'error', 'the run to fail', 15_000);
    await new Promise((resolve) => setTimeout(resolve, 1200)); // past the fold delay: an error step must not fold
    const steps = await stepInfo(page);
    expect(steps.find((step) => step.state === 'error')?.expanded).toBe('true');
    expect(await page.textContent('.aw-run__error[role="alert"]')).toMatch(/failed/i);
    expect(await page.textContent('.aw-step[data-state="error"] .aw-step__error')).toMatch(/503/);
    expect(await page.$$eval('.aw-tool[data-state="error"]', (cards) => cards.length)).toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}/failing-light-desktop.png`, fullPage: true });
    await page.context().close();
  });

  it('stops a run: Stop shows Stopping…, the server reports it cancelled and the producer signal fired', async () => {
    const page = await newPage();
    const runId = await startRun('forever', 'x');
    await page.goto(`${suite.url}/runs/${runId}`);
    await poll(async () => (await indicator(page)) === 'live', 'the run to be live');
    // Keyboard: the step header is a real button; Enter toggles it.
    const header = page.locator('.aw-step > .aw-step__heading > button').first();
    await header.focus();
    await page.keyboard.press('Enter');
    await poll(async () => (await header.getAttribute('aria-expanded')) === 'false', 'closed from the keyboard');
    await page.keyboard.press('Space');
    await poll(async () => (await header.getAttribute('aria-expanded')) === 'true', 'opened from the keyboard');
    // Motion: the spinner turns, and stops under prefers-reduced-motion.
    const spin = () =>
      page.$$eval('.aw-icon--running svg', (svgs) => {
        const names = new Set(svgs.map((svg) => getComputedStyle(svg).animationName));
        return names.size === 1 ? [...names][0] : [...names].join(',');
      });
    expect(await spin()).toBe('aw-spin');
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await poll(async () => (await spin()) === 'none', 'no animation under reduced motion (steps and runs list)');
    await page.click('.aw-button--stop');
    await poll(async () => (await indicator(page)) === 'cancelled', 'the cancelled state', 10_000);
    const state = (await (await fetch(`${suite.url}/api/runs/${runId}`)).json()) as { status: string };
    expect(state.status).toBe('cancelled');
    expect(aborted.get(runId)).toBe(true);
    expect(await page.getAttribute('.aw-step', 'data-state')).toBe('cancelled');
    expect(await page.$('.aw-button--stop')).toBeNull();
    await page.context().close();
  });

  it('survives a cut stream (reconnects by itself, no lost or repeated text) and a reload mid-run', async () => {
    const page = await newPage();
    const count = 300;
    const expected = Array.from({ length: count }, (_, index) => `w${index + 1} `).join('');
    const runId = await startRun('words', { count, delayMs: 12 });
    await page.goto(`${suite.url}/runs/${runId}`);
    await poll(async () => ((await page.textContent('.aw-answer')) ?? '').includes('w40 '), 'some text');
    const before = eventRequests.get(runId) ?? 0;
    suite.server.dropConnections(); // every socket, the page's stream included; the run goes on
    await poll(async () => (eventRequests.get(runId) ?? 0) > before, 'a reconnect');
    await poll(async () => ((await page.textContent('.aw-answer')) ?? '').includes('w150 '), 'text after the cut');
    await page.reload();
    await poll(async () => (await indicator(page)) === 'ended', 'the run to end', 20_000);
    expect(normalise((await page.textContent('.aw-answer')) ?? '')).toBe(normalise(expected));
    await page.context().close();
  });

  it('keeps several runs live at once: switching in the runs list loses no text in either', async () => {
    const page = await newPage();
    const count = 250;
    const expected = normalise(Array.from({ length: count }, (_, index) => `w${index + 1} `).join(''));
    const first = await startRun('words', { count, delayMs: 8 });
    const second = await startRun('words', { count, delayMs: 8 });
    await page.goto(`${suite.url}/runs/${first}`);
    const open = async (runId: string) => {
      await poll(async () => (await page.$(`.runs__item[href="/runs/${runId}"]`)) !== null, 'the run in the list');
      await page.click(`.runs__item[href="/runs/${runId}"]`);
      await poll(async () => (await page.getAttribute('.app__run', 'data-run-id')) === runId, `run ${runId} shown`);
    };
    await poll(async () => ((await page.textContent('.aw-answer')) ?? '').includes('w20 '), 'the first run streaming');
    await open(second);
    expect(new URL(page.url()).pathname).toBe(`/runs/${second}`);
    await poll(async () => ((await page.textContent('.aw-answer')) ?? '').includes('w20 '), 'the second run streaming');
    await open(first);
    await poll(async () => (await indicator(page)) === 'ended', 'the first run to end', 20_000);
    expect(normalise((await page.textContent('.aw-answer')) ?? '')).toBe(expected);
    await page.goBack();
    await poll(async () => (await page.getAttribute('.app__run', 'data-run-id')) === second, 'back to the second run');
    await poll(async () => (await indicator(page)) === 'ended', 'the second run to end', 20_000);
    expect(normalise((await page.textContent('.aw-answer')) ?? '')).toBe(expected);
    await page.context().close();
  });

  it('renders XSS payloads inert: no script runs, no dialog, no unsafe link or remote image', async () => {
    const page = await newPage();
    let dialogs = 0;
    page.on('dialog', (dialog) => {
      dialogs++;
      void dialog.dismiss();
    });
    const runId = await startRun('xss', 'x');
    await page.goto(`${suite.url}/runs/${runId}`);
    await poll(async () => (await indicator(page)) === 'ended', 'the run to end');
    await poll(async () => ((await page.textContent('.aw-answer')) ?? '').includes('safe link'), 'the answer');
    const unsafe = await page.$$eval('.aw-answer a', (links) => links.map((link) => link.getAttribute('href')));
    expect(unsafe).toEqual(['https://example.com/docs']);
    expect(await page.getAttribute('.aw-answer a', 'rel')).toBe('noopener noreferrer nofollow');
    expect(await page.$$eval('.aw-answer img, .aw-answer script, .aw-answer iframe, .aw-answer svg:not(.aw-icon svg)', (elements) => elements.length)).toBe(0);
    expect(await page.textContent('.aw-answer')).toContain('<script>');
    expect(await page.evaluate(() => (window as unknown as { __xss: boolean }).__xss)).toBe(false);
    expect(dialogs).toBe(0);
    await page.context().close();
  });

  it('looks right in dark mode and at 375 px (no sideways scroll); screenshots saved', async () => {
    for (const [name, options] of [
      ['dark-desktop', { colorScheme: 'dark' as const }],
      ['light-375', { width: 375, height: 812 }],
      ['dark-375', { width: 375, height: 812, colorScheme: 'dark' as const }],
    ] as const) {
      const page = await newPage(options);
      await startFromComposer(page, 'demo', 'What is the capital of Japan?');
      await poll(async () => (await stepInfo(page)).some((step) => step.state === 'running'), 'a running step');
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await page.screenshot({ path: `${ARTIFACTS}/demo-running-${name}.png` });
      await poll(async () => (await indicator(page)) === 'ended', 'the run to end', 30_000);
      await poll(async () => (await stepInfo(page)).filter((step) => step.nested === null).every((step) => step.expanded === 'false'), 'folded steps', 5_000);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await page.screenshot({ path: `${ARTIFACTS}/demo-finished-${name}.png`, fullPage: true });
      await page.context().close();
    }
  });

  it('follows the stream only while the reader is at the bottom, and offers "Jump to latest" otherwise', async () => {
    const page = await newPage({ width: 375, height: 640 });
    const runId = await startRun('words', { count: 1500, delayMs: 4 });
    await page.goto(`${suite.url}/runs/${runId}`);
    const main = page.locator('.app__main');
    const distanceFromBottom = () => main.evaluate((element) => element.scrollHeight - element.scrollTop - element.clientHeight);
    await poll(async () => (await main.evaluate((element) => element.scrollTop)) > 200 && (await distanceFromBottom()) < 48, 'the page following the answer');
    // The reader scrolls up with the mouse wheel (again if a wheel turn did not register).
    await page.mouse.move(187, 400);
    await poll(async () => {
      await page.mouse.wheel(0, -5_000);
      return (await distanceFromBottom()) > 600;
    }, 'the reader well above the bottom');
    const readingAt = await main.evaluate((element) => element.scrollTop);
    const jump = page.locator('.app__jump');
    await poll(async () => /Jump to latest \(\d+ new\)/.test((await jump.textContent().catch(() => '')) ?? ''), 'the jump pill');
    // No yanking while the reader reads: new content arrived, the reader stayed where they were.
    expect(Math.abs((await main.evaluate((element) => element.scrollTop)) - readingAt)).toBeLessThan(50);
    expect(await distanceFromBottom()).toBeGreaterThan(600);
    await page.screenshot({ path: `${ARTIFACTS}/jump-to-latest-light-375.png` });
    await jump.click();
    await poll(async () => (await distanceFromBottom()) < 48, 'back at the bottom');
    await fetch(`${suite.url}/api/runs/${runId}/cancel`, { method: 'POST' });
    await page.context().close();
  });
});
