// `npm run bench`: agentwire against a raw `node:http` SSE loop (the practical limit) and the
// alternatives, side by side in one invocation. Each server is its own child process; the load
// generator is another (bench/loadgen.mjs). Server CPU and memory come from /proc.
//
//   npm run bench                       all workloads, all servers (≤ 10 min)
//   npm run bench -- --quick            throughput, many, ttfe, disconnect; smaller (≤ 2 min)
//   npm run bench -- --workloads=throughput,many --servers=raw,agentwire --reps=5 --streams=2000,5000
//   npm run bench -- --warmup=false     measure cold servers (no untimed warm-up run first)
//   npm run bench -- --workloads=many --open-rate=1000   open the many streams at 1,000/s (default 4,000)
//   npm run bench -- --profile          also profile agentwire (node --cpu-prof): top functions and
//                                       a flame graph per workload beside the results
//   npm run bench -- --base=../old --servers=agentwire,agentwire@base --out=/tmp/ab
//                                       A/B: another built checkout's agentwire beside this one
//
// 5,000 streams are opt-in (--streams=2000,5000): on the shared 2-core machine they overflow the
// accept queue of every server on Node's default backlog (the raw loop's included) and take
// seconds to the first event for everyone.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeTrees, readProfiles, renderFlameGraph, renderProfilesMarkdown, topSelf } from './flamegraph.mjs';
import { renderMarkdown, renderSvgs } from './report.mjs';
import { now } from './servers/workload.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).map((argument) => {
    const [key, value] = argument.replace(/^--/, '').split('=');
    return [key, value ?? 'true'];
  }),
);
const quick = args.quick === 'true';
const warmUp = args.warmup !== 'false';
const profiling = args.profile === 'true';
const outDir = args.out ?? join(here, 'results');
const runStartedAt = new Date();
const stem = `${runStartedAt.toISOString().slice(0, 10)}${quick ? '-quick' : ''}`;
/** --profile: where each agentwire server process writes its `.cpuprofile`, by workload and server. */
const profileRoot = join(outDir, `${stem}-profiles`);
const profiled = [];
let currentWorkload = '';
/** --open-rate: connections per second the many-streams workload opens its streams at. */
function openRate() {
  const rate = Number(args['open-rate'] ?? 4000);
  if (!Number.isInteger(rate) || rate < 1 || rate > 100_000) {
    console.error(`--open-rate=${args['open-rate']}: a whole number of connections per second, 1 to 100000`);
    process.exit(2);
  }
  return rate;
}
const ALL_WORKLOADS = ['throughput', 'many', 'ttfe', 'stall', 'disconnect', 'fanout'];
// --quick runs the first four workloads (the stalled reader needs its 20 s hold, fan-out its start
// delay); name them with --workloads to run them quick too.
const workloads = args.workloads ? args.workloads.split(',') : quick ? ['throughput', 'many', 'ttfe', 'disconnect'] : ALL_WORKLOADS;
for (const name of workloads) if (!ALL_WORKLOADS.includes(name)) throw new Error(`unknown workload ${name}; one of ${ALL_WORKLOADS.join(', ')}`);

