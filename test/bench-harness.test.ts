/**
 * A smoke test of the benchmark harness (not the benchmark: that is `npm run bench`). It guards
 * against a harness that miscounts: the load generator must see exactly the events a server sent,
 * through both of its parsers, for the raw baseline and for agentwire.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type CpuProfile, mergeTrees, profileTree, readProfiles, renderFlameGraph, renderProfilesMarkdown, topSelf } from '../bench/flamegraph.mjs';
import { within } from './helpers/wait.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

async function startServer(name: string, nodeArgs: string[] = []): Promise<number> {
  const child = spawn(process.execPath, [...nodeArgs, `bench/servers/${name}.mjs`], { cwd: root, env: { ...process.env, PORT: '0' }, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const port = await within(
    new Promise<number>((resolve) => lines.on('line', (line) => {
      const message = JSON.parse(line) as { ready?: number };
      if (message.ready !== undefined) resolve(message.ready);
    })),
    10_000,
    `the ${name} bench server to start`,
  );
  return port;
}

function loadgen(task: object): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['bench/loadgen.mjs', JSON.stringify(task)], { cwd: root, timeout: 20_000 }, (error, stdout) => {
      if (error) return reject(error);
      const line = stdout.trim().split('\n').map((each) => JSON.parse(each) as { result?: Record<string, unknown> }).find((each) => each.result);
      if (!line?.result) return reject(new Error(`no result in: ${stdout}`));
      resolve(line.result);
    });
  });
}

describe('the bench harness', () => {
  it.each(['raw', 'agentwire'])('counts every event %s sends, fast and paced, and measures latency from the send time', async (server) => {
    const port = await startServer(server);
    const fast = await loadgen({ kind: 'throughput', port, server, workload: { n: 5000, bytes: 64, rate: 0 }, timeoutMs: 10_000 });
    expect(fast).toMatchObject({ events: 5000, error: null });
    const paced = await loadgen({ kind: 'many', port, server, workload: { n: 5, bytes: 100, rate: 50 }, streams: 3, openPerSecond: 1000, timeoutMs: 10_000 });
    expect(paced).toMatchObject({ complete: 3, errorCount: 0 });
    const latency = paced.latency as { count: number; p50: number; max: number };
    expect(latency.count).toBe(15);
    // Send and receive times come from two processes' clocks (epoch ms with sub-ms parts): allow a
    // millisecond of skew, no more.
    expect(latency.p50).toBeGreaterThanOrEqual(-1);
    expect(latency.max).toBeLessThan(5_000);
  }, 30_000);

  // Every peer gets the same producer (workload.mjs `beforeEvent`): a peer that cannot stream it is a
  // bench bug, not a result. This once caught better-sse's fan-out calling helpers it never imported.
  it.each(['raw', 'log-floor', 'agentwire', 'better-sse', 'fastify', 'hono'])('gives %s the same fair workload: it streams it all, alone and fanned out', async (server) => {
    const port = await startServer(server);
    const fast = await loadgen({ kind: 'throughput', port, server, workload: { n: 5000, bytes: 64, rate: 0 }, timeoutMs: 10_000 });
    expect(fast).toMatchObject({ events: 5000, error: null });
    const workload = { n: 5, bytes: 64, rate: 50, startAt: Math.round(performance.timeOrigin + performance.now() + 1500) };
    const fanned = await loadgen({ kind: 'fanout', port, server, workload, subscribers: 5, timeoutMs: 10_000 });
    expect(fanned).toMatchObject({ complete: 5, errorCount: 0 });
  }, 30_000);
});

describe('the bench profiles (--profile)', () => {
  // (root) → main → work (self 3 ms) and main → idle; samples: work, work, (idle), main, work.
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 4] },
      { id: 2, callFrame: { functionName: 'main', url: 'file:///x/dist/runner/runner.js', lineNumber: 9 }, children: [3] },
      { id: 3, callFrame: { functionName: 'work', url: 'node:internal/streams/writable', lineNumber: 0 }, children: [] },
      { id: 4, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 }, children: [] },
    ],
    samples: [3, 3, 4, 2, 3],
    // A sample's time is the gap to the next one (ms × 1000): 1, 1, 5 (idle), 2, then none for the last.
    timeDeltas: [0, 1000, 1000, 5000, 2000],
  };

  it('folds samples into a call tree of CPU time, idle left out, and merges the trees of several processes', () => {
    const tree = profileTree(profile);
    expect(tree.total).toBe(4);
    const main = tree.children.get('main runner/runner.js:10');
    expect(main).toMatchObject({ kind: 'agentwire', self: 2, total: 4 });
    expect(main?.children.get('work node:internal/streams/writable:1')).toMatchObject({ kind: 'node', self: 2, total: 2 });
    const merged = mergeTrees([tree, profileTree(profile)]);
    expect(merged.total).toBe(8);
    expect(topSelf(merged, 5)).toEqual([
      { name: 'main', where: 'runner/runner.js:10', ms: 4, share: 0.5 },
      { name: 'work', where: 'node:internal/streams/writable:1', ms: 4, share: 0.5 },
    ]);
    const svg = renderFlameGraph(merged, { title: 'a <test>', width: 400 });
    // One frame per node, as wide as its share: the root 400 px, main 400, work 200.
    expect(svg.match(/<rect x=/g)).toHaveLength(3);
    expect(svg).toContain('width="200.0"');
    expect(svg).toContain('a &lt;test&gt;');
    expect(svg).toContain('<title>work (node:internal/streams/writable:1): 4.0 ms (50.0 %), self 4.0 ms</title>');
  });

  it('reads no profile from a directory a killed server never wrote, skips a file cut short, and keeps table cells whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentwire-profile-'));
    try {
      expect(readProfiles(join(dir, 'missing'))).toEqual([]);
      writeFileSync(join(dir, 'CPU.cut.cpuprofile'), '{"nodes":[');
      writeFileSync(join(dir, 'CPU.whole.cpuprofile'), JSON.stringify(profile));
      expect(readProfiles(dir).map((tree) => tree.total)).toEqual([4]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const markdown = renderProfilesMarkdown([
      { workload: 'many', server: 'agentwire', dir: 'p/many/agentwire', flameGraph: 'f.svg', totalMs: 4, top: [{ name: 'a|b`c', where: 'x.js:1', ms: 4, share: 1 }] },
    ]);
    expect(markdown).toContain("| 4.0 | 100.0 % | `a\\|b'c` | `x.js:1` |");
    expect(markdown).toContain('![many flame graph](f.svg)');
  });

  it("profiles a real agentwire bench server: its own functions show up, with time, once it exits on stdin's end", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentwire-profile-'));
    try {
      const port = await startServer('agentwire', ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
      await loadgen({ kind: 'throughput', port, server: 'agentwire', workload: { n: 20_000, bytes: 64, rate: 0 }, timeoutMs: 10_000 });
      const child = children.at(-1) as ChildProcess;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end();
      await within(exited, 10_000, 'the profiled server to exit');
      const [tree, ...more] = readProfiles(dir);
      expect(more).toEqual([]);
      const top = topSelf(tree!, 40);
      expect(top.some((entry) => entry.where.startsWith('runner/') && entry.ms > 0)).toBe(true);
      expect(renderFlameGraph(tree!)).toContain('emit (runner/emit.js:');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
