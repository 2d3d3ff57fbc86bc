// What each layer of a paced stream costs per event, in process (no sockets): 2,000 concurrent runs,
// each 100 `data` events at 20 events/s (the many-streams workload's shape, so every event touches a
// run the cache has long forgotten), each layer measured in its own process, the layers interleaved
// over the rounds. CPU is `process.cpuUsage()` of that process, per event.
//
//   node bench/layer-cost.mjs [--dist=dist] [--runs=2000] [--rounds=3] [--json]
//
// Layers, each the one before plus one thing:
//   raw         an async loop that sleeps on a timer, serialises the payload and writes an SSE frame
//               to a sink that drops it (the raw node:http peer without its socket)
//   generator   the same events from an async generator, read with for await (an agent's shape)
//   log-floor   + each event stamped (seq, at), serialised whole and kept as { seq, json } (the
//               least a resumable log costs: bench/servers/log-floor.mjs without its socket)
//   runner      agentwire's Runner over a store that keeps nothing (validation, run lifecycle, pump)
//   store       + the MemoryStore (log, fold, bounds, retention)
//   follow      + one follower per run (the wake-up and the read)
//   sse         + the SSE stream on that follower, into a sink that drops the bytes (what a
//               start-and-stream request runs, without the socket)
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const LAYERS = ['raw', 'generator', 'log-floor', 'runner', 'store', 'follow', 'sse'];
const { values } = parseArgs({
  options: {
    dist: { type: 'string', default: new URL('../dist', import.meta.url).pathname },
    runs: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    layer: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const RUNS = Math.min(10_000, Math.max(10, Number(values.runs)));
const EVENTS = 100;
const RATE = 20;

if (values.layer) {
  console.log(JSON.stringify(await measure(values.layer)));
} else {
  const samples = Object.fromEntries(LAYERS.map((layer) => [layer, []]));
  const rounds = Math.min(10, Math.max(1, Number(values.rounds)));
  for (let round = 0; round < rounds; round++) {
    for (const layer of LAYERS) {
      const output = execFileSync(process.execPath, [fileURLToPath(import.meta.url), `--layer=${layer}`, `--dist=${values.dist}`, `--runs=${RUNS}`], { encoding: 'utf8', timeout: 60_000 });
      samples[layer].push(JSON.parse(output));
    }
  }
  const median = (numbers) => [...numbers].sort((a, b) => a - b)[numbers.length >> 1];
  const rows = LAYERS.map((layer) => ({ layer, usPerEvent: median(samples[layer].map((sample) => sample.usPerEvent)), gcMs: median(samples[layer].map((sample) => sample.gcMs)) }));
  const result = { runs: RUNS, eventsPerRun: EVENTS, rounds, rows, loadAverage: loadavg()[0] };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`${RUNS} runs × ${EVENTS} events at ${RATE}/s; median of ${rounds} rounds; dist: ${values.dist}`);
    let before;
    for (const row of rows) {
      const delta = before === undefined ? undefined : row.usPerEvent - before;
      const step = delta === undefined ? '' : `  (${delta >= 0 ? '+' : ''}${delta.toFixed(2)})`;
      console.log(`${row.layer.padEnd(10)} ${row.usPerEvent.toFixed(2).padStart(6)} µs/event${step.padEnd(10)}  GC ${row.gcMs.toFixed(0)} ms`);
      before = row.usPerEvent;
    }
    console.log(`load average (1 min): ${result.loadAverage.toFixed(2)}`);
  }
}

/** Runs one layer's workload in this process: CPU µs per event and GC milliseconds. */
async function measure(layer) {
  const { PerformanceObserver } = await import('node:perf_hooks');
  const dist = pathToFileURL(resolve(values.dist)).href;
  const { Runner, MemoryStore } = await import(`${dist}/gateway/index.js`);
  const { forEachBatch } = await import(`${dist}/store/store.js`);
  const { createSseStream } = await import(`${dist}/gateway/transports/sse.js`);
  const now = () => performance.timeOrigin + performance.now();
  const padding = 'x'.repeat(30);
  const make = (i) => ({ t: now(), i, p: padding });
  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
  const waitFor = (startedAt, i) => startedAt + ((i - 1) * 1000) / RATE - now();
  let gcMs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  }).observe({ entryTypes: ['gc'] });
  let bytes = 0;
  // A StreamSink that never closes (`signal` for builds before `closed`/`onClose`).
  const sink = () => ({
    closed: false,
    onClose() {},
    signal: new AbortController().signal,
    write: (chunk) => {
      bytes += chunk.length;
      return true;
    },
    end: (chunk) => {
      if (chunk) bytes += chunk.length;
    },
    destroy() {},
    ready: async () => {},
  });
  const frame = (id, json) => `id: ${id}\nevent: data\ndata: ${json}\n\n`;
  async function* events(sleepFor) {
    const startedAt = now();
    for (let i = 1; i <= EVENTS; i++) {
      const wait = waitFor(startedAt, i);
      if (wait > 0) await sleepFor(wait);
      yield { type: 'data', name: 'b', value: make(i) };
    }
  }
  const loops = {
    async raw(out) {
      const startedAt = now();
      for (let i = 1; i <= EVENTS; i++) {
        const wait = waitFor(startedAt, i);
        if (wait > 0) await sleep(wait);
        out.write(frame(i, JSON.stringify(make(i))));
      }
      out.end();
    },
    async generator(out) {
      let i = 0;
      for await (const body of events(sleep)) out.write(frame(++i, JSON.stringify(body.value)));
      out.end();
    },
    async 'log-floor'(out) {
      const log = [];
      let seq = 0;
      for await (const body of events(sleep)) {
        seq++;
        const json = JSON.stringify({ type: body.type, seq, at: Date.now(), name: body.name, value: body.value });
        log.push({ seq, json });
        out.write(frame(seq, json));
      }
      out.end();
      return log;
    },
  };
  /** A store that records runs but keeps no event: the runner's own cost. */
  class KeepNothingStore extends MemoryStore {
    openAppender() {
      return () => {};
    }
  }
  const store = layer === 'runner' ? new KeepNothingStore({ maxRuns: 100_000 }) : new MemoryStore({ maxRuns: 100_000 });
  const runner = new Runner({ store, agents: { paced: (ctx) => events((ms) => ctx.sleep(ms)) }, limits: { maxRuns: 100_000 } });
  const cpuBefore = process.cpuUsage();
  const all = [];
  const kept = [];
  for (let run = 0; run < RUNS; run++) {
    if (loops[layer]) {
      all.push(loops[layer](sink()).then((log) => kept.push(log)));
      continue;
    }
    const record = await runner.start({ agent: 'paced', input: null });
    const leave = runner.attach(record.id);
    if (layer === 'runner' || layer === 'store') all.push(runner.whenEnded(record.id).then(leave));
    else if (layer === 'follow') all.push(forEachBatch(store.follow(record.id, 0), () => undefined).then(leave));
    else if (layer === 'sse') all.push(createSseStream({ store, runId: record.id, after: 0, heartbeatMs: 15_000, stallTimeoutMs: 45_000, retryMs: 1_000 }).pump(sink()).then(leave));
    else throw new Error(`unknown layer ${layer}; one of ${LAYERS.join(', ')}`);
  }
  await Promise.all(all);
  const cpu = process.cpuUsage(cpuBefore);
  if (loops[layer] === undefined && runner.liveRunCount !== 0) throw new Error(`${runner.liveRunCount} runs still live`);
  return { layer, usPerEvent: (cpu.user + cpu.system) / (RUNS * EVENTS), gcMs, bytes };
}
