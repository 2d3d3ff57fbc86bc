// The runner's cost per event, in process: CPU ns per event from the agent's yield to the store's
// append (a subscriber attached, no follower reading), for a Runner on a MemoryStore (no HTTP, no sockets), for
// five kinds of agent output. Bounded: 200,000 events per workload and pass (with the defaults).
//
//   node bench/emit-cost.mjs [--dist <dir>] [--events 200000] [--json]
//   node bench/emit-cost.mjs --against <other dist> [--rounds 3]   # A/B, invocations interleaved
//   node bench/emit-cost.mjs --marks                                # ways to skip the schema, alone
//
// `--dist` names the build to measure (default: this checkout's dist/). `--against` runs this
// script alternately on the other build and on `--dist`, `--rounds` times each, one process per
// invocation, and prints every run and the medians. CPU is `process.cpuUsage()` (user + system) of
// the measuring process, which a shared machine's other work does not inflate the way it does wall time.
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    dist: { type: 'string', default: new URL('../dist', import.meta.url).pathname },
    events: { type: 'string', default: '200000' },
    against: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    marks: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const EVENTS = Math.min(1_000_000, Math.max(10_000, Number(values.events)));
/** Events per run: the run's own start and end cost, spread over this many, is a few ns. */
const PER_RUN = 5_000;

