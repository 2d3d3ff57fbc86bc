/**
 * How the viewer renders a fast or large stream in Chromium: a backlog is shown over several frames
 * (not in one long task) and completely; a hidden tab keeps folding events in without animation
 * frames, and its answer is whole when it is shown again.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { AgentContext, AgentDefinition } from '../../src/producer/agent.js';
import { serverAnswer as answerAt, startRunAt } from '../helpers/servers.js';
import { chromiumSkipReason, poll, useGatewayAndChromium } from './browser.js';

const skip = chromiumSkipReason();

/** Paragraphs of numbered words: plain text, so the rendered text must equal the source (whitespace aside). */
const paragraphs = (count: number) => Array.from({ length: count }, (_, index) => `Paragraph p${index + 1} has words one two three four five six seven eight.\n\n`);

const agents: AgentDefinition[] = [
  {
    // Everything at once: the page opens on a finished run with a long answer (a replay).
    name: 'long',
    run: async function* () {
      for (const paragraph of paragraphs(1500)) yield paragraph;
    } as AgentDefinition['run'],
  },
  {
    // A steady stream of numbered words, then a pause until the test opens the gate, then the end.
    name: 'words',
    run: async function* (ctx: AgentContext) {
      const { count, every } = ctx.input as { count: number; every: number };
      const opened = new Promise<void>((resolve) => gates.set(ctx.runId, resolve));
      for (let index = 1; index <= count; index++) {
        yield `w${index} `;
        if (index % every === 0) await ctx.sleep(5);
      }
      await opened;
      yield 'end.';
    } as AgentDefinition['run'],
  },
];

const gates = new Map<string, () => void>();

const normalise = (text: string) => text.replace(/\s+/g, ' ').trim();

/**
 * Headless Chromium has no hidden tabs (bringing another tab to the front or minimising the window
 * leaves `visibilityState` "visible" and frames running), so this stands in for one, as a background
 * tab behaves: `document.visibilityState` reads "hidden" and animation-frame callbacks are held until
 * the tab is shown, then run. Timers keep running, as they do (throttled) in a real background tab.
 */
function backgroundTabEmulation() {
  const held: FrameRequestCallback[] = [];
  let hidden = false;
  let hideOnRequest = false;
  const realRequest = window.requestAnimationFrame.bind(window);
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  const hide = () => {
    hidden = true;
    document.dispatchEvent(new Event('visibilitychange'));
  };
  window.requestAnimationFrame = (callback) => {
    const id = realRequest((time) => {
      if (hidden) held.push(callback);
      else callback(time);
    });
    if (hideOnRequest) {
      // Hidden right after the page asked for a frame: the worst moment, that frame never comes.
      hideOnRequest = false;
      hide();
    }
    return id;
  };
  const page = window as unknown as { __hide: () => void; __show: () => void; __framesWhileHidden: number };
  page.__framesWhileHidden = 0;
  page.__hide = () => {
    hideOnRequest = true;
  };
  page.__show = () => {
    hidden = false;
    page.__framesWhileHidden = held.length;
    document.dispatchEvent(new Event('visibilitychange'));
    for (const callback of held.splice(0)) realRequest(callback);
  };
}

describe.skipIf(skip !== undefined)('streaming render in Chromium', () => {
  const suite = useGatewayAndChromium({ agents, heartbeatMs: 1000, onAgentError: () => {} });

  const startRun = (agent: string, input: unknown) => startRunAt(suite.url, agent, input);
  const serverAnswer = (runId: string) => answerAt(suite.url, runId);

  async function newPage(init?: () => void): Promise<Page> {
    const context = await suite.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    if (init) await page.addInitScript(init);
    return page;
  }

  it('shows a long finished answer over several frames instead of one long task, and shows all of it', async () => {
    const runId = await startRun('long', 'x');
    const expected = await serverAnswer(runId);
    const page = await newPage(() => {
      // How much of the answer each animation frame found in the DOM.
      const shown: number[] = [];
      (window as unknown as { __shown: number[] }).__shown = shown;
      const frame = () => {
        const value = Number(document.querySelector('.aw-answer')?.getAttribute('data-shown-length') ?? -1);
        if (value >= 0 && value !== shown.at(-1)) shown.push(value);
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    });
    await page.goto(`${suite.url}/runs/${runId}`);
    // Waits on what the frames saw, not on the attribute: the attribute can reach its end in a frame
    // whose recorder callback already ran, and the recorder only sees it a frame later.
    const recorded = () => page.evaluate(() => (window as unknown as { __shown: number[] }).__shown);
    await poll(async () => (await recorded()).at(-1) === expected.length, 'the whole answer shown', 30_000);
    const shown = await recorded();
    // 1,500 paragraphs (~110 KB of HTML), a frame's worth at a time, in order. How many frames depends
    // on the machine: behind for more than 250 ms, the reveal takes bigger steps (at most 100 ms of
    // work each, so the lag stays bounded), and on a loaded machine it has taken as few as 4. Shown
    // all at once, it would take one or two.
    expect(shown.length).toBeGreaterThanOrEqual(3);
    expect(shown.every((value, index) => index === 0 || value > (shown[index - 1] as number))).toBe(true);
    expect(shown.at(-1)).toBe(expected.length);
    expect(normalise((await page.textContent('.aw-answer')) ?? '')).toBe(normalise(expected));
    expect(await page.$$eval('.aw-answer p', (elements) => elements.length)).toBe(1500);
    await page.context().close();
  });

  it('keeps streaming in a hidden tab (no animation frames): the answer advances while hidden and is complete when shown again', async () => {
    const page = await newPage(backgroundTabEmulation);
    const count = 3000;
    const runId = await startRun('words', { count, every: 10 });
    const answer = serverAnswer(runId);
    const words = Array.from({ length: count }, (_, index) => `w${index + 1} `).join('');
    await page.goto(`${suite.url}/runs/${runId}`);
    await poll(async () => ((await page.textContent('.aw-answer').catch(() => '')) ?? '').includes('w50 '), 'the stream under way');
    // Hidden mid-stream, just after the run store asked for a frame (the answer is one paragraph,
    // so the store is the only one asking), which then never comes while hidden.
    await page.evaluate(() => (window as unknown as { __hide: () => void }).__hide());
    await poll(() => page.evaluate(() => document.visibilityState === 'hidden'), 'the tab hidden');
    // The run is still going (held at the gate), yet the hidden page has every word so far.
    await poll(async () => Number(await page.getAttribute('.aw-answer', 'data-shown-length')) === words.length, 'every word so far, while hidden', 20_000);
    expect(await page.getAttribute('.aw-pill', 'data-indicator')).toBe('live');
    gates.get(runId)?.();
    const expected = await answer;
    await poll(async () => (await page.getAttribute('.aw-pill', 'data-indicator')) === 'ended', 'the end of the run, seen while hidden', 20_000);
    expect(await page.evaluate(() => document.visibilityState)).toBe('hidden');
    await page.evaluate(() => (window as unknown as { __show: () => void }).__show());
    expect(await page.evaluate(() => (window as unknown as { __framesWhileHidden: number }).__framesWhileHidden)).toBeGreaterThan(0);
    expect(normalise((await page.textContent('.aw-answer')) ?? '')).toBe(normalise(expected));
    expect(expected).toBe(`${words}end.`);
    expect(await page.getAttribute('.aw-answer', 'aria-busy')).toBe('false');
    await page.context().close();
  });
});
