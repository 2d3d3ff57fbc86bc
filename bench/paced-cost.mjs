// The many-streams shape in process: CPU µs per event and garbage collections for many paced runs
// at once, each on its own cold run (one event per run every 1/rate s, runs spread over the period),
// on a Runner and a MemoryStore with one subscriber per run following the store (no HTTP, no
// sockets). The agent is the bench servers' (`ctx.sleep` pacing, 64-byte `data` events). Bounded:
// `--runs` × `--events` events per pass (200,000 with the defaults, ~5 s at 20 events/s), after a
// warm-up pass of a tenth of that.
//
//   node bench/paced-cost.mjs [--dist <dir>] [--runs 2000] [--events 100] [--rate 20] [--json]
//   node bench/paced-cost.mjs --against <other dist> [--rounds 3]   # A/B, invocations interleaved
//   node bench/paced-cost.mjs --no-follow                            # the producer side alone
//
// CPU is `process.cpuUsage()` of this process (user + system, and user alone: the system time is
// mostly the idle loop's wake-ups) from the first paced event to the last follow's end (the runs' starts are not counted: they are the request path's). GC is every
// `gc` performance entry in that window: count and total pause.
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { beforeEvent, createEventMaker, now, workloadFrom } from './servers/workload.mjs';

const { values } = parseArgs({
  options: {
    dist: { type: 'string', default: new URL('../dist', import.meta.url).pathname },
    runs: { type: 'string', default: '2000' },
    events: { type: 'string', default: '100' },
    rate: { type: 'string', default: '20' },
    // No follower: the producer side alone (yield → log), with a subscriber attached so the run lives.
    'no-follow': { type: 'boolean', default: false },
    against: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const RUNS = Math.min(10_000, Math.max(10, Number(values.runs)));
const EVENTS = Math.min(10_000, Math.max(5, Number(values.events)));
const RATE = Math.min(1_000, Math.max(1, Number(values.rate)));
/** Time between the last run's start and the first paced event, so every run waits at its start. */
const LEAD_MS = 100;

/** Opens once every run of a pass is started and followed: the paced events start from there. */
let gate = Promise.resolve();

/**
 * The bench servers' agent: waits for the gate, then until `startAt`, then yields `n` `data`
 * events paced at `rate`.
 */
async function* paced(ctx) {
  await gate;
  const workload = workloadFrom(ctx.input);
  const make = createEventMaker(workload.bytes);
  await ctx.sleep(Math.max(0, workload.startAt - now()));
  const startedAt = now();
  for (let i = 1; i <= workload.n; i++) {
    const before = beforeEvent(workload, startedAt, i, (ms) => ctx.sleep(ms));
    if (before) await before;
    yield { type: 'data', name: 'b', value: make(i) };
  }
}


async function measure(dist) {
  const url = pathToFileURL(resolve(dist)).href;
  const { Runner, MemoryStore } = await import(`${url}/gateway/index.js`);
  const { forEachBatch } = await import(`${url}/store/store.js`);
  const gcs = [];
  const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });

  /** One pass: `runs` runs of `events` events each, all started, then paced from one instant on. */
  async function pass(runs, events) {
    const store = new MemoryStore({ maxRuns: runs * 2 });
    const runner = new Runner({ store, agents: { paced } });
    const period = 1_000 / RATE;
    const follows = [];
    const started = [];
    let open;
    gate = new Promise((resolve) => (open = resolve));
    // Spread over one period from `t0`, as streams opened in a burst are; the agents read their
    // `startAt` once the gate opens, after every run is started.
    const inputs = [];
    for (let index = 0; index < runs; index++) {
      inputs.push({ n: events, bytes: 64, rate: RATE, startAt: 0 });
      started.push(runner.start({ agent: 'paced', input: inputs[index] }));
    }
    const records = await Promise.all(started);
    for (const record of records) {
      const attachment = runner.attach(record.id);
      let received = 0;
      let last = 0;
      if (values['no-follow']) {
        follows.push(runner.whenEnded(record.id).then(attachment));
        continue;
      }
      follows.push(
        forEachBatch(store.follow(record.id, 0), (batch) => {
          for (const stored of batch) {
            if (stored.seq !== last + 1) throw new Error(`run ${record.id}: seq ${stored.seq} after ${last}`);
            last = stored.seq;
          }
          received += batch.length;
          return undefined;
        }).then(() => {
          attachment();
          if (received !== events + 2) throw new Error(`run ${record.id}: ${received} events, expected ${events + 2}`);
        }),
      );
    }
    const t0 = now() + LEAD_MS;
    inputs.forEach((input, index) => (input.startAt = t0 + (index * period) / runs));
    open();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 - now())));
    const gcFrom = gcs.length;
    const before = process.cpuUsage();
    await Promise.all(follows);
    const { user, system } = process.cpuUsage(before);
    const window = gcs.slice(gcFrom);
    await runner.shutdown('bench done');
    await store.close();
    return {
      cpuUsPerEvent: (user + system) / (runs * events),
      userUsPerEvent: user / (runs * events),
      gcCount: window.length,
      gcMs: window.reduce((sum, entry) => sum + entry.duration, 0),
    };
  }

  await pass(Math.max(10, RUNS >> 2), Math.max(5, EVENTS >> 2)); // warm-up: the JIT settles first
  const result = await pass(RUNS, EVENTS);
  observer.disconnect();
  return { ...result, loadAverage: loadavg()[0] };
}

function median(numbers) {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const KEYS = ['cpuUsPerEvent', 'userUsPerEvent', 'gcCount', 'gcMs'];
const args = ['--runs', String(RUNS), '--events', String(EVENTS), '--rate', String(RATE), '--json', ...(values['no-follow'] ? ['--no-follow'] : [])];

if (values.against !== undefined) {
  const rounds = Math.min(9, Math.max(1, Number(values.rounds)));
  const self = fileURLToPath(import.meta.url);
  const builds = { base: values.against, new: values.dist };
  const runs = { base: [], new: [] };
  for (let round = 0; round < rounds; round++) {
    for (const [name, dist] of Object.entries(builds)) {
      const result = JSON.parse(execFileSync(process.execPath, [self, '--dist', dist, ...args], { encoding: 'utf8' }));
      runs[name].push(result);
      console.log(`${name} round ${round + 1}: ${Object.entries(result).map(([key, value]) => `${key}=${value.toFixed(2)}`).join(' ')}`);
    }
  }
  console.log(`\n${RUNS} runs × ${EVENTS} events at ${RATE}/s, median of ${rounds} (base: ${builds.base}; new: ${builds.new})`);
  for (const key of KEYS) {
    const base = median(runs.base.map((run) => run[key]));
    const next = median(runs.new.map((run) => run[key]));
    console.log(`${key.padEnd(14)} base ${base.toFixed(2).padStart(8)}  new ${next.toFixed(2).padStart(8)}  new/base ${(next / base).toFixed(2)}`);
  }
  const loads = [...runs.base, ...runs.new].map((run) => run.loadAverage);
  console.log(`load average (1 min): ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}`);
} else {
  const result = await measure(values.dist);
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`${RUNS} runs × ${EVENTS} events at ${RATE}/s; dist: ${values.dist}`);
    console.log(`CPU per event:        ${result.cpuUsPerEvent.toFixed(2)} µs (user ${result.userUsPerEvent.toFixed(2)} µs)`);
    console.log(`GC in the window:     ${result.gcCount} collections, ${result.gcMs.toFixed(1)} ms`);
    console.log(`load average (1 min): ${result.loadAverage.toFixed(2)}`);
  }
}
