/**
 * A smoke test of the benchmark harness (not the benchmark: that is `npm run bench`). It guards
 * against a harness that miscounts: the load generator must see exactly the events a server sent,
 * through both of its parsers, for the raw baseline and for agentwire.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { within } from './helpers/wait.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

async function startServer(name: string): Promise<number> {
  const child = spawn(process.execPath, [`bench/servers/${name}.mjs`], { cwd: root, env: { ...process.env, PORT: '0' }, stdio: ['pipe', 'pipe', 'inherit'] });
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
});
