// The runner's cost per run, in process: CPU µs per start-and-follow run and retained heap per live
// run, for a Runner on a MemoryStore (no HTTP, no sockets). Bounded: about 62,000 runs in all (with the defaults).
//
//   node --expose-gc bench/runner-cost.mjs [--dist <dir>] [--runs 20000] [--live 2000] [--json]
//
// `--dist` names the build to measure (default: this checkout's dist/), so two builds can be
// compared in alternating invocations. CPU is `process.cpuUsage()` (user + system) of this process,
// which a shared machine's other work does not inflate the way it does wall time.
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const { values } = parseArgs({
  options: {
    dist: { type: 'string', default: new URL('../dist', import.meta.url).pathname },
    runs: { type: 'string', default: '20000' },
    live: { type: 'string', default: '2000' },
    json: { type: 'boolean', default: false },
  },
});
const RUNS = Math.min(100_000, Math.max(1_000, Number(values.runs)));
const LIVE = Math.min(10_000, Math.max(100, Number(values.live)));
const BURST = 1_000;
if (typeof globalThis.gc !== 'function') {
  console.error('runner-cost: run with node --expose-gc (the heap figure needs it)');
  process.exit(2);
}
const dist = pathToFileURL(resolve(values.dist)).href;
const { Runner, MemoryStore } = await import(`${dist}/gateway/index.js`);
const { forEachBatch } = await import(`${dist}/store/store.js`);

/** Three events, then the output: the shape of a short, fast run. */
async function* threeEvents(ctx) {
  yield 'a';
  yield ctx.status('working');
  yield 'c';
  return 'done';
}

/** A run held open after its first event until `release` is called: a live, idle, followed run. */
let gate;
let release;
function closeGate() {
  gate = new Promise((resolve) => (release = resolve));
}
async function* heldOpen() {
  yield 'a';
  await gate;
  yield 'b';
  yield 'c';
}

function freshRunner() {
  // Finished runs are evicted beyond 1,000 so the log does not grow with the run count.
  const store = new MemoryStore({ maxRuns: 1_000 });
  return { store, runner: new Runner({ store, agents: { threeEvents, heldOpen } }) };
}

/** Events delivered to followers so far, across runs. */
let seen = 0;

/** Starts a run and follows it to its terminal event, as start-and-stream does. */
async function startAndFollow(runner, store, agent) {
  const record = await runner.start({ agent, input: null });
  const attachment = runner.attach(record.id);
  let events = 0;
  try {
    await forEachBatch(store.follow(record.id, 0), (batch) => {
      events += batch.length;
      seen += batch.length;
      return undefined;
    });
  } finally {
    attachment();
  }
  if (events !== 5) throw new Error(`run ${record.id}: ${events} events, expected 5`);
}

function cpuMicros() {
  const { user, system } = process.cpuUsage();
  return user + system;
}

async function sequential(count) {
  const { runner, store } = freshRunner();
  gc(); // each phase starts from a collected heap: a full collection left over from before is not its cost
  const before = cpuMicros();
  for (let index = 0; index < count; index++) await startAndFollow(runner, store, 'threeEvents');
  return (cpuMicros() - before) / count;
}

async function bursts(count) {
  const { runner, store } = freshRunner();
  gc();
  const before = cpuMicros();
  for (let done = 0; done < count; done += BURST) {
    const burst = [];
    for (let index = 0; index < BURST; index++) burst.push(startAndFollow(runner, store, 'threeEvents'));
    await Promise.all(burst);
  }
  return (cpuMicros() - before) / count;
}

async function heapPerLiveRun(count) {
  const { runner, store } = freshRunner();
  // The store, the runner and their code warmed up before the baseline.
  closeGate();
  release();
  await startAndFollow(runner, store, 'heldOpen');
  closeGate();
  gc();
  gc();
  const baseline = process.memoryUsage().heapUsed;
  const followed = [];
  for (let index = 0; index < count; index++) followed.push(startAndFollow(runner, store, 'heldOpen'));
  // Every run has appended its first event and waits at the gate; its follower waits for more.
  const target = seen + count * 2;
  for (let turn = 0; turn < 10_000 && seen < target; turn++) await new Promise((resolve) => setImmediate(resolve));
  if (seen < target) throw new Error(`the held runs delivered ${target - seen} fewer events than expected`);
  gc();
  gc();
  const retained = (process.memoryUsage().heapUsed - baseline) / count;
  if (runner.liveRunCount !== count) throw new Error(`${runner.liveRunCount} live runs, expected ${count}`);
  release();
  await Promise.all(followed);
  return retained;
}

// Warm-up of both shapes, so the JIT has settled before anything is measured (at 2,000 runs the
// figures still fell with every pass).
await sequential(10_000);
await bursts(10_000);
const result = {
  sequentialCpuUsPerRun: await sequential(RUNS),
  burstCpuUsPerRun: await bursts(RUNS),
  heapBytesPerLiveRun: await heapPerLiveRun(LIVE),
  loadAverage: (await import('node:os')).loadavg()[0],
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`runs: ${RUNS} sequential, ${RUNS} in bursts of ${BURST}; live: ${LIVE}; dist: ${values.dist}`);
  console.log(`CPU per run, sequential:   ${result.sequentialCpuUsPerRun.toFixed(1)} µs`);
  console.log(`CPU per run, bursts:       ${result.burstCpuUsPerRun.toFixed(1)} µs`);
  console.log(`heap per live run:         ${(result.heapBytesPerLiveRun / 1024).toFixed(2)} KiB`);
  console.log(`load average (1 min):      ${result.loadAverage.toFixed(2)}`);
}
