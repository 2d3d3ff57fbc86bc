#!/usr/bin/env node
// The Redis follower's cost per new subscription: one store (the "gateway") follows --runs running
// runs that another store (the producer, as another gateway would) appends to, so every event
// reaches the follower through its XREAD loop. Not part of `npm test` or `npm run bench`.
//
//   node scripts/build.mjs && node bench/redis-follow.mjs [--runs 5000] [--per-turn 10] [--gap-ms 0] [--cluster] [--json]
//
// With --cluster, on a 3-master Redis Cluster it starts itself (figures summed over the nodes).
// Subscriptions arrive --per-turn at a time, one batch per event-loop turn (as HTTP requests do),
// or with --gap-ms, one batch every that many ms (a steady trickle of new subscribers).
// Phases: (1) subscribe: from the first follow until the follower reads every run; (2) deliver:
// one event appended to every run, until every follower has it; (3) end: a terminal event each.
// Per phase: wall time, XREAD calls, bytes the gateway sent to Redis, Redis CPU, the bench
// process's CPU (both stores: the follower's share is what changes) and its longest event-loop
// stall. Starts its own redis-server(s) (no persistence) on free loopback ports and stops them;
// every wait is bounded.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5000' }, 'per-turn': { type: 'string', default: '10' }, 'gap-ms': { type: 'string', default: '0' }, cluster: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
const RUNS = Number(values.runs);
const PER_TURN = Number(values['per-turn']);
const GAP_MS = Number(values['gap-ms']);
const PHASE_LIMIT_MS = 300_000;
if (!(RUNS > 0 && PER_TURN > 0 && GAP_MS >= 0)) throw new Error('--runs and --per-turn must be positive numbers, --gap-ms at least 0');

const { createRedisStore } = await import(`${ROOT}dist/redis/index.js`);

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const servers = [];
const dirs = [];
process.on('exit', () => {
  for (const server of servers) server.child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(1));
const cli = (port, ...args) => spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout ?? '';

async function startServer(extra = []) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'aw-bench-redis-'));
  dirs.push(dir);
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra], { stdio: 'ignore' });
  servers.push({ port, child });
  for (let attempt = 0; cli(port, 'ping').trim() !== 'PONG'; attempt++) {
    if (attempt > 500) throw new Error('redis-server did not start');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return port;
}

let url;
if (values.cluster) {
  const ports = [];
  for (let index = 0; index < 3; index++) ports.push(await startServer(['--cluster-enabled', 'yes', '--cluster-port', String(await freePort())]));
  const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
  if (create.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
  for (let attempt = 0; !ports.every((port) => /cluster_state:ok/.test(cli(port, 'cluster', 'info'))); attempt++) {
    if (attempt > 1000) throw new Error('the cluster did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  url = `redis-cluster://${ports.map((port) => `127.0.0.1:${port}`).join(',')}`;
} else {
  url = `redis://127.0.0.1:${await startServer()}`;
}

/** Redis's CPU seconds and the bytes it has read from clients, summed over the servers. */
function redisCounters() {
  let cpu = 0;
  let input = 0;
  for (const { port } of servers) {
    const info = cli(port, 'info');
    const field = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
    cpu += field('used_cpu_user') + field('used_cpu_sys');
    input += field('total_net_input_bytes');
  }
  return { cpu, input };
}

const options = { url, keyPrefix: 'bench:', leaseMs: 30_000, onConnectionChange: () => {} };
const follower = await createRedisStore(options);
const producer = await createRedisStore(options);
const event = (seq, body) => {
  const full = { ...body, seq, at: Date.now() };
  return { seq, type: full.type, event: full, json: JSON.stringify(full) };
};

const ids = Array.from({ length: RUNS }, (_, index) => `run_${index}`);
for (let start = 0; start < RUNS; start += 500) {
  await Promise.all(
    ids.slice(start, start + 500).map(async (id) => {
      await producer.createRun({ id, agent: 'bench', owner: undefined, createdAt: Date.now(), status: 'running', endedAt: undefined, lastSeq: 0 });
      await producer.append(id, [event(1, { type: 'run.started', runId: id, agent: 'bench', input: null })]);
    }),
  );
}

async function until(check, what) {
  const deadline = Date.now() + PHASE_LIMIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const results = [];
async function phase(name, body) {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const before = { redis: redisCounters(), reads: follower.followerStats.reads, at: performance.now(), cpu: process.cpuUsage() };
  await body();
  const cpu = process.cpuUsage(before.cpu);
  const after = { redis: redisCounters(), reads: follower.followerStats.reads, at: performance.now() };
  delay.disable();
  results.push({
    phase: name,
    ms: Math.round(after.at - before.at),
    xreads: after.reads - before.reads,
    sentToRedisMiB: Number(((after.redis.input - before.redis.input) / 2 ** 20).toFixed(2)),
    redisCpuS: Number((after.redis.cpu - before.redis.cpu).toFixed(2)),
    benchCpuS: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
    maxLoopStallMs: Math.round(delay.max / 1e6),
  });
}

const iterators = ids.map((id) => follower.follow(id, 1)[Symbol.asyncIterator]());
const received = new Array(RUNS).fill(0);
let pending = [];
const pull = (index) => iterators[index].next().then((result) => {
  if (!result.done) received[index] += result.value.length;
  return result;
});

await phase('subscribe', async () => {
  for (let start = 0; start < RUNS; start += PER_TURN) {
    for (let index = start; index < Math.min(RUNS, start + PER_TURN); index++) pending[index] = pull(index);
    await new Promise((resolve) => (GAP_MS > 0 ? setTimeout(resolve, GAP_MS) : setImmediate(resolve)));
  }
  // Every run is followed, and the follower's blocking read includes the last one: an event on
  // it arrives through the loop.
  await until(() => follower.followerStats.runs === RUNS, `the follower to follow ${RUNS} runs`);
  await producer.append(ids[RUNS - 1], [event(2, { type: 'text.delta', text: 'probe' })]);
  await pending[RUNS - 1];
  pending[RUNS - 1] = pull(RUNS - 1);
});

await phase('deliver', async () => {
  await Promise.all(ids.map((id, index) => (index === RUNS - 1 ? undefined : producer.append(id, [event(2, { type: 'text.delta', text: 'one' })]))));
  await Promise.all(pending.map((next, index) => (index === RUNS - 1 ? undefined : next)));
});

await phase('end', async () => {
  await Promise.all(ids.map((id) => producer.append(id, [event(3, { type: 'run.finished' })])));
  const ends = ids.map((_, index) => (index === RUNS - 1 ? pending[index] : pull(index)));
  await Promise.all(ends);
});

const missing = received.filter((count) => count < 2).length;
await Promise.all([follower.close(), producer.close()]);
for (const { child } of servers) child.kill('SIGTERM');

if (values.json) console.log(JSON.stringify({ runs: RUNS, perTurn: PER_TURN, gapMs: GAP_MS, cluster: values.cluster, missing, results }));
else {
  const pace = GAP_MS > 0 ? `every ${GAP_MS} ms` : 'per turn';
  const where = values.cluster ? 'on a 3-master Redis Cluster' : 'on one Redis server';
  console.log(`${RUNS} runs followed by one store ${where}, ${PER_TURN} new subscriptions ${pace} (runs that missed an event: ${missing})`);
  console.table(results);
}
if (missing > 0) process.exitCode = 1;
