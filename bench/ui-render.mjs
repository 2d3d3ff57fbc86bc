// Rendering benchmark for the run viewer (not a test): a run streams 20,000 tokens of Markdown
// (paragraphs, lists, code blocks, tables) at 2,000 / 5,000 / 10,000 tokens/s to the viewer in
// Debian's Chromium; we count long tasks (> 50 ms), frames per second, and the lag from a chunk's
// arrival in the page to the first animation frame whose DOM shows its text (p50 / p99).
//
// Honesty notes. Long tasks are split: those before the first event reaches the page are the page
// loading (bundle evaluation, first render) and are reported on their own; everything after counts
// against the streaming target, including the page catching up with a stream that started before it.
// The harness stays off the page's main thread while it measures: it learns that the run ended from
// the server and waits inside the page. It drives Chromium over bare CDP (`cdp-browser.mjs`) with only
// the Page domain enabled: Playwright's selector engine is itself a ~90 ms task, and the Network domain it
// enables makes Chromium work through the stream's whole body when it ends. The lag is measured on the text the answer shows
// (`data-shown-length`: characters of the answer in the DOM), not on the state the page holds.
//
//   npm run bench:ui                       # needs /usr/bin/chromium and a build (the script builds)
//   node bench/ui-render.mjs --throttle 4  # with 4x CPU throttling through CDP (a mid-range laptop)
//   node bench/ui-render.mjs --verbose     # also when the long tasks ran and the worst lag per 250 ms
//   node bench/ui-render.mjs --behind      # the page opens 300 ms into the stream and catches up
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { subscribe } from '../dist/client/index.js';
import { createGateway } from '../dist/gateway/index.js';
import { launchBrowser } from './cdp-browser.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? fallback : args[index + 1];
};
const TOKENS = Number(flag('tokens', 20_000));
const RATES = String(flag('rates', '2000,5000,10000')).split(',').map(Number);
const THROTTLE = Number(flag('throttle', 1));
const VERBOSE = args.includes('--verbose');
const BEHIND = args.includes('--behind');

/** 20,000 tokens of Markdown with code blocks and tables, as whitespace-led word tokens. */
function markdownTokens(count) {
  const section = (n) =>
    [
      `## Section ${n}`,
      '',
      `Streaming **section ${n}** explains how an ordered event log keeps every reader in step: each event has a sequence number, a reader that reconnects says the last one it saw, and the server sends exactly what follows. Nothing is lost and nothing is doubled, whatever the network does.`,
      '',
      '- the reader keeps the last `seq` it saw;',
      '- the server resumes after it, exactly;',
      '- a snapshot stands in for evicted history.',
      '',
      '```ts',
      `for await (const event of subscribe(runId, { after: ${n} })) {`,
      '  if (event.type === "text.delta") append(event.text);',
      '}',
      '```',
      '',
      '| metric | target | note |',
      '|---|---|---|',
      `| long tasks | 0 | section ${n} |`,
      '| frames/s | ≥ 55 | rAF count |',
      '',
    ].join('\n');
  const tokens = [];
  for (let n = 1; tokens.length < count; n++) tokens.push(...(section(n).match(/\s*\S+/g) ?? []));
  return tokens.slice(0, count);
}

const TEXT = markdownTokens(TOKENS);
const loadBefore = loadavg().map((load) => load.toFixed(2)).join(' ');

/** Emits the tokens at `rate` per second, paced by the wall clock (several per timer tick at high rates). */
const flood = {
  name: 'flood',
  async *run(ctx) {
    const { rate } = ctx.input;
    // The page is open and live before the first token (or, with --behind, opens 300 ms into the stream).
    await (BEHIND ? ctx.sleep(300) : pageReady);
    const started = performance.now();
    let sent = 0;
    while (sent < TEXT.length) {
      const due = Math.min(TEXT.length, Math.floor(((performance.now() - started) / 1000) * rate));
      while (sent < due) yield TEXT[sent++];
      await ctx.sleep(2);
    }
    floodEnded();
  },
};
/** Resolved when the flood agent has yielded its last token (the harness waits on it, not on the page). */
let floodEnded = () => {};
/** Resolved by the harness once the page shows the run live (the flood agent waits for it). */
let pageReady = Promise.resolve();

