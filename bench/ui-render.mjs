// Rendering benchmark for the run viewer (not a test): a run streams 20,000 tokens of Markdown
// (paragraphs, lists, code blocks, tables) at 2,000 / 5,000 / 10,000 tokens/s to the viewer in
// Debian's Chromium; we count long tasks (> 50 ms), frames per second, and the lag from a chunk's
// arrival in the page to the first animation frame whose DOM shows it (p50 / p99).
//
//   npm run bench:ui                       # needs /usr/bin/chromium and a build (the script builds)
//   node bench/ui-render.mjs --throttle 4  # with 4x CPU throttling through CDP (a mid-range laptop)
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
import { createGateway } from '../dist/gateway/create-gateway.js';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? fallback : args[index + 1];
};
const TOKENS = Number(flag('tokens', 20_000));
const RATES = String(flag('rates', '2000,5000,10000')).split(',').map(Number);
const THROTTLE = Number(flag('throttle', 1));

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

/** Emits the tokens at `rate` per second, paced by the wall clock (several per timer tick at high rates). */
const flood = {
  name: 'flood',
  async *run(ctx) {
    const { rate } = ctx.input;
    await ctx.sleep(300); // let the page attach first
    const started = performance.now();
    let sent = 0;
    while (sent < TEXT.length) {
      const due = Math.min(TEXT.length, Math.floor(((performance.now() - started) / 1000) * rate));
      while (sent < due) yield TEXT[sent++];
      await ctx.sleep(2);
    }
  },
};

const gateway = createGateway({ agents: [flood], heartbeatMs: 15_000, onAgentError: () => {} });
const server = createServer(gateway.listener);
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.AGENTWIRE_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});

/** Installed before the app: long tasks, frames, and the arrival time of every seq on the event stream. */
function instrument() {
  const bench = { longTasks: [], frames: [], arrivals: new Map(), lags: [], lastSeen: 0 };
  window.__bench = bench;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) bench.longTasks.push(entry.duration);
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
  const frame = (time) => {
    bench.frames.push(time);
    const seq = Number(document.querySelector('.aw-run')?.getAttribute('data-last-seq') ?? 0);
    if (seq > bench.lastSeen) {
      // Every seq that became visible in this frame: its lag is now − its arrival.
      for (let s = bench.lastSeen + 1; s <= seq; s++) {
        const arrived = bench.arrivals.get(s);
        if (arrived !== undefined) bench.lags.push(performance.now() - arrived);
      }
      bench.lastSeen = seq;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

const percentile = (values, p) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

const rows = [];
for (const rate of RATES) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.addInitScript(instrument);
  if (THROTTLE > 1) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
  }
  const response = await fetch(`${url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'flood', input: { rate } }) });
  const { id } = await response.json();
  await page.goto(`${url}/runs/${id}`);
  const deadline = Date.now() + 120_000;
  while ((await page.getAttribute('.aw-pill', 'data-indicator').catch(() => null)) !== 'ended') {
    if (Date.now() > deadline) throw new Error(`rate ${rate}: the run did not end in 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const result = await page.evaluate(() => {
    const bench = window.__bench;
    const arrivals = [...bench.arrivals.values()];
    const first = Math.min(...arrivals);
    const last = Math.max(...arrivals);
    const frames = bench.frames.filter((time) => time >= first && time <= last);
    return { longTasks: bench.longTasks, frames: frames.length, seconds: (last - first) / 1000, lags: bench.lags, rendered: document.querySelector('.aw-answer')?.textContent?.length ?? 0 };
  });
  rows.push({
    rate,
    seconds: result.seconds,
    longTasks: result.longTasks.length,
    longestTask: result.longTasks.length ? Math.max(...result.longTasks) : 0,
    fps: result.frames / result.seconds,
    p50: percentile(result.lags, 50),
    p99: percentile(result.lags, 99),
  });
  await context.close();
}
await browser.close();
await gateway.close();
server.closeAllConnections();
server.close();

console.log(`\nRun viewer rendering, ${TOKENS.toLocaleString('en-US')} Markdown tokens, Chromium ${THROTTLE > 1 ? `(CPU throttled ${THROTTLE}x)` : '(no throttling)'}:\n`);
console.log('| tokens/s | stream s | long tasks (> 50 ms) | longest task ms | frames/s | arrival→frame p50 ms | p99 ms |');
console.log('|---:|---:|---:|---:|---:|---:|---:|');
for (const row of rows) {
  console.log(`| ${row.rate.toLocaleString('en-US')} | ${row.seconds.toFixed(1)} | ${row.longTasks} | ${row.longestTask.toFixed(0)} | ${row.fps.toFixed(1)} | ${row.p50.toFixed(1)} | ${row.p99.toFixed(1)} |`);
}
