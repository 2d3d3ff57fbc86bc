/**
 * The viewer's copy buttons (a step, the answer, a tool value) put the right text on the clipboard,
 * mid-stream too; and every piece of text on the page meets WCAG AA contrast in the light and the
 * dark scheme, in each run state (live, finished, failed, cancelled).
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { AgentError, type AgentContext, type AgentDefinition } from '../../src/producer/agent.js';
import { startRunAt } from '../helpers/servers.js';
import { chromiumSkipReason, poll, useGatewayAndChromium } from './browser.js';

const skip = chromiumSkipReason();

const ANSWER = [
  '## Findings',
  '',
  'The **capital** is Paris; see [the docs](https://example.com/docs) and `inline code`.',
  '',
  '> A quoted source.',
  '',
  '```ts',
  '// a comment',
  'const answer = "Paris"; let count = 42;',
  '```',
  '',
  '| city | country |',
  '|---|---|',
  '| Paris | France |',
  '',
  '- one',
  '- two',
  '',
].join('\n');

const gates = new Map<string, () => void>();

/** Every state the viewer can show, in one run: `end` picks how it ends (finish, fail, or hold until Stop). */
const showcase: AgentDefinition = {
  name: 'showcase',
  run: async function* (ctx: AgentContext) {
    const { end } = ctx.input as { end: 'finish' | 'fail' | 'hold' };
    yield ctx.status('Working…');
    yield* ctx.step({ title: 'Plan the answer', kind: 'thought' }, async function* (step) {
      yield step.log('Question: capital of France');
      yield { type: 'text.delta', text: 'I should look this up.', stepId: step.stepId };
    });
    yield* ctx.step({ title: 'Research', kind: 'agent' }, async function* (research) {
      yield* research.step({ title: 'Search the index', kind: 'search' }, async function* (search) {
        yield search.log('embedding the question');
        return yield* search.tool('search', { query: 'capital of France', topK: 3 }, async () => [{ title: 'France', score: 0.93 }]);
      });
    });
    for (const token of ANSWER.match(/\s*\S+/g) ?? []) yield token;
    if (end === 'fail') {
      yield* ctx.step({ title: 'Fetch the report', kind: 'tool' }, async function* (step) {
        yield step.log('GET https://reports.example.invalid/q3');
        yield* step.tool('http.get', { url: 'https://reports.example.invalid/q3' }, async () => {
          throw new AgentError('The reports service answered 503 twice.', 'UPSTREAM_UNAVAILABLE');
        });
      });
    }
    if (end === 'hold') {
      const opened = new Promise<void>((resolve) => gates.set(ctx.runId, resolve));
      yield* ctx.step({ title: 'Waiting for approval', kind: 'thought' }, async function* (step) {
        yield step.log('holding');
        await Promise.race([opened, new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))]);
      });
    }
  } as AgentDefinition['run'],
};

/** A text colour and the colour behind it, as the page composites them, and the contrast ratio. */
interface ContrastFailure {
  what: string;
  text: string;
  foreground: string;
  background: string;
  ratio: number;
  required: number;
}

/**
 * Runs in the page: every visible element with its own text is checked against the colour actually
 * behind it (ancestor backgrounds composited on a canvas, alpha included). WCAG 2.x AA: 4.5:1, or 3:1
 * for large text (24 px, or 18.66 px bold). Disabled controls are exempt, as WCAG allows. Text
 * painted through `background-clip: text` (the shimmer on running labels) is checked at its first
 * gradient stop, its resting colour.
 */
