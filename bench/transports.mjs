// The four transports side by side — SSE over HTTP/1.1, SSE over HTTP/2 (h2c, cleartext like the
// HTTP/1.1 run), WebSocket and long-polling — on one gateway build: single-stream events/s, and
// delivery latency at 100 events/s. Gateways run as their own processes; only loopback.
//
//   npm run bench:transports   (or: npm run build && node bench/transports.mjs) [--events 50000] [--paced 300] [--streams 300]
import { spawn } from 'node:child_process';
import { connect } from 'node:http2';
import { createParser } from 'eventsource-parser';
import WebSocket from 'ws';

const arg = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const EVENTS = arg('events', 50_000); // within the memory store's per-run bound, so the replay is whole
const PACED = arg('paced', 300);

function serve(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/cli/main.js', 'serve', '--port', '0', '--grace', 'continue', '--agent-module', 'bench/transport-agents.mjs', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'warn' } });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve({ url: match[1], child });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
}

async function start(url, agent, input, h2 = false) {
  if (!h2) {
    const response = await fetch(`${url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent, input }) });
    return (await response.json()).id;
  }
  // fetch speaks HTTP/1.1; an h2c server needs an HTTP/2 client.
  const session = connect(url);
  const body = await new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/api/runs', 'content-type': 'application/json' });
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => (text += chunk));
    stream.on('end', () => resolve(JSON.parse(text)));
    stream.on('error', reject);
    stream.end(JSON.stringify({ agent, input }));
  });
  session.close();
  return body.id;
}

/** Reads a run over a transport; calls onEvent(event) per event; resolves at the terminal event. */
const transports = {
  async 'SSE HTTP/1.1'(url, runId, onEvent) {
    const response = await fetch(`${url}/api/runs/${runId}/events`);
    const parser = createParser({ onEvent: (message) => onEvent(JSON.parse(message.data)) });
    const decoder = new TextDecoder();
    for await (const chunk of response.body) parser.feed(decoder.decode(chunk, { stream: true }));
  },
  async 'SSE HTTP/2'(url, runId, onEvent, h2url) {
    const session = connect(h2url);
    await new Promise((resolve, reject) => {
      const stream = session.request({ ':path': `/api/runs/${runId}/events` });
      const parser = createParser({ onEvent: (message) => onEvent(JSON.parse(message.data)) });
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => parser.feed(chunk));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    session.close();
  },
  async WebSocket(url, runId, onEvent) {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/api/ws`);
    await new Promise((resolve) => ws.once('open', resolve));
    await new Promise((resolve) => {
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString());
        if (frame.type !== 'events') return;
        for (const event of frame.events) {
          onEvent(event);
          if (event.type.startsWith('run.') && event.type !== 'run.started') resolve();
        }
      });
      ws.send(JSON.stringify({ type: 'subscribe', runId, after: 0 }));
    });
    ws.close();
  },
  async 'long-poll'(url, runId, onEvent) {
    let after = 0;
    for (;;) {
      const body = await (await fetch(`${url}/api/runs/${runId}/poll?after=${after}&wait=25`)).json();
      for (const event of body.events) onEvent(event);
      after = body.next;
      if (body.done) return;
    }
  },
};

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const STREAMS = arg('streams', 300);
const rss = async (pid) => Number(/VmRSS:\s+(\d+)/.exec(await import('node:fs').then((fs) => fs.readFileSync(`/proc/${pid}/status`, 'utf8')))[1]) * 1024;

/** Opens STREAMS subscriptions to one live run over a transport; returns a function that closes them. */
async function holdStreams(name, url, runId) {
  const closers = [];
  if (name === 'SSE HTTP/1.1') {
    for (let index = 0; index < STREAMS; index++) {
      const controller = new AbortController();
      const response = await fetch(`${url}/api/runs/${runId}/events`, { signal: controller.signal });
      response.body.pipeTo(new WritableStream()).catch(() => {});
      closers.push(() => controller.abort());
    }
  } else if (name === 'SSE HTTP/2') {
    const session = connect(url);
    for (let index = 0; index < STREAMS; index++) {
      const stream = session.request({ ':path': `/api/runs/${runId}/events` });
      stream.resume();
      stream.on('error', () => {});
    }
    closers.push(() => session.destroy());
  } else if (name === 'WebSocket') {
    for (let index = 0; index < STREAMS; index++) {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/api/ws`);
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(JSON.stringify({ type: 'subscribe', runId, after: 0 }));
      closers.push(() => ws.terminate());
    }
  } else {
    let stop = false;
    const loops = Array.from({ length: STREAMS }, async () => {
      let after = 0;
      while (!stop) {
        const body = await (await fetch(`${url}/api/runs/${runId}/poll?after=${after}&wait=5`)).json().catch(() => ({ next: after, done: true }));
        after = body.next;
        if (body.done) return;
      }
    });
    closers.push(() => {
      stop = true;
      return Promise.allSettled(loops);
    });
  }
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return async () => {
    for (const close of closers) await close();
  };
}

const http1 = await serve([]);
const h2c = await serve(['--h2c']);
const rows = [];
try {
  for (const [name, read] of Object.entries(transports)) {
    // Throughput: one stream of a finished run of EVENTS events (read from the log as fast as the transport goes).
    const h2 = name === 'SSE HTTP/2';
    const runUrl = h2 ? h2c.url : http1.url;
    const burstRun = await start(runUrl, 'burst', { n: EVENTS }, h2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    let count = 0;
    let t = performance.now();
    await read(runUrl, burstRun, () => count++, h2c.url);
    const seconds = (performance.now() - t) / 1000;
    // Latency: a live run at 100 events/s, receipt − send time.
    const pacedRun = await start(runUrl, 'paced', { n: PACED, rate: 100 }, h2);
    const lags = [];
    t = performance.now();
    await read(runUrl, pacedRun, (event) => {
      if (event.type === 'data') lags.push(Date.now() - event.value.sentAt);
    }, h2c.url);
    lags.sort((a, b) => a - b);
    // Memory: STREAMS subscriptions held on one live run (10 events/s), server RSS before and after.
    const server = h2 ? h2c.child : http1.child;
    const liveRun = await start(runUrl, 'paced', { n: 100_000, rate: 10 }, h2);
    const before = await rss(server.pid);
    const release = await holdStreams(name, runUrl, liveRun);
    const during = await rss(server.pid);
    await release();
    rows.push({ transport: name, eventsPerSecond: Math.round(count / seconds), events: count, latencyP50: quantile(lags, 0.5), latencyP99: quantile(lags, 0.99), kbPerStream: Math.round((during - before) / STREAMS / 1024) });
    console.error(`${name}: done`);
  }
} finally {
  http1.child.kill('SIGTERM');
  h2c.child.kill('SIGTERM');
}
const baseline = rows[0].eventsPerSecond;
console.log(`| transport | events/s (one stream, replay of a finished run) | × SSE HTTP/1.1 | latency p50 at 100 ev/s | p99 | server RSS per stream (${STREAMS} streams on one live run) |`);
console.log('|---|---:|---:|---:|---:|---:|');
for (const row of rows) console.log(`| ${row.transport} | ${row.eventsPerSecond.toLocaleString('en')} | ${(row.eventsPerSecond / baseline).toFixed(2)}× | ${row.latencyP50} ms | ${row.latencyP99} ms | ${row.kbPerStream} KB |`);
