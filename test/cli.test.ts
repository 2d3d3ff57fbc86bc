/**
 * The built `agentwire` command as a user runs it: flags, errors and exit codes, the curl flow,
 * the demo pace, user agent modules, heartbeats and a clean shutdown on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../src/protocol/events.js';
import { chunk, sseHead, startFakeServer, usageChunk } from './helpers/fake-upstream.js';
import { metric, scrape } from './helpers/metrics.js';
import { CLI, ROOT, run, startServe } from './helpers/process.js';
import { openSse } from './helpers/sse-client.js';
import { waitFor } from './helpers/wait.js';

/** Runs `curl -N` like the README does and parses what it printed. */
async function curlRun(url: string, body: unknown): Promise<{ events: AgentEvent[]; raw: string }> {
  const result = await run('curl', ['-sN', '-X', 'POST', '-H', 'accept: text/event-stream', '-H', 'content-type: application/json', '-d', JSON.stringify(body), `${url}/api/runs`], {
    timeoutMs: 30_000,
  });
  expect(result.code).toBe(0);
  const events: AgentEvent[] = [];
  createParser({ onEvent: (message) => events.push(JSON.parse(message.data) as AgentEvent) }).feed(result.stdout);
  return { events, raw: result.stdout };
}

describe('agentwire CLI', () => {
  it('documents every serve flag in --help and exits 0', async () => {
    const result = await run(process.execPath, [CLI, 'serve', '--help']);
    expect(result.code).toBe(0);
    for (const flag of ['--port', '--host', '--agent-module', '--demo-speed', '--grace', '--heartbeat', '--retry', '--expose-errors']) {
      expect(result.stdout).toContain(flag);
    }
    expect(result.stdout).toMatch(/--redis-lease <ms>[^-]*\(default: 10000\)/);
    expect(result.stdout).toMatch(/--stall-timeout <ms>[^-]*\(default:\s+45000\)/);
  });

  it.each([
    [['serve', '--bogus'], /^agentwire: unknown option '--bogus' \(see: agentwire serve --help\)$/],
    [['serve', '--prot', '1'], /unknown option '--prot' \(Did you mean --port\?\)/],
    [['serve', '--tls-cert', 'cert.pem'], /^agentwire: --tls-cert and --tls-key go together$/],
    [['serve', '--tls-key', 'key.pem'], /^agentwire: --tls-cert and --tls-key go together$/],
    [['serve', '--port', 'abc'], /--port must be an integer/],
    [['serve', '--demo-speed', '-1'], /demo-speed/],
    [['serve', '--grace', 'soon'], /--grace must be/],
    [['serve', '--stall-timeout', '0'], /--stall-timeout must be an integer from 1 to 3600000/],
    [['serve', '--stall-timeout', '45s'], /--stall-timeout must be an integer/],
    [['serve', '--agent-module', 'does-not-exist.js'], /no such file/],
    [['serve', '--agent-module', 'package.json'], /could not import|exports no agents/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['serve', '--openai-base-url', 'http://127.0.0.1:1/v1'], /--openai-base-url and --model go together/],
    [['serve', '--openai-base-url', 'localhost:1234', '--model', 'm'], /baseURL must be an http\(s\) URL/],
    [['serve', '--bridge', 'ftp://x'], /url must be an http\(s\) URL/],
    [['serve', '--bridge', 'http://x', '--bridge-method', 'PUT'], /Allowed choices are GET, POST/],
    [['serve', '--auth-token', 'short'], /at least 8 characters/],
    [['serve', '--auth-tokens-file', 'missing-tokens.txt'], /cannot read/],
    [['serve', '--cors-origin', 'http://x/path'], /not an origin/],
    [['serve', '--log-format', 'xml'], /Allowed choices are auto, json, pretty/],
  ])('rejects bad usage %j with a one-line error and exit code 2', async (args, message) => {
    const result = await run(process.execPath, [CLI, ...args]);
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('streams the demo run to curl -N: nested steps, logs, a tool call, status, answer tokens, run.finished', async () => {
    const server = await startServe(['--demo-speed', '0']);
    try {
      const { events, raw } = await curlRun(server.url, { input: 'What is the capital of France?' });
      expect(raw.startsWith('retry: 2000')).toBe(true);
      expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
      expect(events[0]?.type).toBe('run.started');
      expect(events.at(-1)?.type).toBe('run.finished');
      const types = events.map((event) => event.type);
      for (const type of ['status', 'step.started', 'step.log', 'tool.call', 'tool.result', 'step.finished', 'text.delta']) expect(types).toContain(type);
      expect(events.some((event) => event.type === 'step.started' && event.parentId !== undefined)).toBe(true);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('paces the demo answer at a realistic rate by default (15–80 tokens/s, measured 10–100)', async () => {
    const server = await startServe([]);
    try {
      const connection = await openSse(`${server.url}/api/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ input: 'What is the capital of France?' }),
      });
      const answer: { at: number; received: number }[] = [];
      for await (const message of connection.messages) {
        const event = JSON.parse(message.data) as AgentEvent;
        if (event.type === 'text.delta' && event.stepId === undefined) answer.push({ at: event.at, received: Date.now() });
      }
      const first = answer[0] as { at: number; received: number };
      const last = answer.at(-1) as { at: number; received: number };
      const rate = (answer.length - 1) / ((last.at - first.at) / 1000);
      expect(rate).toBeGreaterThan(10);
      expect(rate).toBeLessThan(100);
      // Tokens reach the client while they are produced: the first arrived long before the last was made.
      expect(first.received).toBeLessThan(last.at);
    } finally {
      await server.stop();
    }
  });

  it('serves the agents of --agent-module (examples/my-agents.js)', async () => {
    const server = await startServe(['--agent-module', 'examples/my-agents.js']);
    try {
      const agents = (await (await fetch(`${server.url}/api/agents`)).json()) as { agents: { name: string }[] };
      expect(agents.agents.map((agent) => agent.name)).toEqual(['haiku', 'weather']);
      const { events } = await curlRun(server.url, { agent: 'weather', input: 'Lyon' });
      expect(events.at(-1)).toMatchObject({ type: 'run.finished', output: { city: 'Lyon' }, usage: { outputTokens: 14 } });
      expect(events.find((event) => event.type === 'tool.call')).toMatchObject({ name: 'forecast', args: { city: 'Lyon', days: 1 } });
    } finally {
      await server.stop();
    }
  });

  it('serves an "openai" agent from --openai-base-url/--model and a "bridge" agent from --bridge', async () => {
    const upstream = await startFakeServer(({ url }, response) => {
      sseHead(response);
      if (url.startsWith('/v1/chat/completions')) {
        response.write(chunk({ content: 'Bonjour' }));
        response.write(chunk({ content: ' Paris' }, 'stop'));
        response.write(usageChunk(3, 2));
        response.end('data: [DONE]\n\n');
      } else {
        response.write('event: status\ndata: Looking\n\n');
        response.write('event: token\ndata: relayed\n\n');
        response.end('event: close\ndata: \n\n');
      }
    });
    const server = await startServe(['--openai-base-url', `${upstream.url}/v1`, '--model', 'test-model', '--bridge', `${upstream.url}/sse`]);
    try {
      const agents = (await (await fetch(`${server.url}/api/agents`)).json()) as { agents: { name: string }[] };
      expect(agents.agents.map((agent) => agent.name)).toEqual(['demo', 'failing', 'quiet', 'openai', 'bridge']);
      const openai = await curlRun(server.url, { agent: 'openai', input: 'Hello?' });
      expect(openai.events.at(-1)).toMatchObject({ type: 'run.finished', usage: { inputTokens: 3, outputTokens: 2 } });
      expect(openai.events.filter((event) => event.type === 'text.delta').map((event) => (event as { text: string }).text).join('')).toBe('Bonjour Paris');
      const bridged = await curlRun(server.url, { agent: 'bridge', input: 'q' });
      expect(bridged.events.map((event) => event.type)).toEqual(['run.started', 'step.started', 'text.delta', 'step.finished', 'run.finished']);
    } finally {
      await server.stop();
      await upstream.close();
    }
  });

  it('requires the --auth-token bearer token, prints a curl line that carries one, and allows --cors-origin', async () => {
    const server = await startServe(['--auth-token', 'ops:s3cret-token', '--cors-origin', 'http://app.example', '--demo-speed', '0']);
    try {
      expect((await fetch(`${server.url}/api/runs`)).status).toBe(401);
      // The curl line serve prints, with TOKEN filled in, streams a run (without a token it would get 401).
      const printed = await waitFor(() => /^ {2}(curl .*)$/m.exec(server.output())?.[1], 'the curl line serve prints');
      expect(printed).toContain("-H 'authorization: Bearer TOKEN'");
      const args = [...printed.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2]).slice(1).map((arg) => arg?.replace('Bearer TOKEN', 'Bearer s3cret-token') ?? '');
      const streamed = await run('curl', ['-s', ...args], { timeoutMs: 30_000 });
      expect(streamed.stdout).toContain('event: run.finished');
      const ok = await fetch(`${server.url}/api/runs`, { headers: { authorization: 'Bearer s3cret-token', origin: 'http://app.example' } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe('http://app.example');
    } finally {
      await server.stop();
    }
  });

  it('sends heartbeats at the --heartbeat interval through a quiet run', async () => {
    // --demo-speed 100 makes the quiet agent silent for 600 ms.
    const server = await startServe(['--heartbeat', '100', '--demo-speed', '100']);
    try {
      const { events, raw } = await curlRun(server.url, { agent: 'quiet', input: null });
      expect(events.at(-1)?.type).toBe('run.finished');
      expect(raw.match(/^: ping$/gm)?.length ?? 0).toBeGreaterThanOrEqual(3);
    } finally {
      await server.stop();
    }
  });

  it('drops a subscriber that stops reading after --stall-timeout, long before the 45 s default', async () => {
    // An agent streaming 64 KiB events: a client that reads nothing fills its socket buffers at once.
    const dir = mkdtempSync(join(tmpdir(), 'agentwire-stall-'));
    const module = join(dir, 'chunks.mjs');
    writeFileSync(module, "export async function* chunks(ctx) { const payload = 'x'.repeat(65536); for (let i = 0; i < 100000; i++) { if (i % 8 === 0) await ctx.sleep(1); yield ctx.data('chunk', payload); } }\n");
    const server = await startServe(['--agent-module', module, '--stall-timeout', '300', '--heartbeat', '100']);
    const { hostname, port } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    try {
      socket.pause();
      socket.on('error', () => {});
      const body = JSON.stringify({ agent: 'chunks', input: null });
      const sentAt = performance.now();
      socket.write(`POST /api/runs HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      const dropped = async () => metric(await scrape(server.url), 'agentwire_subscribers_dropped_total', 'reason="stalled",transport="sse"');
      await waitFor(async () => (await dropped()) === 1, 'the stalled subscriber to be dropped', 10_000, 20);
      expect(performance.now() - sentAt).toBeGreaterThanOrEqual(300);
    } finally {
      socket.destroy();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends live streams with run.cancelled and exits 0 on SIGTERM', async () => {
    const server = await startServe([]);
    const connection = await openSse(`${server.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ agent: 'quiet', input: null }),
    });
    const types: string[] = [];
    const iterator = connection.messages[Symbol.asyncIterator]();
    types.push((await iterator.next()).value?.event ?? '');
    const exit = server.stop('SIGTERM');
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      types.push(next.value.event ?? '');
    }
    expect(types[0]).toBe('run.started');
    expect(types.at(-1)).toBe('run.cancelled');
    expect(await exit).toBe(0);
    expect(server.output()).toMatch(/SIGTERM received/);
  });

  it('logs pino JSON lines when piped and readable lines with --log-format pretty', async () => {
    const start = (url: string, agent: string) => fetch(`${url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent, input: 'x' }) });
    const piped = await startServe(['--demo-speed', '0']);
    try {
      await start(piped.url, 'demo');
      const line = await waitFor(() => piped.output().split('\n').find((text) => text.includes('"event":"run.ended"')), 'the run.ended log line');
      expect(JSON.parse(line)).toMatchObject({ level: 30, service: 'agentwire', event: 'run.ended', agent: 'demo', outcome: 'finished' });
    } finally {
      await piped.stop();
    }
    const pretty = await startServe(['--demo-speed', '0', '--log-format', 'pretty']);
    try {
      await start(pretty.url, 'failing');
      await waitFor(() => pretty.output().includes(' WARN  run '), 'the failed run line');
      const output = pretty.output();
      expect(output).not.toContain('{"level"');
      expect(output).not.toMatch(/\x1b\[/); // piped: no colours even when pretty
      expect(output).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}run run_\S+ started \(failing\)$/m);
      expect(output).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR agent "failing" failed in run run_\S+\n {4}AgentError: The reports service answered 503 Service Unavailable twice\. \(UPSTREAM_UNAVAILABLE\)\n {6}at /m);
      expect(output).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}run run_\S+ failed after \d+ ms, \d+ events {2}agent=failing code=UPSTREAM_UNAVAILABLE abortedBy=failure$/m);
    } finally {
      await pretty.stop();
    }
  });

  it('logs readable, coloured lines on a terminal by default', async () => {
    // script(1) gives serve a pseudo-terminal; `timeout` ends serve even if this test dies first.
    const child = spawn('script', ['-qfc', `timeout 30 "${process.execPath}" "${CLI}" serve --port 0 --demo-speed 0`, '/dev/null'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      const url = await waitFor(() => /listening on (http:\/\/\S+)/.exec(output)?.[1], 'serve to listen on the terminal');
      await fetch(`${url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: 'x' }) });
      await waitFor(() => output.includes(' finished after '), 'the run.ended line');
      expect(output).not.toContain('{"level"');
      expect(output).toMatch(/\x1b\[2m\d\d:\d\d:\d\d\.\d{3}\x1b\[22m \x1b\[32mINFO \x1b\[39m run run_\S+ started \(demo\)/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('reports a port in use on one line with exit code 2', async () => {
    const server = await startServe([]);
    try {
      const port = new URL(server.url).port;
      const result = await run(process.execPath, [CLI, 'serve', '--port', port], { cwd: ROOT });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/already in use/);
    } finally {
      await server.stop();
    }
  });
});
