#!/usr/bin/env node
// The run log's cost per event, in process: the built MemoryStore (dist/), one run, appends of
// 64-byte `data` events through the runner's path (`toStoredEvent`, then the run's appender) with
// 1 and with 100 followers pushed to (`forEachBatch`, as the gateway's streams read), paced (one
// append per macrotask), fast (64 appends per turn, an `await` between each, as the runner pulls a
// fast agent) and in bursts (1,000 appends per turn, synchronously). Reports CPU per event (the
// process's user + system time over the appends, building the events included) and follower wake
// latency p50/p99 (from just before an append to the follower's callback that gets the event).
// `paced-io` is `paced` while 64 loopback connections ping-pong 64-byte messages, so each turn
// has a poll phase with work in it, as a gateway serving many streams does (its CPU per event
// counts that traffic too: compare it between builds only). Not part of `npm test`.
//
//   node scripts/build.mjs && node bench/store-cost.mjs [--base DIR] [--runs 3]
//
// With `--base DIR` (a worktree of another commit, built), each scenario runs for this build and
// that one alternately, in fresh processes, `--runs` times: interleaved A/B on a shared machine.
import { spawnSync } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { cpuUsage } from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';

const HERE = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    runs: { type: 'string', default: '3' },
    child: { type: 'boolean', default: false },
    dir: { type: 'string' },
    followers: { type: 'string' },
    mode: { type: 'string' },
    scenarios: { type: 'string' },
  },
});

/** Events measured per scenario (after a warm-up of the same scenario on another run). */
const EVENTS = { paced: 20_000, 'paced-io': 5_000, fast: 50_000, burst: 50_000 };
/** Appends per turn of `fast`, one after each await, as the runner pulls a fast agent (it yields a turn every 64 events). */
const FAST = 64;
/** Connections of `paced-io`'s background traffic. */
const IO_CONNECTIONS = 64;
const BURST = 1_000;
// `--scenarios paced:1,burst:100` runs only those.
const SCENARIOS = (values.scenarios ?? 'paced:1,paced:100,paced-io:1,paced-io:100,fast:1,fast:100,burst:1,burst:100').split(',').map((name) => {
  const [mode, followers] = name.split(':');
  if (!(mode in EVENTS) || !(Number(followers) >= 1)) throw new Error(`unknown scenario ${name}: use paced:N, paced-io:N, fast:N or burst:N`);
  return { mode, followers: Number(followers) };
});

if (values.child) {
  process.stdout.write(`${JSON.stringify(await measure(values.dir ?? HERE, values.mode ?? 'paced', Number(values.followers ?? 1)))}\n`);
} else {
  await compare();
}