const python = '/usr/bin/python3';
const fastapiAvailable = spawnSync(python, ['-c', 'import fastapi, uvicorn'], { stdio: 'ignore' }).status === 0;
const SERVERS = {
  raw: { command: process.execPath, args: [join(here, 'servers/raw.mjs')] },
  'log-floor': { command: process.execPath, args: [join(here, 'servers/log-floor.mjs')] },
  agentwire: { command: process.execPath, args: [join(here, 'servers/agentwire.mjs')] },
  hono: { command: process.execPath, args: [join(here, 'servers/hono.mjs')] },
  'better-sse': { command: process.execPath, args: [join(here, 'servers/better-sse.mjs')] },
  fastify: { command: process.execPath, args: [join(here, 'servers/fastify.mjs')] },
  fastapi: { command: python, args: [join(here, 'servers/fastapi_server.py')] },
};
// --base=<dir>: also run the agentwire of another checkout (built; e.g. a `git worktree` of an older
// commit) as `agentwire@base`, interleaved with this one in every repetition: an A/B on one machine.
if (args.base) {
  const script = join(resolve(args.base), 'bench/servers/agentwire.mjs');
  if (!existsSync(script) || !existsSync(join(resolve(args.base), 'dist/index.js'))) {
    console.error(`--base=${args.base}: no built checkout there (need bench/servers/agentwire.mjs and dist/index.js; run \`npm run build\` in it)`);
    process.exit(2);
  }
  SERVERS['agentwire@base'] = { command: process.execPath, args: [script] };
}
/** Both agentwire builds speak the same protocol to the load generator. */
const isAgentwire = (name) => name === 'agentwire' || name === 'agentwire@base';
const servers = (args.servers ? args.servers.split(',') : Object.keys(SERVERS)).filter((name) => {
  if (!SERVERS[name]) throw new Error(`unknown server ${name}; one of ${Object.keys(SERVERS).join(', ')}`);
  if (name === 'fastapi' && !fastapiAvailable) {
    console.error('\n!!! FastAPI SKIPPED: /usr/bin/python3 cannot import fastapi and uvicorn.');
    console.error('!!! Install them with: apt-get install python3-fastapi python3-uvicorn\n');
    return false;
  }
  return true;
});
if (!servers.includes('raw')) servers.unshift('raw'); // ratios need the baseline

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;
const settings = {
  reps: Number(args.reps ?? (quick ? 1 : 3)),
  throughput: { n: quick ? 100_000 : 300_000, bytes: 64, timeoutMs: quick ? 4_000 : 10_000 },
  many: { streams: (args.streams ?? (quick ? '300' : '2000')).split(',').map(Number), rate: 20, seconds: quick ? 2 : 5, bytes: 64, openPerSecond: openRate() },
  ttfe: { count: quick ? 100 : 500 },
  stall: { totalBytes: 500 * 1024 * 1024, bytes: 1024, holdMs: quick ? 5_000 : 20_000 },
  disconnect: { after: 10, settleMs: quick ? 800 : 1_500, holdMs: quick ? 500 : 1_000 },
  fanout: { subscribers: quick ? 300 : 1000, rate: 100, seconds: quick ? 2 : 5, bytes: 64 },
};

// --- processes and /proc ----------------------------------------------------------------------
function procStats(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(status.match(new RegExp(`${name}:\\s+(\\d+)`))?.[1] ?? Number.NaN);
    return { cpuMs, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return null;
  }
}

function listenOverflows() {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const index = lines.findIndex((line) => line.startsWith('TcpExt:'));
  const names = lines[index].split(/\s+/);
  const values = lines[index + 1].split(/\s+/);
  return { overflows: Number(values[names.indexOf('ListenOverflows')]), drops: Number(values[names.indexOf('ListenDrops')]) };
}

function lineReader(stream, onLine) {
  let buffered = '';
  stream.on('data', (chunk) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim() === '') continue;
      try {
        onLine(JSON.parse(line));
      } catch {
        // not ours (a framework's log line)
      }
    }
  });
}

