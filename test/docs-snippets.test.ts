/**
 * The mount and agent snippets of the README and the mount guide, and the client guide's Node
 * script, run exactly as printed (only the port is replaced): each server serves `/healthz`, streams
 * a run over SSE and answers a WebSocket subscription, the guide's snippets are the files in
 * `examples/`, and the script streams and replays a run. Docs and code cannot drift.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { extractSnippet, replacePort } from './helpers/markdown-snippets.js';
import { freePort } from './helpers/nginx.js';
import { ROOT, requireBuild, run, startServe } from './helpers/process.js';
import { startRunAt } from './helpers/servers.js';
import { waitFor, within } from './helpers/wait.js';

/** Inside the repository, so `import … from 'agentwire'` resolves to this package (its dist/). */
const WORK_DIR = join(ROOT, '.artifacts', 'doc-snippets');

interface Program {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
}

const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(WORK_DIR, { recursive: true, force: true });
});

/** Writes `files` into a fresh directory, runs `main` with Node, and waits until `/healthz` answers. */
async function runProgram(name: string, files: Record<string, string>, main: string, port: number): Promise<Program> {
  requireBuild();
  const dir = join(WORK_DIR, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  const child = spawn(process.execPath, [main], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`${main} exited with ${child.exitCode}:\n${output}`);
      return fetch(`${url}/healthz`).then((response) => response.ok, () => false);
    },
    `${main} to answer /healthz`,
    15_000,
    50,
  );
  return { child, url, output: () => output };
}