function cpuMicros() {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** Per 10 events: a step with one tool call (step.started, tool.call, tool.result, 6 logs, step.finished). */
async function* stepsWithTools(ctx) {
  for (let group = 0; group < PER_RUN / 10; group++) {
    yield* ctx.step('search', async function* (step) {
      yield* step.tool('lookup', { q: group }, () => group);
      for (let line = 0; line < 6; line++) yield step.log('found');
    });
  }
}

const workloads = {
  /** (a) Answer text yielded as strings. */
  strings: async function* () {
    for (let index = 0; index < PER_RUN; index++) yield 'token ';
  },
  /** (b) Log lines: `step.log` in a step and `ctx.log` (a status line) at the top level, alternately. */
  logs: async function* (ctx) {
    yield* ctx.step('work', async function* (step) {
      for (let index = 0; index < PER_RUN / 2 - 1; index++) {
        yield step.log('a line');
        yield ctx.log('a status');
      }
    });
  },
  /** (c) A step with a tool call per 10 events, all built by the producer API. */
  tools: stepsWithTools,
  /** (d) The same events as (c), written by hand as plain objects, in the schema's key order. */
  raw: async function* () {
    for (let group = 0; group < PER_RUN / 10; group++) {
      const stepId = `s${group}`;
      const callId = `c${group}`;
      yield { type: 'step.started', stepId, title: 'search' };
      yield { type: 'tool.call', callId, stepId, name: 'lookup', args: { q: group } };
      yield { type: 'tool.result', callId, result: group };
      for (let line = 0; line < 6; line++) yield { type: 'step.log', stepId, text: 'found' };
      yield { type: 'step.finished', stepId, status: 'complete' };
    }
  },
  /** (d') Hand-written objects the fast path turns down (another key order): the full schema's cost. */
  rawReordered: async function* () {
    for (let index = 0; index < PER_RUN; index++) yield { message: 'a status', type: 'status' };
  },
};

async function measure(dist) {
  const url = pathToFileURL(resolve(dist)).href;
  const { Runner, MemoryStore } = await import(`${url}/gateway/index.js`);
  
  /** One run to its end, with a subscriber attached and no follower: the cost is the agent's and the runner's. */
  async function runOnce(runner, store, agent) {
    const record = await runner.start({ agent, input: null });
    const attachment = runner.attach(record.id);
    try {
      await runner.whenEnded(record.id);
    } finally {
      attachment();
    }
    const tail = await store.read(record.id, PER_RUN - 1);
    const events = tail.at(-1)?.seq ?? 0;
    if (events < PER_RUN || !['run.finished'].includes(tail.at(-1)?.type)) {
      throw new Error(`run ${record.id} of ${agent}: ${events} events ending in ${tail.at(-1)?.type}, expected ${PER_RUN}+ ending in run.finished`);
    }
    return events;
  }

  async function pass(agent, total) {
    // Finished runs are evicted beyond 4, so the log does not grow with the run count.
    const store = new MemoryStore({ maxRuns: 4 });
    const runner = new Runner({ store, agents: workloads });
    let events = 0;
    const before = cpuMicros();
    while (events < total) events += await runOnce(runner, store, agent);
    const micros = cpuMicros() - before;
    await runner.shutdown('bench done');
    await store.close();
    return (micros * 1_000) / events;
  }

  const result = {};
  for (const agent of Object.keys(workloads)) {
    await pass(agent, EVENTS / 2); // warm-up: the JIT settles before anything is measured
    result[agent] = await pass(agent, EVENTS);
  }
  result.loadAverage = loadavg()[0];
  return result;
}

/**
 * Ways to let the producer API's events skip the schema, alone (no runner), ns per event: build,
 * check, and copy into the stored event as `emit` does. A mark must survive an agent changing the
 * event after a helper built it, so the marked variants freeze it.
 */
async function marks(dist) {
  const { acceptCanonicalYield, agentYieldSchema } = await import(`${pathToFileURL(resolve(dist)).href}/protocol/validate.js`);
  class Returns {
    constructor(object) {
      return object;
    }
  }
  class Brand extends Returns {
    #helper = true;
    static has(object) {
      return #helper in object;
    }
  }
  const marked = new WeakSet();
  let seq = 0;
  const stored = (body) => ({ type: body.type, seq: ++seq, at: 1, ...body });
  const build = (index) => ({ type: 'step.started', stepId: 's1', parentId: 's0', title: index & 1 ? 'a' : 'b' });
  const variants = {
    schema: (index) => stored(agentYieldSchema.parse(build(index))),
    fastCheck: (index) => stored(acceptCanonicalYield(build(index)) ?? agentYieldSchema.parse(build(index))),
    privateBrandFrozen: (index) => {
      const body = Object.freeze(new Brand(build(index)));
      return stored(Brand.has(body) ? body : agentYieldSchema.parse(body));
    },
    weakSetFrozen: (index) => {
      const body = build(index);
      marked.add(body);
      Object.freeze(body);
      return stored(marked.has(body) ? body : agentYieldSchema.parse(body));
    },
    noCheck: (index) => stored(build(index)),
    // The ceiling of stamping `seq` and `at` onto the body instead of copying it (which would put
    // them after the body's keys in the JSON): no check, no copy.
    noCheckStamped: (index) => {
      const body = build(index);
      body.seq = ++seq;
      body.at = 1;
      return body;
    },
  };
  const COUNT = 500_000;
  const result = {};
  let sink = 0;
  for (let round = 0; round < 3; round++) {
    for (const [name, variant] of Object.entries(variants)) {
      for (let index = 0; index < 50_000; index++) sink += variant(index).seq;
      const before = cpuMicros();
      for (let index = 0; index < COUNT; index++) sink += variant(index).seq;
      const ns = ((cpuMicros() - before) * 1_000) / COUNT;
      result[name] = Math.min(result[name] ?? Infinity, ns); // the best of 3: the least disturbed
    }
  }
  if (sink === 0) throw new Error('unreachable: keeps the loops from being optimised away');
  result.loadAverage = loadavg()[0];
  return result;
}

function median(numbers) {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

if (values.marks) {
  const result = await marks(values.dist);
  if (values.json) console.log(JSON.stringify(result));
  else for (const [name, value] of Object.entries(result)) console.log(`${name.padEnd(20)} ${value.toFixed(1)}`);
} else if (values.against !== undefined) {
  const rounds = Math.min(9, Math.max(1, Number(values.rounds)));
  const self = fileURLToPath(import.meta.url);
  const builds = { base: values.against, new: values.dist };
  const runs = { base: [], new: [] };
  for (let round = 0; round < rounds; round++) {
    for (const [name, dist] of Object.entries(builds)) {
      const output = execFileSync(process.execPath, [self, '--dist', dist, '--events', String(EVENTS), '--json'], { encoding: 'utf8' });
      const result = JSON.parse(output);
      runs[name].push(result);
      const figures = Object.entries(result).map(([key, value]) => `${key}=${value.toFixed(key === 'loadAverage' ? 2 : 0)}`);
      console.log(`${name} round ${round + 1}: ${figures.join(' ')}`);
    }
  }
  console.log('\nCPU ns per event, median of', rounds, `(base: ${builds.base}; new: ${builds.new})`);
  for (const key of Object.keys(workloads)) {
    const base = median(runs.base.map((run) => run[key]));
    const next = median(runs.new.map((run) => run[key]));
    console.log(`${key.padEnd(14)} base ${base.toFixed(0).padStart(6)}  new ${next.toFixed(0).padStart(6)}  new/base ${(next / base).toFixed(2)}`);
  }
  const loads = [...runs.base, ...runs.new].map((run) => run.loadAverage);
  console.log(`load average (1 min): ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}`);
} else {
  const result = await measure(values.dist);
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`events: ${EVENTS} per workload, ${PER_RUN} per run; dist: ${values.dist}`);
    for (const [key, value] of Object.entries(result)) console.log(`${key.padEnd(14)} ${value.toFixed(key === 'loadAverage' ? 2 : 0)}`);
  }
}
