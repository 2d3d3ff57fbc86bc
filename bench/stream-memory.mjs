// What a server holds per open SSE stream: starts a bench server (bench/servers/<server>.mjs, the
// built gateway for agentwire) in a child process, opens N paced streams from a client process
// (64-byte `data` events at 20/s, as the bench's many-streams workload), waits until every stream has
// received `--events` events, then has the server collect garbage, report `process.memoryUsage()`
// and write a heap snapshot. The same is taken before the streams open (after a warm-up); the
// difference divided by N is the cost of one stream, by constructor.
//
// Usage: node bench/stream-memory.mjs [--server=agentwire|raw|log-floor] [--streams=500] [--events=50]
//          [--snapshot=0] [--top=30] [--keep=<dir>] [--retainers='object/JsonEvent']
//          [--node-args='--max-semi-space-size=8']   (the server's Node flags)
//          [--rss=0] [--json]   (skip the RSS pass; print one JSON object instead of the tables)
//          [--root=<checkout>]  (measure that checkout's build, e.g. main's, with this script)
// RSS and heapUsed come from a pass without snapshots (writing one grows the RSS); a second pass
// writes the snapshots (`--snapshot=0` skips it). `--retainers=KEY,…` lists what holds the nodes of
// each KEY; STREAM_MEMORY_STRINGS=1 groups strings by prefix. Needs `node scripts/build.mjs`
// first for agentwire. Every wait is bounded; the processes it starts are stopped before it exits.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

const role = process.env.STREAM_MEMORY_ROLE;
const here = new URL('.', import.meta.url).pathname;
const KB = 1024;


// --- the server side: loaded with --import before the bench server module ---------------------
function probe() {
  process.on('message', (message) => {
    if (message?.type !== 'measure') return;
    for (let i = 0; i < 4; i++) globalThis.gc?.();
    const usage = process.memoryUsage();
    for (const space of getHeapSpaceStatistics()) usage[space.space_name] = space.physical_space_size;
    const file = message.snapshot ? writeHeapSnapshot(message.snapshot) : undefined;
    process.send({ type: 'measured', usage, file });
  });
}