async function startServer(name, env = {}, { warm: warmThis = 'none' } = {}) {
  const spec = SERVERS[name];
  // Profiled processes must exit on their own (stdin closed) for V8 to write the profile.
  const profileDir = profiling && isAgentwire(name) ? join(profileRoot, currentWorkload, name) : undefined;
  const commandArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...spec.args] : spec.args;
  const child = spawn(spec.command, commandArgs, { env: { ...process.env, PORT: '0', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const waiting = [];
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 15 s: ${stderr}`)), 15_000);
    child.on('exit', () => reject(new Error(`${name} exited at start: ${stderr}`)));
    lineReader(child.stdout, (message) => {
      if (message.ready !== undefined) {
        clearTimeout(timer);
        resolve(message.ready);
      } else if (message.probe || message.reset) waiting.shift()?.(message.probe ?? message);
    });
  });
  const ask = (line) =>
    new Promise((resolve) => {
      if (exited) return resolve(null);
      const timer = setTimeout(() => resolve(null), 2_000); // a server whose event loop is stuck (better-sse under a fast producer) answers late or never
      waiting.push((value) => {
        clearTimeout(timer);
        resolve(value);
      });
      child.stdin.write(`${line}\n`);
    });
  const server = {
    name,
    port,
    pid: child.pid,
    get exited() {
      return exited;
    },
    stderr: () => stderr,
    stats: () => procStats(child.pid),
    probe: (at) => ask(`query ${at}`),
    async stop() {
      if (exited) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      if (profileDir) {
        child.stdin.on('error', () => {}); // it may be gone already (EPIPE)
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await gone;
        clearTimeout(timer);
        // Killed, it wrote no profile (V8 writes it on a normal exit).
        if (exited?.signal) log('profile', name, `killed (${exited.signal}): no profile`);
        else if (!profiled.some((entry) => entry.dir === profileDir)) profiled.push({ workload: currentWorkload, server: name, dir: profileDir });
        return;
      }
      child.kill('SIGKILL');
      await gone;
    },
  };
  if (warmUp && warmThis !== 'none') await warm(server, ask, warmThis);
  return server;
}

/**
 * Before the speed workloads (throughput, many streams, time to first event) measure a server, it
 * serves an untimed warm-up — one fast stream as long as a measured one, 1,000 sequential short
 * streams and a burst of 200 — so each is measured in its steady state, hot paths compiled and heap
 * sized, as in production, rather than by how much code its JIT compiles first (agentwire's
 * start-and-stream p50 fell from ~0.96 to ~0.6 ms over its first 2,000 requests). Before many
 * streams the warm-up is light (200 short streams, a burst of 50). Then the probe starts over. The
 * disconnect and stall workloads measure behaviour and run cold.
 */
async function warm(server, ask, how) {
  const { port, name } = server;
  const short = { n: 1, bytes: 64, rate: 0 };
  if (how === 'light') {
    // Before the many-streams workload, whose memory per stream is read from RSS: a heap swollen
    // by a long warm-up (and collected during the measurement) would blur it.
    await runLoadgen({ kind: 'ttfe', port, server: name, workload: short, count: 200, mode: isAgentwire(name) ? 'post-stream' : 'get', timeoutMs: 30_000 });
    await runLoadgen({ kind: 'many', port, server: name, workload: { n: 3, bytes: 64, rate: 100 }, streams: 50, openPerSecond: 1000, timeoutMs: 10_000 });
    return ask('reset');
  }
  await runLoadgen({ kind: 'throughput', port, server: name, workload: { n: settings.throughput.n, bytes: 64, rate: 0 }, timeoutMs: 20_000 });
  await runLoadgen({ kind: 'ttfe', port, server: name, workload: short, count: 1_000, mode: isAgentwire(name) ? 'post-stream' : 'get', timeoutMs: 30_000 });
  await runLoadgen({ kind: 'many', port, server: name, workload: { n: 3, bytes: 64, rate: 100 }, streams: 200, openPerSecond: 2000, timeoutMs: 10_000 });
  await ask('reset');
}

function runLoadgen(task, onMark = () => {}, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    const kind = isAgentwire(task.server) ? 'agentwire' : task.server;
    const child = spawn(process.execPath, [join(here, 'loadgen.mjs'), JSON.stringify({ ...task, server: kind })], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let result;
    const marks = [];
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    lineReader(child.stdout, (message) => {
      if (message.mark) marks.push(Promise.resolve(onMark(message)));
      else if (message.result) result = message.result;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', async () => {
      clearTimeout(timer);
      await Promise.all(marks);
      if (result) resolve(result);
      else reject(new Error(`load generator failed: ${stderr}`));
    });
  });
}

const median = (values) => {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (...parts) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...parts);

// --- workloads --------------------------------------------------------------------------------
async function benchThroughput() {
  const { n, bytes, timeoutMs } = settings.throughput;
  const rows = [];
  const runs = {};
  // Repetitions are interleaved across servers so slow drift in the shared machine's load hits all.
  const started = {};
  for (const name of servers) started[name] = await startServer(name, {}, { warm: 'full' });
  for (let rep = 0; rep < settings.reps; rep++) {
    for (const name of servers) {
      const server = started[name];
      const before = server.stats();
      const result = await runLoadgen({ kind: 'throughput', port: server.port, server: name, workload: { n, bytes, rate: 0 }, timeoutMs });
      await sleep(100);
      const after = server.stats();
      const cpuMs = after && before ? after.cpuMs - before.cpuMs : null;
      (runs[name] ??= []).push({
        ...result,
        mbPerSecond: result.bytes === null ? null : result.bytes / result.seconds / 1e6,
        serverCpuUsPerEvent: cpuMs === null || result.events === 0 ? null : (cpuMs * 1000) / result.events,
        serverCpuMs: cpuMs,
      });
      log('throughput', name, `rep ${rep + 1}:`, Math.round(result.eventsPerSecond), 'events/s', result.error ?? '');
    }
  }
  for (const name of servers) {
    const stats = started[name].stats();
    await started[name].stop();
    const list = runs[name];
    rows.push({
      server: name,
      eventsPerSecond: median(list.map((run) => run.eventsPerSecond)),
      mbPerSecond: median(list.map((run) => run.mbPerSecond)),
      bytesPerEvent: median(list.map((run) => (run.bytes ?? Number.NaN) / run.events)),
      serverCpuUsPerEvent: median(list.map((run) => run.serverCpuUsPerEvent)),
      loadgenCpuUsPerEvent: median(list.map((run) => (run.loadgenCpuMs * 1000) / run.events)),
      peakRssMb: stats ? stats.hwmKb / 1024 : null,
      completed: list.filter((run) => run.events === n).length,
      reps: list.length,
      runs: list,
    });
  }
  return { settings: { ...settings.throughput, reps: settings.reps }, rows };
}

async function benchMany() {
  const { streams: counts, rate, seconds, bytes, openPerSecond } = settings.many;
  const rows = [];
  for (const streams of counts) {
    for (const name of servers) {
      const server = await startServer(name, {}, { warm: 'light' });
      await sleep(300);
      const before = server.stats();
      const netBefore = listenOverflows();
      let steady = null;
      const workload = { n: rate * seconds, bytes, rate };
      const result = await runLoadgen(
        { kind: 'many', port: server.port, server: name, workload, streams, openPerSecond, timeoutMs: seconds * 1000 + 20_000 },
        (message) => {
          if (message.mark === 'steady') steady = server.stats();
        },
        seconds * 1000 + 60_000,
      );
      const netAfter = listenOverflows();
      const after = server.stats();
      await server.stop();
      const row = {
        server: name,
        streams,
        latency: result.latency,
        ttfe: result.ttfe,
        listenOverflows: netAfter.overflows - netBefore.overflows,
        listenDrops: netAfter.drops - netBefore.drops,
        rssPerStreamKb: steady && before ? (steady.rssKb - before.rssKb) / streams : null,
        peakRssMb: after ? after.hwmKb / 1024 : null,
        serverCpuMs: after && before ? after.cpuMs - before.cpuMs : null,
        loadgenCpuMs: result.loadgenCpuMs,
        errors: result.errorCount,
        errorKinds: result.errors,
        complete: result.complete,
        openSeconds: result.openSeconds,
        crashed: server.exited && server.exited.signal !== 'SIGKILL' ? server.exited : null,
      };
      rows.push(row);
      log('many', streams, name, `p99 ${row.latency.p99?.toFixed(1)} ms`, `ttfe p99 ${row.ttfe.p99?.toFixed(1)} ms`, `overflows ${row.listenOverflows}`, `errors ${row.errors}`);
    }
  }
  return { settings: settings.many, rows };
}

async function benchTtfe() {
  const { count } = settings.ttfe;
  const rows = [];
  for (const name of servers) {
    const server = await startServer(name, {}, { warm: 'full' });
    const modes = isAgentwire(name) ? ['post-stream', 'attach', 'create-then-get'] : ['get'];
    for (const mode of modes) {
      const result = await runLoadgen({ kind: 'ttfe', port: server.port, server: name, workload: { n: 1, bytes: 64, rate: 0 }, count, mode, timeoutMs: 60_000 });
      rows.push({ server: name, mode, ...result });
      log('ttfe', name, mode, `p50 ${result.ttfe.p50?.toFixed(2)} ms p99 ${result.ttfe.p99?.toFixed(2)} ms`);
    }
    await server.stop();
  }
  return { settings: settings.ttfe, rows };
}

async function benchStall() {
  const { totalBytes, bytes, holdMs } = settings.stall;
  const rows = [];
  for (const name of servers) {
    const server = await startServer(name);
    await sleep(300);
    const idle = server.stats();
    let atStall = null;
    let atHeld = null;
    let probe = null;
    const workload = { n: Math.round(totalBytes / bytes), bytes, rate: 0 };
    const result = await runLoadgen({ kind: 'stall', port: server.port, server: name, workload, holdMs }, async (message) => {
      if (message.mark === 'stalled') atStall = server.stats();
      if (message.mark === 'held') {
        atHeld = server.stats();
        probe = await server.probe(0);
      }
    }, holdMs + 60_000);
    const peak = server.stats();
    const crashed = server.exited && server.exited.signal !== 'SIGKILL' ? { ...server.exited, stderr: server.stderr().slice(-300) } : null;
    await server.stop();
    const row = {
      server: name,
      rssGrowthMb: atStall && atHeld ? (atHeld.rssKb - atStall.rssKb) / 1024 : null,
      rssAtStallMb: atStall ? atStall.rssKb / 1024 : null,
      rssIdleMb: idle ? idle.rssKb / 1024 : null,
      peakRssMb: peak ? peak.hwmKb / 1024 : null,
      produced: probe?.produced ?? null,
      producedMb: probe ? (probe.produced * bytes) / 1024 / 1024 : null,
      crashed,
      error: result.error,
    };
    rows.push(row);
    log('stall', name, `growth ${row.rssGrowthMb?.toFixed(1)} MB, produced ${row.produced}`, crashed ? 'CRASHED' : '');
  }
  return { settings: settings.stall, rows };
}

async function benchDisconnect() {
  const { after, settleMs, holdMs } = settings.disconnect;
  const modes = {
    paced: { workload: { n: 10_000, bytes: 64, rate: 100 }, holdMs: 0 },
    'full speed': { workload: { n: 20_000_000, bytes: 64, rate: 0 }, holdMs: 0 },
    backpressured: { workload: { n: 20_000_000, bytes: 64, rate: 0 }, holdMs },
  };
  const rows = [];
  for (const [mode, spec] of Object.entries(modes)) {
    for (const name of servers) {
      const server = await startServer(name, { BENCH_PROBE_TIMES: '1', BENCH_GRACE_MS: '0' });
      const result = await runLoadgen(
        { kind: 'disconnect', port: server.port, server: name, workload: spec.workload, after, holdMs: spec.holdMs, timeoutMs: 20_000 },
        () => {},
        60_000,
      );
      await sleep(settleMs);
      const probe = result.disconnectAt ? await server.probe(result.disconnectAt) : null;
      await sleep(300);
      const later = result.disconnectAt ? await server.probe(result.disconnectAt) : null;
      await server.stop();
      const finallyMs = probe && probe.finallyCount > 0 ? probe.lastFinallyAt - result.disconnectAt : null;
      const row = {
        server: name,
        mode,
        received: result.received,
        producedAfterDisconnect: probe?.producedAfter ?? null,
        finallyMs,
        finallyRan: probe ? probe.finallyCount > 0 : null,
        stillProducing: probe && later ? later.produced > probe.produced : null,
        settleMs,
        error: result.error ?? (result.disconnectAt ? null : 'never disconnected'),
      };
      rows.push(row);
      log('disconnect', mode, name, `after: ${row.producedAfterDisconnect}`, `finally: ${finallyMs === null ? 'never' : `${finallyMs.toFixed(1)} ms`}`);
    }
  }
  return { settings: settings.disconnect, rows };
}

async function benchFanout() {
  const { subscribers, rate, seconds, bytes } = settings.fanout;
  const rows = [];
  for (const name of servers) {
    const server = await startServer(name, {}, { warm: 'full' });
    await sleep(300);
    const before = server.stats();
    const workload = { n: rate * seconds, bytes, rate, startAt: Math.round(now() + (quick ? 2_000 : 3_000)) };
    const result = await runLoadgen({ kind: 'fanout', port: server.port, server: name, workload, subscribers, timeoutMs: seconds * 1000 + 20_000 }, () => {}, seconds * 1000 + 60_000);
    const after = server.stats();
    await server.stop();
    rows.push({ server: name, ...result, serverCpuMs: after && before ? after.cpuMs - before.cpuMs : null, peakRssMb: after ? after.hwmKb / 1024 : null });
    log('fanout', name, `p50 ${result.latency.p50?.toFixed(2)} ms p99 ${result.latency.p99?.toFixed(2)} ms errors ${result.errorCount}`);
  }
  return { settings: settings.fanout, rows };
}

const RUNNERS = { throughput: benchThroughput, many: benchMany, ttfe: benchTtfe, stall: benchStall, disconnect: benchDisconnect, fanout: benchFanout };

// --- main -------------------------------------------------------------------------------------
const startedAt = runStartedAt;
const meta = {
  date: startedAt.toISOString(),
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  quick,
  warmUp,
  profiling,
  node: process.version,
  python: fastapiAvailable ? spawnSync(python, ['-c', 'import sys, fastapi, uvicorn; print(sys.version.split()[0], fastapi.__version__, uvicorn.__version__)']).stdout.toString().trim() : null,
  nproc: Number(spawnSync('nproc').stdout?.toString().trim()),
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryGb: Math.round(Number(readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s+(\d+)/)?.[1]) / 1024 / 1024),
  loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  nofile: spawnSync('sh', ['-c', 'ulimit -n']).stdout.toString().trim(),
  somaxconn: readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim(),
  servers,
  fastapiSkipped: !fastapiAvailable,
  versions: Object.fromEntries(
    ['hono', '@hono/node-server', 'better-sse', 'fastify'].map((name) => {
      try {
        return [name, JSON.parse(readFileSync(join(here, '..', 'node_modules', name, 'package.json'), 'utf8')).version];
      } catch {
        return [name, null];
      }
    }),
  ),
};
log(`servers: ${servers.join(', ')}; workloads: ${workloads.join(', ')}${quick ? ' (quick)' : ''}${profiling ? '; profiling agentwire' : ''}`);
if (profiling) rmSync(profileRoot, { recursive: true, force: true });
const results = { meta, workloads: {} };
for (const name of workloads) {
  currentWorkload = name;
  const began = now();
  results.workloads[name] = await RUNNERS[name]();
  results.workloads[name].seconds = (now() - began) / 1000;
}
meta.totalSeconds = (now() - startedAt.getTime()) / 1000;
meta.loadAverageAtEnd = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

mkdirSync(outDir, { recursive: true });
// --profile: each workload's profiles of one server merged into one tree: top functions and a flame graph.
results.profiles = profiled.flatMap(({ workload, server, dir }) => {
  const tree = mergeTrees(readProfiles(dir));
  if (tree.total === 0) return []; // nothing readable was written
  const file = `${stem}-${workload}-${server.replace('@', '-')}-flame.svg`;
  writeFileSync(join(outDir, file), renderFlameGraph(tree, { title: `${server}, ${workload} workload (npm run bench -- --profile)` }));
  return { workload, server, dir: relative(outDir, dir), flameGraph: file, totalMs: tree.total, top: topSelf(tree, 12) };
});
const markdown = renderMarkdown(results, stem) + renderProfilesMarkdown(results.profiles);
writeFileSync(join(outDir, `${stem}.json`), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(outDir, `${stem}.md`), markdown);
for (const [file, svg] of Object.entries(renderSvgs(results))) writeFileSync(join(outDir, `${stem}-${file}.svg`), svg);
console.log(markdown);
log(`written to ${join(outDir, `${stem}.md`)} (+ .json, .svg) in ${meta.totalSeconds.toFixed(0)} s`);
// Every peer gets the same fair workload, so a peer that delivered nothing is a bug in the bench, not a result.
const nothingDelivered = Object.entries(results.workloads).flatMap(([workload, { rows = [] }]) =>
  rows.filter((row) => row.eventsPerSecond === 0 || row.complete === 0).map((row) => `${workload}: ${row.server}`));
if (nothingDelivered.length > 0) {
  log(`BENCH BUG: delivered nothing (${nothingDelivered.join(', ')}); fix the harness before publishing these figures`);
  process.exitCode = 1;
}