const gateway = createGateway({ agents: [flood], heartbeatMs: 15_000, onAgentError: () => {} });
const server = createServer(gateway.listener);
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}`;
/**
 * Headless Chromium 15x preloads the omnibox popup (a "top-chrome" WebUI renderer) and, with no
 * display, that renderer spins at ~35 % of a core for the whole run: on a 2-core machine it competes
 * with the page for CPU, a cost no real tab pays. It is switched off. Chromium honours only the last
 * --disable-features, so Playwright's own list (playwright-core chromiumSwitches.ts) is repeated.
 */
const DISABLE_FEATURES = `--disable-features=${[
  ...['AvoidUnnecessaryBeforeUnloadCheckSync', 'DestroyProfileOnBrowserClose', 'HttpsUpgrades', 'HttpsFirstBalancedModeAutoEnable', 'LensOverlay', 'MediaRouter', 'PaintHolding'],
  ...['ThirdPartyStoragePartitioning', 'AvoidCorsURLLoaderRestartOnRedirect', 'OptimizationHints', 'NetworkTimeServiceQuerying', 'AimEnabled', 'PreconnectToSearch'],
  ...['WebUIOmniboxPopup', 'WebUIOmniboxFullPopup', 'WebUIOmniboxAimPopup', 'PreloadTopChromeWebUI'],
].join(',')}`;
const browser = await launchBrowser({
  executablePath: process.env.AGENTWIRE_CHROMIUM ?? '/usr/bin/chromium',
  // The switches Playwright passes that bear on scheduling, so the page runs as it would under it.
  args: [
    ...['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    ...['--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows', '--disable-renderer-backgrounding'],
    ...['--disable-dev-shm-usage', '--disable-extensions', '--disable-hang-monitor', '--disable-ipc-flooding-protection', '--hide-scrollbars', '--mute-audio'],
    DISABLE_FEATURES,
  ],
});

/** Installed before the app: long tasks, frames, the arrival time of every seq, and what the answer shows per frame. */
function instrument() {
  const bench = { longTasks: [], frames: [], arrivals: new Map(), shown: [], lastShown: -1, lastSeen: 0, seqLags: [] };
  window.__bench = bench;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) bench.longTasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: 'longtask', buffered: true });
  const originalFetch = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const response = await originalFetch(input, init);
    if (!String(typeof input === 'string' ? input : input.url).includes('/events') || !response.body) return response;
    const [mine, theirs] = response.body.tee();
    (async () => {
      const reader = mine.getReader();
      const decoder = new TextDecoder();
      let carry = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const now = performance.now();
        carry += decoder.decode(value, { stream: true });
        const lines = carry.split('\n');
        carry = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('id: ')) bench.arrivals.set(Number(line.slice(4)), now);
      }
    })();
    return new Response(theirs, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  // Settles once the run has ended and the whole answer is on screen (the harness awaits it over CDP).
  bench.done = new Promise((resolve) => {
    bench.finish = resolve;
  });
  const frame = (time) => {
    bench.frames.push(time);
    const answer = document.querySelector('.aw-answer');
    const shownAttribute = answer?.getAttribute('data-shown-length');
    if (shownAttribute != null) {
      const shown = Number(shownAttribute);
      if (shown !== bench.lastShown) {
        bench.shown.push([performance.now(), shown]);
        bench.lastShown = shown;
      }
    } else {
      // A viewer without data-shown-length (before it existed): the seq the page state holds.
      const seq = Number(document.querySelector('.aw-run')?.getAttribute('data-last-seq') ?? 0);
      for (let s = bench.lastSeen + 1; s <= seq; s++) {
        const arrived = bench.arrivals.get(s);
        if (arrived !== undefined) bench.seqLags.push(performance.now() - arrived);
      }
      bench.lastSeen = Math.max(bench.lastSeen, seq);
    }
    const ended = document.querySelector('.aw-pill')?.getAttribute('data-indicator') === 'ended';
    if (ended && (shownAttribute == null || Number(shownAttribute) === bench.expectedLength)) bench.finish();
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

/** The answer length after each seq of the run (from its event log), to turn "characters shown" into "seq shown". */
async function answerLengths(runId) {
  const lengths = new Map();
  let length = 0;
  for await (const event of subscribe(runId, { baseUrl: url })) {
    if (event.type === 'text.delta' && event.stepId === undefined) {
      length += event.text.length;
      lengths.set(event.seq, length);
    }
  }
  return { lengths, total: length };
}

const percentile = (values, p) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

const rows = [];
for (const rate of RATES) {
  const page = await browser.newPage({ width: 1280, height: 900, script: `(${instrument})()` });
  if (THROTTLE > 1) await page.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
  const ended = new Promise((resolve) => {
    floodEnded = resolve;
  });
  let ready = () => {};
  pageReady = new Promise((resolve) => {
    ready = resolve;
  });
  const response = await fetch(`${url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'flood', input: { rate } }) });
  const { id } = await response.json();
  await page.goto(`${url}/runs/${id}`);
  if (!BEHIND) {
    await page.evaluate(`new Promise((resolve) => {
      const check = () => (document.querySelector('.aw-pill')?.getAttribute('data-indicator') === 'live' ? resolve(true) : setTimeout(check, 20));
      check();
    })`);
    ready();
  }
  await ended;
  const { lengths, total } = await answerLengths(id);
  const { evaluate } = page;
  await evaluate(`window.__bench.expectedLength = ${total}; Promise.race([window.__bench.done, new Promise((_, reject) => setTimeout(() => reject(new Error('the page did not show the whole answer in 60 s')), 60000))]).then(() => true)`);
  const result = await evaluate(`(() => {
    const bench = window.__bench;
    return { longTasks: bench.longTasks, frames: bench.frames, arrivals: [...bench.arrivals], shown: bench.shown, seqLags: bench.seqLags, rendered: document.querySelector('.aw-answer')?.textContent?.length ?? 0 };
  })()`);
  const arrivals = new Map(result.arrivals);
  const firstArrival = Math.min(...arrivals.values());
  const lastArrival = Math.max(...arrivals.values());
  // Lag of each answer delta: its arrival → the first frame showing at least the answer up to it.
  let lags = result.seqLags;
  const lagsAt = [];
  if (result.shown.length > 0) {
    lags = [];
    let cursor = 0;
    for (const [seq, length] of [...lengths].sort((a, b) => a[0] - b[0])) {
      const arrived = arrivals.get(seq);
      if (arrived === undefined) continue;
      while (cursor < result.shown.length && result.shown[cursor][1] < length) cursor++;
      if (cursor === result.shown.length) throw new Error(`rate ${rate}: seq ${seq} never shown`);
      lags.push(Math.max(0, result.shown[cursor][0] - arrived));
      lagsAt.push([arrived - firstArrival, Math.max(0, result.shown[cursor][0] - arrived)]);
    }
  }
  if (VERBOSE) {
    // Where the time goes: long tasks and the worst lag per 250 ms of the stream, from the first arrival.
    console.error(`rate ${rate}: long tasks at`, result.longTasks.map((task) => `${(task.start - firstArrival).toFixed(0)} ms (${task.duration.toFixed(0)} ms)`).join(', '));
    const buckets = new Map();
    for (const [at, lag] of lagsAt) buckets.set(Math.floor(at / 250), Math.max(buckets.get(Math.floor(at / 250)) ?? 0, lag));
    console.error(`rate ${rate}: worst lag per 250 ms:`, [...buckets].map(([bucket, lag]) => `${bucket * 250}:${lag.toFixed(0)}`).join(' '));
  }
  const frames = result.frames.filter((time) => time >= firstArrival && time <= lastArrival);
  const seconds = (lastArrival - firstArrival) / 1000;
  const loading = result.longTasks.filter((task) => task.start < firstArrival);
  const streaming = result.longTasks.filter((task) => task.start >= firstArrival);
  rows.push({
    rate,
    seconds,
    loadingTasks: loading.length,
    longTasks: streaming.length,
    longestTask: streaming.length ? Math.max(...streaming.map((task) => task.duration)) : 0,
    fps: frames.length / seconds,
    p50: percentile(lags, 50),
    p99: percentile(lags, 99),
    // The page's first second is also its cold start (code compiled on first use, first layouts).
    p99Warm: percentile(lagsAt.filter(([at]) => at >= 1000).map(([, lag]) => lag), 99),
  });
  await page.close();
}
await browser.close();
await gateway.close();
server.closeAllConnections();
server.close();

console.log(`\nRun viewer rendering, ${TOKENS.toLocaleString('en-US')} Markdown tokens, Chromium ${THROTTLE > 1 ? `(CPU throttled ${THROTTLE}x)` : '(no throttling)'}, load average ${loadBefore} → ${loadavg().map((load) => load.toFixed(2)).join(' ')}:\n`);
console.log('| tokens/s | stream s | page-load long tasks | long tasks while streaming (> 50 ms) | longest ms | frames/s | arrival→frame p50 ms | p99 ms | p99 after the first second |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const row of rows) {
  console.log(`| ${row.rate.toLocaleString('en-US')} | ${row.seconds.toFixed(1)} | ${row.loadingTasks} | ${row.longTasks} | ${row.longestTask.toFixed(0)} | ${row.fps.toFixed(1)} | ${row.p50.toFixed(1)} | ${row.p99.toFixed(1)} | ${row.p99Warm.toFixed(1)} |`);
}