function contrastFailures(): ContrastFailure[] {
  const canvas = document.createElement('canvas');
  canvas.width = 1;
  canvas.height = 1;
  const context = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
  const pixel = (layers: string[]): [number, number, number] => {
    context.clearRect(0, 0, 1, 1);
    for (const layer of layers) {
      context.fillStyle = layer;
      context.fillRect(0, 0, 1, 1);
    }
    const [r, g, b] = context.getImageData(0, 0, 1, 1).data;
    return [r as number, g as number, b as number];
  };
  const opaque = (color: string) => {
    context.clearRect(0, 0, 1, 1);
    context.fillStyle = color;
    context.fillRect(0, 0, 1, 1);
    return context.getImageData(0, 0, 1, 1).data[3] === 255;
  };
  const luminance = ([r, g, b]: [number, number, number]) => {
    const channel = (value: number) => {
      const c = value / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const transparent = (color: string) => color === 'transparent' || /rgba\(.*,\s*0\)$/.test(color) || /\/\s*0\)$/.test(color);
  const failures: ContrastFailure[] = [];
  const targets: [HTMLElement, string, string | undefined][] = [];
  for (const element of document.querySelectorAll<HTMLElement>('body *')) {
    const own = [...element.childNodes].filter((node) => node.nodeType === Node.TEXT_NODE && (node.textContent ?? '').trim() !== '');
    if (own.length > 0) targets.push([element, own[0]?.textContent ?? '', undefined]);
    // Generated text that reads as words (a code block's language label), not decoration ("›").
    for (const pseudo of ['::before', '::after']) {
      const content = getComputedStyle(element, pseudo).content;
      const attribute = /^attr\(([\w-]+)\)$/.exec(content)?.[1];
      const text = attribute ? (element.getAttribute(attribute) ?? '') : content.replace(/^"|"$/g, '');
      if (content !== 'none' && content !== 'normal' && /[\p{L}\p{N}]/u.test(text)) targets.push([element, text, pseudo]);
    }
  }
  for (const [element, text, pseudo] of targets) {
    if (element.closest('.aw-visually-hidden, [hidden], script, style, option')) continue;
    if (element.closest('button:disabled, select:disabled, textarea:disabled')) continue;
    const style = getComputedStyle(element, pseudo);
    if (getComputedStyle(element).visibility !== 'visible' || element.getClientRects().length === 0) continue;
    let color = style.color;
    if (transparent(color) && style.backgroundClip === 'text') color = /(?:rgba?|color|oklab|oklch)\([^)]*\)/.exec(style.backgroundImage)?.[0] ?? color;
    // Backgrounds from the nearest opaque one inwards (white if none is).
    const layers: string[] = [];
    for (let node: HTMLElement | null = element; node; node = node.parentElement) {
      const background = getComputedStyle(node).backgroundColor;
      if (transparent(background) || (node === element && style.backgroundClip === 'text')) continue;
      layers.unshift(background);
      if (opaque(background)) break;
    }
    layers.unshift('#ffffff');
    const background = pixel(layers);
    const foreground = pixel([...layers, color]);
    const [light, dark] = [luminance(foreground), luminance(background)].sort((a, b) => b - a) as [number, number];
    const ratio = (light + 0.05) / (dark + 0.05);
    const size = Number.parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const required = large ? 3 : 4.5;
    if (ratio < required) {
      const name = `${element.tagName.toLowerCase()}${element.className && typeof element.className === 'string' ? `.${element.className.trim().split(/\s+/).join('.')}` : ''}${pseudo ?? ''}`;
      failures.push({ what: name, text: text.trim().slice(0, 40), foreground: `rgb(${foreground.join(' ')})`, background: `rgb(${background.join(' ')})`, ratio: Math.round(ratio * 100) / 100, required });
    }
  }
  (window as unknown as { __checked: number }).__checked = targets.length;
  return failures;
}