/** Runs every scenario `--runs` times per build, builds alternating, and prints medians. */
async function compare() {
  const builds = [{ name: 'this', dir: HERE }];
  if (values.base) builds.push({ name: 'base', dir: values.base });
  const runs = Number(values.runs);
  const results = new Map();
  console.log(`load average at start: ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
  for (let run = 0; run < runs; run++) {
    for (const scenario of SCENARIOS) {
      // Alternate which build goes first, so neither always meets a warmer or cooler machine.
      const order = run % 2 === 0 ? builds : [...builds].reverse();
      for (const build of order) {
        const child = spawnSync(
          process.execPath,
          [fileURLToPath(import.meta.url), '--child', '--dir', build.dir, '--mode', scenario.mode, '--followers', String(scenario.followers)],
          { encoding: 'utf8', timeout: 120_000 },
        );
        if (child.status !== 0) throw new Error(`${build.name} ${scenario.mode}/${scenario.followers} failed: ${child.stderr || child.error}`);
        const key = `${scenario.mode} ×${scenario.followers} ${build.name}`;
        if (!results.has(key)) results.set(key, []);
        results.get(key).push(JSON.parse(child.stdout));
      }
    }
  }
  console.log(`load average at end: ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
  console.log('| scenario | build | CPU ns/event | wake p50 µs | wake p99 µs | wakes/event | runs (ns/event) |');
  console.log('|---|---|---:|---:|---:|---:|---|');
  for (const [key, rows] of results) {
    const [mode, followers, build] = key.split(' ');
    const median = (pick) => medianOf(rows.map(pick));
    console.log(
      `| ${mode} ${followers} | ${build} | ${median((row) => row.cpuNsPerEvent).toFixed(0)} | ${median((row) => row.p50Us).toFixed(1)} | ${median((row) => row.p99Us).toFixed(1)} | ${median((row) => row.wakesPerEvent).toFixed(3)} | ${rows.map((row) => row.cpuNsPerEvent.toFixed(0)).join(', ')} |`,
    );
  }
}

/** One scenario in this process: a warm-up run, then the measured one. */
async function measure(dir, mode, followers) {
  const { MemoryStore, toStoredEvent } = await import(pathToFileURL(`${dir}/dist/gateway/index.js`).href);
  const store = new MemoryStore();
  const traffic = mode === 'paced-io' ? await pingPong(IO_CONNECTIONS) : undefined;
  try {
    await scenario(store, toStoredEvent, 'run_warm', mode, followers, Math.min(EVENTS[mode], 5_000));
    return await scenario(store, toStoredEvent, 'run_measured', mode, followers, EVENTS[mode]);
  } finally {
    traffic?.stop();
    await store.close();
  }
}

/** `connections` loopback connections each sending 64 bytes back and forth until stopped. */
async function pingPong(connections) {
  const sockets = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('data', (chunk) => socket.write(chunk));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const message = Buffer.alloc(64, 'p');
  for (let index = 0; index < connections; index++) {
    const client = createConnection(port, '127.0.0.1');
    sockets.push(client);
    client.on('data', () => client.write(message));
    await new Promise((resolve) => client.once('connect', resolve));
    client.write(message);
  }
  return {
    stop() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

async function scenario(store, toStoredEvent, runId, mode, followerCount, count) {
  await store.createRun({ id: runId, agent: 'bench', owner: undefined, createdAt: Date.now(), status: 'running', endedAt: undefined, lastSeq: 0 });
  const appendedAt = new Float64Array(count + 1);
  const latencies = new Float64Array(count * followerCount);
  let samples = 0;
  let wakes = 0;
  const follows = [];
  for (let index = 0; index < followerCount; index++) {
    follows.push(
      store.follow(runId, 0).forEachBatch((batch) => {
        const now = performance.now();
        wakes++;
        for (const stored of batch) latencies[samples++] = now - appendedAt[stored.seq];
        return undefined;
      }),
    );
  }
  const append = store.openAppender(runId);
  const value = 'x'.repeat(64);
  let seq = 0;
  const appendOne = () => {
    seq++;
    const stored = toStoredEvent({ type: 'data', seq, at: Date.now(), name: 'b', value });
    appendedAt[seq] = performance.now();
    append(stored);
  };
  const cpuBefore = cpuUsage();
  // As the runner drives an agent: an async loop that awaits the next turn (a paced agent's timer
  // or I/O), so each turn ends with a microtask checkpoint as it does in the gateway.
  while (seq < count) {
    await nextTurn();
    if (mode === 'burst') for (let index = 0; index < BURST && seq < count; index++) appendOne();
    else if (mode === 'fast') {
      for (let index = 0; index < FAST && seq < count; index++) {
        appendOne();
        await undefined;
      }
    } else appendOne();
  }
  await nextTurn();
  // Every follower has had every event by now, or the measure is wrong.
  if (samples !== count * followerCount) throw new Error(`followers got ${samples} of ${count * followerCount} events`);
  const cpu = cpuUsage(cpuBefore);
  append(toStoredEvent({ type: 'run.finished', seq: ++seq, at: Date.now() }));
  await Promise.all(follows);
  const sorted = latencies.subarray(0, samples).sort();
  return {
    cpuNsPerEvent: ((cpu.user + cpu.system) * 1000) / count,
    p50Us: sorted[Math.floor(samples * 0.5)] * 1000,
    p99Us: sorted[Math.floor(samples * 0.99)] * 1000,
    wakesPerEvent: wakes / followerCount / count,
  };
}

function nextTurn() {
  return new Promise((resolve) => setImmediate(resolve));
}

function medianOf(numbers) {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
