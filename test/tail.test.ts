/**
 * `agentwire tail` as a user runs it: against a real gateway process, piped (plain text), with
 * --json, following an existing run (or one that does not exist), a failing run, Ctrl-C, a reader
 * that goes away (`| head -2`), connection failures with their cause (a closed port, a
 * self-signed certificate, `-k`), a followed URL that never answers (given up) against a live
 * stream that drops (resumed however long the outage), auth on (`--token` missing or wrong), and
 * bad usage.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevCertificate } from '../src/cli/commands/cert.js';
import type { AgentEvent } from '../src/protocol/events.js';
import { CLI, type ServeProcess, run, startServe } from './helpers/process.js';
import { startRun } from './helpers/sse-client.js';
import { waitFor } from './helpers/wait.js';

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

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

  it('exits quietly when its reader goes away (| head -2) and cancels the run it started', async () => {
    // A demo run at speed 1 takes seconds and writes an event every few hundred ms at most.
    const paced = await startServe([]);
    try {
      const result = await run('bash', ['-c', `"${process.execPath}" "${CLI}" tail ${paced.url} --input x --json | head -2; echo "tail exit: \${PIPESTATUS[0]}"`]);
      expect(result.stderr).toBe('');
      const lines = result.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[2]).toBe('tail exit: 0');
      const { runId } = JSON.parse(lines[0] as string) as { runId: string };
      // Cancelled before tail exited, not left running until its grace period ends.
      const state = (await (await fetch(`${paced.url}/api/runs/${runId}`)).json()) as { status: string; cancelReason: string };
      expect(state).toMatchObject({ status: 'cancelled', cancelReason: 'cancelled from agentwire tail' });
    } finally {
      await paced.stop();
    }
  });

  it('says in one line that a followed run does not exist, and exits 1', async () => {
    const result = await run(process.execPath, [CLI, 'tail', `${server.url}/api/runs/run_nope`], { timeoutMs: 10_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^agentwire tail: no run with id "run_nope"[^\n]*\(AW_RUN_NOT_FOUND\)\n$/);
  });

  it('names the cause when nothing listens on the port', async () => {
    const port = await closedPort();
    const result = await run(process.execPath, [CLI, 'tail', `http://127.0.0.1:${port}`, '--input', 'x']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `agentwire tail: the start request failed before the run id was known (fetch failed: connect ECONNREFUSED 127.0.0.1:${port}); it was not retried (AW_START_INTERRUPTED)\n` +
        '  nothing is listening there: is the gateway running (agentwire serve), on that host and port?\n',
    );
  });

  it('following a run URL that never answers: says once what failed and that it retries, then gives up with the cause', async () => {
    const port = await closedPort();
    const startedAt = Date.now();
    const result = await run(process.execPath, [CLI, 'tail', `http://127.0.0.1:${port}/api/runs/run_x`, '--connect-timeout', '800'], { timeoutMs: 20_000 });
    const elapsedMs = Date.now() - startedAt;
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `agentwire tail: cannot reach 127.0.0.1:${port} (fetch failed: connect ECONNREFUSED 127.0.0.1:${port}); retrying for up to 0.8 s… (Ctrl-C to stop)\n` +
        `agentwire tail: gave up on 127.0.0.1:${port} after 0.8 s without an answer: fetch failed: connect ECONNREFUSED 127.0.0.1:${port}\n` +
        '  nothing is listening there: is the gateway running (agentwire serve), on that host and port?\n',
    );
    expect(elapsedMs).toBeGreaterThanOrEqual(800);
    expect(elapsedMs).toBeLessThan(15_000);
    // Without the flag the bound is 10 s, and --help says so.
    const help = await run(process.execPath, [CLI, 'tail', '--help']);
    expect(help.stdout).toMatch(/--connect-timeout <ms> +give up on a run URL that does not answer within\s+this\s+long[^]*\(default: 10000\)/);
    const bad = await run(process.execPath, [CLI, 'tail', `http://127.0.0.1:${port}/api/runs/run_x`, '--connect-timeout', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--connect-timeout must be a positive number of milliseconds/);
  });

  it('gives up on a followed run URL whose server accepts the connection but never answers', async () => {
    // Reads (and drops) the request, never answers; reading lets it see tail hang up, so it can close.
    const silent = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const result = await run(process.execPath, [CLI, 'tail', `http://127.0.0.1:${port}/api/runs/run_x`, '--connect-timeout', '500'], { timeoutMs: 20_000 });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`agentwire tail: gave up on 127.0.0.1:${port} after 0.5 s without an answer\n`);
    } finally {
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('keeps resuming a stream that was live through an outage longer than --connect-timeout, saying so once', async () => {
    const connectTimeoutMs = 300;
    const outageMs = 3 * connectTimeoutMs;
    let droppedAt: number | undefined;
    let refused = 0;
    const frame = (event: Record<string, unknown>) => `id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`;
    // A gateway whose stream drops after run.started, then answers 503 (gone) until the outage is over.
    const flaky = createHttpServer((request, response) => {
      if (request.url !== '/api/runs/run_flaky/events') return response.writeHead(404).end();
      if (droppedAt === undefined) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(`retry: 20\n\n${frame({ type: 'run.started', seq: 1, at: Date.now(), runId: 'run_flaky', agent: 'demo', input: 'x' })}`, () => {
          droppedAt = Date.now();
          response.socket?.destroy();
        });
        return;
      }
      if (Date.now() - droppedAt < outageMs) {
        refused++;
        return response.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"AW_UNAVAILABLE","message":"gateway restarting"}}');
      }
      expect(request.headers['last-event-id']).toBe('1');
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(frame({ type: 'run.finished', seq: 2, at: Date.now(), output: 'done' }));
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const { port } = flaky.address() as AddressInfo;
    try {
      const result = await run(process.execPath, [CLI, 'tail', `http://127.0.0.1:${port}/api/runs/run_flaky`, '--json', '--connect-timeout', String(connectTimeoutMs)], { timeoutMs: 30_000 });
      expect(result.code).toBe(0);
      expect(result.stdout.trim().split('\n').map((line) => (JSON.parse(line) as AgentEvent).type)).toEqual(['run.started', 'run.finished']);
      expect(refused).toBeGreaterThanOrEqual(2);
      expect(result.stderr).toMatch(new RegExp(`^agentwire tail: lost the stream from 127\\.0\\.0\\.1:${port} \\([^\\n]+\\); reconnecting… \\(Ctrl-C to stop\\)\\n$`));
    } finally {
      await new Promise<void>((resolve) => flaky.close(() => resolve()));
    }
  });

  it('on a gateway with auth on says to pass --token, or that the token was refused, and streams with the right one', async () => {
    const guarded = await startServe(['--demo-speed', '0', '--auth-token', 'alice:s3cret-alice']);
    try {
      const without = await run(process.execPath, [CLI, 'tail', guarded.url, '--input', 'x'], { env: { ...process.env, AGENTWIRE_TOKEN: '' } });
      expect(without.code).toBe(1);
      expect(without.stderr).toMatch(/^agentwire tail: authentication required: .*\(AW_UNAUTHORIZED\)\n {2}the gateway needs a bearer token: pass --token <token>/);
      const refused = await run(process.execPath, [CLI, 'tail', guarded.url, '--input', 'x', '--token', 'alice:s3cret-alice']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^agentwire tail: the Authorization header was not accepted: .*\n {2}the token was not accepted: with serve --auth-token alice:TOKEN, pass only TOKEN/);
      const accepted = await run(process.execPath, [CLI, 'tail', guarded.url, '--input', 'x', '--token', 's3cret-alice']);
      expect(accepted.stderr).toBe('');
      expect(accepted.code).toBe(0);
    } finally {
      await guarded.stop();
    }
  });

  it('names a self-signed certificate, suggests -k, and streams with -k', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'agentwire-tail-cert-'));
    const files = createDevCertificate(directory, 1);
    const tls = await startServe(['--demo-speed', '20', '--tls-cert', files.cert, '--tls-key', files.key]);
    try {
      expect(tls.url).toMatch(/^https:/);
      const refused = await run(process.execPath, [CLI, 'tail', tls.url, '--input', 'x']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^agentwire tail: the start request failed before the run id was known \(fetch failed: self-signed certificate.*\(DEPTH_ZERO_SELF_SIGNED_CERT\)\)/);
      expect(refused.stderr).toMatch(/\n {2}the server certificate is not trusted: pass -k \(--insecure\) to accept a self-signed one\n$/);
      // Following a run retries a dropped connection, but not an untrusted certificate.
      const following = await run(process.execPath, [CLI, 'tail', `${tls.url}/api/runs/run_x`], { timeoutMs: 10_000 });
      expect(following.code).toBe(1);
      expect(following.stderr).toMatch(/^agentwire tail: fetch failed: self-signed certificate.*\n {2}the server certificate is not trusted: pass -k/);

      const accepted = await run(process.execPath, [CLI, 'tail', tls.url, '-k', '--input', 'What is the capital of France?']);
      expect(accepted.stderr).toBe('');
      expect(accepted.code).toBe(0);
      expect(accepted.stdout).toContain('The capital of France is **Paris**.');
      expect(accepted.stdout).toMatch(/finished · in /);
      const { id } = (await run('curl', ['-sk', '-X', 'POST', '-H', 'content-type: application/json', '-d', '{"agent":"quiet","input":null}', `${tls.url}/api/runs`]).then((result) => JSON.parse(result.stdout))) as { id: string };
      const followed = spawn(process.execPath, [CLI, 'tail', `${tls.url}/api/runs/${id}`, '--insecure', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      followed.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      await waitFor(() => out.includes('run.started'), 'tail -k to follow the run over https');
      const exited = new Promise<number | null>((resolve) => followed.once('exit', (code) => resolve(code)));
      followed.kill('SIGINT');
      expect(await exited).toBe(130);
    } finally {
      await tls.stop();
      rmSync(directory, { recursive: true, force: true });
    }
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
