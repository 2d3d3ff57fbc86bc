/**
 * `agentwire tail` as a user runs it: against a real gateway process, piped (plain text), with
 * --json, following an existing run, a failing run, Ctrl-C, and bad usage.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../src/protocol/events.js';
import { CLI, type ServeProcess, run, startServe } from './helpers/process.js';
import { startRun } from './helpers/sse-client.js';
import { waitFor } from './helpers/wait.js';

describe('agentwire tail', () => {
  let server: ServeProcess;
  beforeAll(async () => {
    server = await startServe(['--demo-speed', '20']);
  });
  afterAll(async () => {
    await server.stop();
  });

  it('starts a run and prints the step tree, tool call, answer and a summary with TTFT and tokens/s when piped', async () => {
    const result = await run(process.execPath, [CLI, 'tail', server.url, '--input', 'What is the capital of France?']);
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/^run run_\S+ \(demo\)/);
    expect(out).toContain('▶ Research');
    expect(out).toContain('  ▶ Search the knowledge base');
    expect(out).toMatch(/⚙ search\(\{"query":"What is the capital of France\?","topK":3\}\)/);
    expect(out).toMatch(/✓ Research · \d+\.\d s/);
    expect(out).toContain('The capital of France is **Paris**.');
    expect(out).toMatch(/finished · in \d+\.\d s · first token \d+ ms · [\d.]+ tok\/s\n$/);
    expect(out).not.toMatch(/\x1b\[/); // no escape codes when piped
  });

  it('prints NDJSON events with --json', async () => {
    const result = await run(process.execPath, [CLI, 'tail', server.url, '--input', '"hello"', '--json']);
    expect(result.code).toBe(0);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as AgentEvent);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events.at(-1)?.type).toBe('run.finished');
  });

  it('follows an existing run by its URL, and exits 1 for a failed run', async () => {
    const { id } = await startRun(server.url, { agent: 'failing', input: null });
    const result = await run(process.execPath, [CLI, 'tail', `${server.url}/api/runs/${id}`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✗ Fetch the quarterly report/);
    expect(result.stdout).toMatch(/failed: The reports service answered 503 Service Unavailable twice\. \(UPSTREAM_UNAVAILABLE\)/);
  });

  it('cancels the run it started on Ctrl-C, and only detaches from a run it follows', async () => {
    const started = spawn(process.execPath, [CLI, 'tail', server.url, '--agent', 'quiet', '--input', 'x', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    started.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const runId = await waitFor(() => /"runId":"(run_[^"]+)"/.exec(out)?.[1], 'tail to print run.started');
    const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));
    started.kill('SIGINT');
    expect(await exited).toBe(130);
    const state = (await (await fetch(`${server.url}/api/runs/${runId}`)).json()) as { status: string; cancelReason: string };
    expect(state).toMatchObject({ status: 'cancelled', cancelReason: 'cancelled from agentwire tail' });

    const { id } = await startRun(server.url, { agent: 'quiet', input: null });
    const follower = spawn(process.execPath, [CLI, 'tail', `${server.url}/runs/${id}`, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follower.stdout.on('data', (chunk: Buffer) => {
      followed += chunk.toString();
    });
    await waitFor(() => followed.includes('run.started'), 'the follower to print run.started');
    const followerExit = new Promise<number | null>((resolve) => follower.once('exit', (code) => resolve(code)));
    follower.kill('SIGINT');
    expect(await followerExit).toBe(130);
    expect(((await (await fetch(`${server.url}/api/runs/${id}`)).json()) as { status: string }).status).toBe('running');
    await fetch(`${server.url}/api/runs/${id}/cancel`, { method: 'POST' });
  });

  it.each([
    [['tail', 'http://127.0.0.1:1'], /give --input/],
    [['tail', 'not a url', '--input', 'x'], /not a URL/],
    [['tail', 'http://127.0.0.1:1/api/runs/run_x', '--input', 'x'], /use one or the other/],
  ])('rejects bad usage %j with exit code 2', async (args, message) => {
    const result = await run(process.execPath, [CLI, ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