// --- the client: opens the streams, counts events in raw bytes ----------------------------------
function client() {
  const { port, server, streams, events, total, openPerSecond } = JSON.parse(process.env.STREAM_MEMORY_TASK);
  const workload = { n: total, bytes: 64, rate: 20 };
  const request =
    server === 'agentwire'
      ? (() => {
          const body = JSON.stringify({ agent: 'bench', input: workload });
          return `POST /api/runs HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: text/event-stream\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
        })()
      : `GET /stream?n=${total}&bytes=64&rate=20 HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`;
  const sockets = [];
  const counts = new Uint32Array(streams);
  let reached = 0;
  let failed = 0;
  const open = (index) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    sockets.push(socket);
    socket.write(request);
    let carry = '';
    socket.on('data', (chunk) => {
      // A payload's `"t":` never spans two chunks unnoticed: the last few characters are kept.
      const text = carry + chunk.toString('latin1');
      let at = text.indexOf('"t":');
      let found = 0;
      while (at >= 0) {
        found++;
        at = text.indexOf('"t":', at + 4);
      }
      carry = text.slice(-3);
      const before = counts[index];
      counts[index] += found;
      if (before < events && counts[index] >= events && ++reached === streams) process.send({ type: 'reached' });
    });
    socket.on('error', () => failed++);
    socket.on('close', () => {
      if (counts[index] < events) failed++;
    });
  };
  const batch = Math.max(1, Math.round(openPerSecond / 100));
  let opened = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < batch && opened < streams; i++) open(opened++);
    if (opened === streams) clearInterval(timer);
  }, 10);
  process.on('message', (message) => {
    if (message?.type === 'status') process.send({ type: 'status', reached, failed, min: Math.min(...counts), max: Math.max(...counts) });
    if (message?.type === 'close') {
      for (const socket of sockets) socket.destroy();
      process.exit(0);
    }
  });
}

// --- the orchestrator ---------------------------------------------------------------------------
const deadline = (ms, what) => new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref());

/** The next message of `type` from `child`, within `ms` (rejects if the child exits first). */
function once(child, type, ms) {
  return Promise.race([
    new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`a child exited (${code}) before ${type}`)))),
    new Promise((resolve) => {
      const listener = (message) => {
        if (message?.type !== type) return;
        child.off('message', listener);
        resolve(message);
      };
      child.on('message', listener);
    }),
    deadline(ms, type),
  ]);
}

/**
 * One pass: a fresh server, a warm-up, a measure, the streams, a measure. With `dir` each measure
 * also writes a heap snapshot there (which grows the server's RSS: a pass with snapshots is not
 * the one whose RSS is reported).
 */
async function pass(root, server, streams, events, dir, nodeArgs) {
  const child = fork(join(root, 'bench/servers', `${server}.mjs`), [], {
    execArgv: ['--expose-gc', ...nodeArgs, `--import=${new URL(import.meta.url).href}`],
    env: { ...process.env, STREAM_MEMORY_ROLE: 'probe', PORT: '0' },
    stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
  });
  const children = [child];
  try {
    const port = await Promise.race([
      new Promise((resolve) => {
        let out = '';
        child.stdout.on('data', (data) => {
          out += data;
          const ready = /"ready":(\d+)/.exec(out);
          if (ready) resolve(Number(ready[1]));
        });
      }),
      new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`the server exited (${code})`)))),
      deadline(10_000, 'server ready'),
    ]);
    const runClient = async (count, wait, total) => {
      const loader = fork(new URL(import.meta.url).pathname, [], {
        env: {
          ...process.env,
          STREAM_MEMORY_ROLE: 'client',
          STREAM_MEMORY_TASK: JSON.stringify({ port, server, streams: count, events: wait, total, openPerSecond: 4000 }),
        },
      });
      children.push(loader);
      await once(loader, 'reached', 20_000 + count * 20 + wait * 100);
      return loader;
    };
    // Warm-up: the code paths compiled and the server's one-off structures (clocks, caches) made.
    const warm = await runClient(50, 5, 5);
    await new Promise((resolve) => setTimeout(resolve, 500));
    warm.send({ type: 'close' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const measure = (name) => {
      child.send({ type: 'measure', snapshot: dir ? join(dir, `${server}-${name}.heapsnapshot`) : undefined });
      return once(child, 'measured', 300_000);
    };
    const before = await measure('before');
    // Runs of the bench's 100 events or four times the wait, so every stream is still open when
    // it is measured, even when opening them all took seconds.
    const loader = await runClient(streams, events, Math.max(100, events * 4));
    loader.send({ type: 'status' });
    const status = await once(loader, 'status', 10_000);
    const after = await measure('after');
    loader.send({ type: 'close' });
    return { before, after, status };
  } finally {
    for (const each of children) each.kill();
  }
}

async function main() {
  const args = Object.fromEntries(
    process.argv.slice(2).map((arg) => {
      const at = arg.indexOf('=');
      return at < 0 ? [arg.replace(/^--/, ''), '1'] : [arg.slice(0, at).replace(/^--/, ''), arg.slice(at + 1)];
    }),
  );
  const server = args.server ?? 'agentwire';
  const streams = Number(args.streams ?? 500);
  const events = Number(args.events ?? 50);
  const top = Number(args.top ?? 30);
  // Another checkout's servers and build (its bench/servers/, its dist/), for a before/after.
  const root = args.root ?? join(here, '..');
  const nodeArgs = args['node-args']?.split(' ').filter(Boolean) ?? [];
  const report = { server, streams, events };
  if (args.rss !== '0') {
    const { before, after, status } = await pass(root, server, streams, events, undefined, nodeArgs);
    const perStream = (key) => (after.usage[key] - before.usage[key]) / streams / KB;
    const spaces = Object.keys(after.usage).filter((key) => key.endsWith('_space'));
    report.received = [status.min, status.max];
    report.failed = status.failed;
    report.perStreamKB = Object.fromEntries(['rss', 'heapUsed', 'heapTotal', 'external', ...spaces].map((key) => [key, perStream(key)]));
    if (!args.json) {
      const kb = (key) => perStream(key).toFixed(1);
      console.log(
        [
          `${server}: ${streams} streams, each measured after ≥ ${events} events (received ${status.min}–${status.max}, failed ${status.failed})`,
          `per stream: rss ${kb('rss')} KB, heapUsed ${kb('heapUsed')} KB, external ${kb('external')} KB`,
          `  heapTotal ${kb('heapTotal')} KB, resident by space: ${spaces.map((key) => `${key.replace('_space', '')} ${kb(key)}`).join(', ')}`,
        ].join('\n'),
      );
    }
  }
  if (args.snapshot !== '0') {
    const dir = args.keep ?? mkdtempSync(join(tmpdir(), 'stream-memory-'));
    mkdirSync(dir, { recursive: true });
    try {
      const snapshots = await pass(root, server, streams, events, dir, nodeArgs);
      const rows = diffByConstructor(aggregate(snapshots.before.file), aggregate(snapshots.after.file), streams);
      report.snapshotRows = rows;
      if (!args.json) {
        const total = rows.reduce((sum, row) => sum + row.bytes, 0);
        const heap = ((snapshots.after.usage.heapUsed - snapshots.before.usage.heapUsed) / streams / KB).toFixed(1);
        console.log(`heap snapshot (a second pass, heapUsed ${heap} KB), per stream: ${total.toFixed(2)} KB of self size (after - before), top ${top}:`);
        console.log('   count      KB  type/name');
        for (const row of rows.slice(0, top)) console.log(`${row.count.toFixed(2).padStart(8)} ${row.bytes.toFixed(3).padStart(7)}  ${row.key}`);
        for (const key of args.retainers?.split(',') ?? []) console.log(retainers(snapshots.after.file, key, streams, top));
      }
    } finally {
      if (!args.keep) rmSync(dir, { recursive: true, force: true });
    }
  }
  if (args.json) console.log(JSON.stringify(report));
}

/**
 * A .heapsnapshot's nodes (`snapshot.meta` gives the field layout) with a key per node:
 * `type/name`, strings and code by type alone (their names are their contents), unless
 * `STREAM_MEMORY_STRINGS=1`: then strings by their first 16 characters, digits masked.
 */
function load(file) {
  const snapshot = JSON.parse(readFileSync(file, 'utf8'));
  const meta = snapshot.snapshot.meta;
  const width = meta.node_fields.length;
  const types = meta.node_types[0];
  const typeAt = meta.node_fields.indexOf('type');
  const nameAt = meta.node_fields.indexOf('name');
  const byName = new Set(['object', 'closure', 'native', 'hidden', 'array', 'object shape']);
  const byPrefix = process.env.STREAM_MEMORY_STRINGS === '1';
  const { nodes, strings } = snapshot;
  const keyOf = (index) => {
    const type = types[nodes[index + typeAt]];
    if (byName.has(type)) return `${type}/${strings[nodes[index + nameAt]].slice(0, 60)}`;
    if (type !== 'string' && !type.includes(' string')) return type;
    const text = strings[nodes[index + nameAt]];
    if (byPrefix) return `${type}:${text.slice(0, 16).replace(/[0-9]/g, '#')}`;
    // An event's JSON, as a run log keeps it (agentwire's, log-floor's).
    return text.startsWith('{"type":"') ? `${type} (event JSON)` : type;
  };
  return { snapshot, width, keyOf };
}

/** Self size and count by key (see {@link load}). */
function aggregate(file) {
  const { snapshot, width, keyOf } = load(file);
  const sizeAt = snapshot.snapshot.meta.node_fields.indexOf('self_size');
  const { nodes } = snapshot;
  const groups = new Map();
  for (let index = 0; index < nodes.length; index += width) {
    const key = keyOf(index);
    const group = groups.get(key) ?? { count: 0, bytes: 0 };
    group.count++;
    group.bytes += nodes[index + sizeAt];
    groups.set(key, group);
  }
  return groups;
}

/** What holds the nodes whose key is `target`: edges into them by `holder key.edge name`, per stream. */
function retainers(file, target, streams, top) {
  const { snapshot, width, keyOf } = load(file);
  const meta = snapshot.snapshot.meta;
  const edgeWidth = meta.edge_fields.length;
  const edgeTypes = meta.edge_types[0];
  const countAt = meta.node_fields.indexOf('edge_count');
  const { nodes, edges, strings } = snapshot;
  const counts = new Map();
  let edge = 0;
  for (let index = 0; index < nodes.length; index += width) {
    const holder = nodes[index + countAt] > 0 ? keyOf(index) : '';
    for (let n = 0; n < nodes[index + countAt]; n++, edge += edgeWidth) {
      const type = edgeTypes[edges[edge]];
      if (type === 'weak') continue;
      if (keyOf(edges[edge + 2]) !== target) continue;
      const name = type === 'element' || type === 'hidden' ? `[${type}]` : strings[edges[edge + 1]];
      const key = `${holder} .${name}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  const rows = [...counts].sort((x, y) => y[1] - x[1]).slice(0, top);
  return [`held ${target} (edges per stream, whole heap):`, ...rows.map(([key, count]) => `${(count / streams).toFixed(2).padStart(8)}  ${key}`)].join('\n');
}

/** Per-stream growth by key, largest first. */
function diffByConstructor(before, after, streams) {
  const rows = [];
  for (const [key, group] of after) {
    const base = before.get(key) ?? { count: 0, bytes: 0 };
    const bytes = (group.bytes - base.bytes) / streams / KB;
    const count = (group.count - base.count) / streams;
    if (Math.abs(bytes) >= 0.001 || Math.abs(count) >= 0.01) rows.push({ key, count, bytes });
  }
  return rows.sort((a, b) => b.bytes - a.bytes);
}

if (role === 'probe') probe();
else if (role === 'client') client();
else await main();