/** Starts a run of `agent` with `accept: text/event-stream` and returns the SSE text to its end. */
async function streamRun(url: string, agent: string, input: string): Promise<string> {
  const response = await fetch(`${url}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ agent, input }),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return within(response.text(), 15_000, 'the SSE run');
}

/** The answer text of an SSE stream: its top-level `text.delta`s, concatenated. */
function answerOf(sse: string): string {
  return sse
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)) as { type: string; text?: string; stepId?: string })
    .filter((event) => event.type === 'text.delta' && event.stepId === undefined)
    .map((event) => event.text)
    .join('');
}

/** Subscribes to a new run over `/api/ws` and resolves with the types of the events received, to the end. */
async function subscribeOverWebSocket(url: string, agent: string, input: string): Promise<{ types: string[]; seqs: number[] }> {
  const runId = await startRunAt(url, agent, input);
  const socket = new WebSocket(`${url.replace('http', 'ws')}/api/ws`);
  const types: string[] = [];
  const seqs: number[] = [];
  try {
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.once('open', () => socket.send(JSON.stringify({ type: 'subscribe', runId, after: 0 })));
        socket.on('message', (data) => {
          const frame = JSON.parse(String(data)) as { type: string; message?: string; events?: { type: string; seq: number }[] };
          if (frame.type === 'error') reject(new Error(`WebSocket error frame: ${frame.message}`));
          for (const event of frame.events ?? []) {
            types.push(event.type);
            seqs.push(event.seq);
            if (event.type.startsWith('run.') && event.type !== 'run.started') resolve();
          }
        });
      }),
      15_000,
      'the WebSocket subscription',
    );
  } finally {
    socket.close();
  }
  return { types, seqs };
}

/** Sends SIGINT and resolves with the exit code (a hang fails the test). */
async function interrupt(program: Program): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => program.child.once('exit', (code) => resolve(code)));
  program.child.kill('SIGINT');
  return within(exited, 10_000, 'the program to exit after SIGINT');
}

function expectWholeRun(result: { types: string[]; seqs: number[] }): void {
  expect(result.types[0]).toBe('run.started');
  expect(result.types.at(-1)).toBe('run.finished');
  expect(result.seqs).toEqual(result.seqs.map((_, index) => index + 1));
}

describe('the README snippets, as printed', () => {
  it('serve the README agent from the README mount: /healthz, SSE, WebSocket', async () => {
    const agent = extractSnippet('README.md', 'js [my-agents.js]');
    const server = extractSnippet('README.md', 'ts [server.ts]');
    expect(server).toContain("'127.0.0.1'");
    const port = await freePort();
    const program = await runProgram('readme', { 'my-agents.js': agent, 'server.ts': replacePort(server, 8788, port) }, 'server.ts', port);
    const health = (await (await fetch(`${program.url}/healthz`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    const sse = await streamRun(program.url, 'weather', 'Lyon');
    expect(sse).toContain('event: tool.call');
    expect(sse).toContain('event: run.finished');
    expect(answerOf(sse)).toBe('Tomorrow in Lyon: clear, up to 21 °C.');
    expectWholeRun(await subscribeOverWebSocket(program.url, 'weather', 'Oslo'));
  });

  it('serve the README agent with the command in its first line: agentwire serve --agent-module', async () => {
    const agent = extractSnippet('README.md', 'js [my-agents.js]');
    expect(agent.split('\n')[0]).toContain('npx agentwire serve --agent-module ./my-agents.js');
    const dir = join(WORK_DIR, 'readme-cli');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'my-agents.js'), agent);
    const serve = await startServe(['--agent-module', './my-agents.js'], { cwd: dir });
    try {
      expect(answerOf(await streamRun(serve.url, 'weather', 'Rome'))).toBe('Tomorrow in Rome: clear, up to 21 °C.');
    } finally {
      await serve.stop();
    }
  });

  it('the guide shows the same agent as the README', () => {
    expect(extractSnippet('docs/guide/write-an-agent.md', 'js [my-agents.js]')).toBe(extractSnippet('README.md', 'js [my-agents.js]'));
  });
});

describe('the client guide snippet, as printed', () => {
  it('streams a demo run from a Node script, replays it and reports it ended', async () => {
    const snippet = extractSnippet('docs/guide/client.md', 'js [client.mjs]');
    const serve = await startServe(['--demo-speed', '0']);
    try {
      const dir = join(WORK_DIR, 'client');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'client.mjs'), replacePort(snippet, 8787, Number(new URL(serve.url).port)));
      const result = await run(process.execPath, ['client.mjs'], { cwd: dir, timeoutMs: 30_000 });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^You asked: “Hi”\./);
      // Replayed to the end, as many events as the run had, and already over when cancelled.
      const [, id, replayed] = /\n(run_\S+): (\d+) events replayed\n/.exec(result.stdout) ?? [];
      const state = (await (await fetch(`${serve.url}/api/runs/${id}`)).json()) as { status: string; lastSeq: number };
      expect(state.status).toBe('finished');
      expect(Number(replayed)).toBe(state.lastSeq);
      expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('ended');
    } finally {
      await serve.stop();
    }
  });
});

describe('the mount guide snippets, as printed', () => {
  const cases = [
    { file: 'examples/node-http.ts', port: 8788, agent: 'echo', input: 'hello there', answer: 'hello there ' },
    { file: 'examples/hono.ts', port: 8789, agent: 'shout', input: 'hello there', answer: 'HELLO THERE' },
  ] as const;

  for (const { file, port: printedPort, agent, input, answer } of cases) {
    it(`${file} is the guide's snippet, and serves /healthz, SSE and WebSocket, then stops on SIGINT`, async () => {
      const snippet = extractSnippet('docs/guide/mount.md', `ts [${file}]`);
      expect(readFileSync(join(ROOT, file), 'utf8')).toBe(snippet);
      expect(snippet).toContain("'127.0.0.1'");
      // Its own port, not npm start's 8787.
      expect(snippet).toMatch(new RegExp(`(listen\\(|port: )${printedPort}\\b`));
      const port = await freePort();
      const program = await runProgram(file.replace(/\W/g, '-'), { 'main.ts': replacePort(snippet, printedPort, port) }, 'main.ts', port);
      const sse = await streamRun(program.url, agent, input);
      expect(sse).toContain('event: run.finished');
      expect(answerOf(sse)).toBe(answer);
      expectWholeRun(await subscribeOverWebSocket(program.url, agent, input));
      expect(await interrupt(program), program.output()).toBe(0);
    });
  }

  it('the Hono snippet mounts the viewer, /healthz and /metrics, not only /api/*', async () => {
    const snippet = extractSnippet('docs/guide/mount.md', 'ts [examples/hono.ts]');
    const port = await freePort();
    const program = await runProgram('hono-routes', { 'main.ts': replacePort(snippet, 8789, port) }, 'main.ts', port);
    const page = await fetch(`${program.url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<div id="root">');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    expect((await fetch(`${program.url}${asset}`)).status).toBe(200);
    expect((await fetch(`${program.url}/runs/run_x`)).status).toBe(200);
    expect(await (await fetch(`${program.url}/metrics`)).text()).toContain('agentwire_runs_started_total');
    expect(await (await fetch(`${program.url}/hello`)).text()).toBe('your own routes sit beside it');
    program.child.kill('SIGKILL');
  });
});