describe.skipIf(skip !== undefined)('copy buttons and contrast in Chromium', () => {
  const suite = useGatewayAndChromium({ agents: [showcase], heartbeatMs: 1000, onAgentError: () => {} });

  const startRun = (end: 'finish' | 'fail' | 'hold') => startRunAt(suite.url, 'showcase', { end });

  async function newPage(colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const context = await suite.browser.newContext({ viewport: { width: 1280, height: 1400 }, colorScheme, permissions: ['clipboard-read', 'clipboard-write'] });
    return context.newPage();
  }

  const clipboard = (page: Page) => page.evaluate(() => navigator.clipboard.readText());
  const indicator = (page: Page) => page.getAttribute('.aw-pill', 'data-indicator');

  it('copies a step (with its logs, tool call and nested steps), the answer and a tool result, mid-stream too', async () => {
    const page = await newPage();
    const runId = await startRun('hold');
    await page.goto(`${suite.url}/runs/${runId}`);
    // The run holds in its last step: open the folded "Research" step and copy it.
    const research = page.locator('.aw-step', { has: page.locator(':scope > .aw-step__heading', { hasText: 'Research' }) }).first();
    await poll(async () => (await research.getAttribute('data-state')) === 'complete', 'research complete');
    const header = research.locator(':scope > .aw-step__heading > button');
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    await research.getByRole('button', { name: 'Copy step: Research' }).click();
    await poll(async () => (await research.getByRole('button', { name: 'Copy step: Research' }).textContent()) === 'Copied', '"Copied"');
    const step = await clipboard(page);
    expect(step).toMatch(/^- \*\*Research\*\* \(complete · [\d.]+ (?:ms|s)\)\n/);
    expect(step).toContain('  - **Search the index** (complete');
    expect(step).toContain('    - embedding the question');
    expect(step).toContain('    - tool `search` {"query":"capital of France","topK":3} → [{"title":"France","score":0.93}]');

    // The running step, copied while it runs: what has arrived so far.
    const waiting = page.locator('.aw-step[data-state="running"]');
    await waiting.getByRole('button', { name: 'Copy step: Waiting for approval' }).click();
    await poll(async () => (await clipboard(page)).startsWith('- **Waiting for approval** (running)'), 'the running step copied');
    expect(await clipboard(page)).toBe('- **Waiting for approval** (running)\n  - holding');

    // The answer, while the run is still live.
    expect(await indicator(page)).toBe('live');
    await page.getByRole('button', { name: 'Copy answer' }).click();
    await poll(async () => (await clipboard(page)) === ANSWER.trimEnd() || (await clipboard(page)) === ANSWER, 'the answer copied');

    // A tool result, from its card.
    const search = page.locator('.aw-step', { has: page.locator(':scope > .aw-step__heading', { hasText: 'Search the index' }) }).first();
    const searchHeader = search.locator(':scope > .aw-step__heading > button');
    if ((await searchHeader.getAttribute('aria-expanded')) === 'false') await searchHeader.click();
    await search.getByRole('button', { name: 'Copy result' }).click();
    await poll(async () => (await clipboard(page)).includes('"score": 0.93'), 'the tool result copied');
    gates.get(runId)?.();
    await poll(async () => (await indicator(page)) === 'ended', 'the run to end');
    await page.context().close();
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`meets WCAG AA contrast for all text in the ${scheme} scheme: live, finished, failed and cancelled runs`, async () => {
      const page = await newPage(scheme);
      const failures: (ContrastFailure & { state: string })[] = [];
      const check = async (state: string) => {
        // Every step open, so their bodies (logs, tool cards, errors) are on the page.
        for (const button of await page.$$('.aw-step__header[aria-expanded="false"]')) await button.click();
        await page.mouse.move(0, 0);
        for (const failure of await page.evaluate(contrastFailures)) failures.push({ state, ...failure });
        // Not vacuous: the page had plenty of text to check.
        expect(await page.evaluate(() => (window as unknown as { __checked: number }).__checked)).toBeGreaterThan(15);
      };

      const held = await startRun('hold');
      await page.goto(`${suite.url}/runs/${held}`);
      await poll(async () => (await page.$('.aw-step[data-state="running"]')) !== null && (await indicator(page)) === 'live', 'a live run with a running step');
      await poll(async () => ((await page.textContent('.aw-answer')) ?? '').includes('two'), 'the answer');
      await check('live');
      await page.click('.aw-button--stop');
      await poll(async () => (await indicator(page)) === 'cancelled', 'the run cancelled');
      await check('cancelled');

      const finished = await startRun('finish');
      await page.goto(`${suite.url}/runs/${finished}`);
      await poll(async () => (await indicator(page)) === 'ended', 'the finished run');
      await check('finished');

      const failed = await startRun('fail');
      await page.goto(`${suite.url}/runs/${failed}`);
      await poll(async () => (await indicator(page)) === 'error', 'the failed run');
      await check('failed');

      // The empty page: composer, examples, runs list.
      await page.goto(suite.url);
      await poll(async () => (await page.$$('.runs__item')).length >= 3, 'the runs list');
      await check('home');
      expect(failures).toEqual([]);
      await page.context().close();
    });
  }
});
