import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeServer, sseHead, startFakeServer } from '../../test/helpers/fake-upstream.js';
import { ROOT } from '../../test/helpers/process.js';
import { waitFor } from '../../test/helpers/wait.js';
import type { AgentEvent } from '../protocol/events.js';
import { Runner } from '../runner/runner.js';
import { MemoryStore } from '../store/memory-store.js';
import { type SseBridgeOptions, sseBridgeAgent } from './sse-bridge-agent.js';

const stores: MemoryStore[] = [];
afterAll(async () => {
  for (const store of stores) await store.close();
});

async function bridge(url: string, options: SseBridgeOptions = {}, input: unknown = 'hello'): Promise<AgentEvent[]> {
  const store = new MemoryStore();
  stores.push(store);
  const runner = new Runner({ store, agents: [sseBridgeAgent(url, options)], graceMs: 'continue', onAgentError: () => {} });
  const record = await runner.start({ input });
  const events: AgentEvent[] = [];
  for await (const batch of store.follow(record.id, 0)) events.push(...batch.map((stored) => stored.event));
  return events;
}

const answer = (events: AgentEvent[]) => events.flatMap((event) => (event.type === 'text.delta' && event.stepId === undefined ? [event.text] : [])).join('');
const steps = (events: AgentEvent[]) => events.flatMap((event) => (event.type === 'step.started' ? [event.title] : []));

describe('sseBridgeAgent against a FastAPI-style upstream written in Node', () => {
  let upstream: FakeServer;
  beforeAll(async () => {
    upstream = await startFakeServer(({ url, body }, response) => {
      const path = new URL(url, 'http://x').pathname;
      if (path === '/fail') {
        response.writeHead(500, { 'content-type': 'application/json' });
        return response.end('{"detail":"model crashed"}');
      }
      sseHead(response);
      if (path === '/slow') {
        const timer = setInterval(() => response.write('event: token\ndata: .\n\n'), 20);
        response.once('close', () => clearInterval(timer));
        return;
      }
      const write = (text: string) => response.write(text);
      write(`event: status\ndata: Searching for ${new URL(url, 'http://x').searchParams.get('q') ?? (body as { q?: string })?.q}\n\n`);
      write('event: token\ndata: The\n\n');
      write('event: token\ndata:  capital\n\n'); // SSE strips one space: the token is " capital"
      write('event: delta\ndata: {"token":" is"}\n\n');
      write('event: progress\ndata: {"title":"Double-checking"}\n\n');
      write('event: custom\ndata: {"score":0.9}\n\n');
      write('data:  Paris\n\n'); // the default event type, message, is text
      if (path === '/error') {
        write('event: error\ndata: {"error":"rate limited"}\n\n');
        return response.end();
      }
      if (path === '/done') write('data: [DONE]\n\n');
      else write('event: close\ndata: bye\n\n');
      write('event: token\ndata: after the end\n\n');
      response.end();
    });
  });
  afterAll(async () => {
    await upstream.close();
  });

  it('maps status/progress to top-level steps, tokens to answer text keeping leading spaces, custom events to data, and close to the end', async () => {
    const events = await bridge(`${upstream.url}/stream`, { inputParam: 'q' }, 'France');
    expect(steps(events)).toEqual(['Searching for France', 'Double-checking']);
    expect(answer(events)).toBe('The capital is Paris');
    expect(events.find((event) => event.type === 'data')).toMatchObject({ name: 'custom', value: { score: 0.9 } });
    const types = events.map((event) => event.type);
    expect(types.filter((type) => type === 'step.finished')).toHaveLength(2);
    expect(types.at(-1)).toBe('run.finished');
    expect(upstream.requests.at(-1)?.url).toBe('/stream?q=France');
  });

  it('ends on data [DONE] and sends the input as a JSON body with POST', async () => {
    const events = await bridge(`${upstream.url}/done`, { method: 'POST', inputParam: 'q' }, 'Spain');
    expect(answer(events)).toBe('The capital is Paris');
    expect(events.at(-1)?.type).toBe('run.finished');
    expect(upstream.requests.at(-1)?.body).toEqual({ q: 'Spain' });
  });

  it('fails the run on an error event and on an HTTP error, with clear codes', async () => {
    const failed = await bridge(`${upstream.url}/error`);
    expect(failed.at(-1)).toMatchObject({ type: 'run.failed', error: { code: 'AW_UPSTREAM_ERROR', message: expect.stringMatching(/rate limited/) } });
    expect(failed.filter((event) => event.type === 'step.finished').at(-1)).toMatchObject({ status: 'error' });
    const http = await bridge(`${upstream.url}/fail`);
    expect(http.at(-1)).toMatchObject({ type: 'run.failed', error: { code: 'AW_UPSTREAM_HTTP', message: expect.stringMatching(/500: model crashed/) } });
  });

  it('closes the upstream connection when the run is cancelled', async () => {
    const store = new MemoryStore();
    stores.push(store);
    const runner = new Runner({ store, agents: [sseBridgeAgent(`${upstream.url}/slow`)], graceMs: 'continue' });
    const record = await runner.start({ input: 'x' });
    await waitFor(async () => ((await store.getRun(record.id))?.lastSeq ?? 0) > 3, 'a few tokens');
    const gone = upstream.clientGone();
    await runner.cancel(record.id);
    await gone;
    expect((await store.read(record.id, 0)).at(-1)?.type).toBe('run.cancelled');
  });
});

const PYTHON = '/usr/bin/python3';
const hasFastApi = spawnSync(PYTHON, ['-c', 'import fastapi, uvicorn'], { stdio: 'ignore' }).status === 0;
if (!hasFastApi) {
  const reason = `python3-fastapi/python3-uvicorn are not installed for ${PYTHON}: the real-FastAPI bridge test is skipped`;
  if (process.env.CI === 'true') throw new Error(`${reason} (under CI they must be; .ci/run installs them)`);
  console.warn(`\n*** ${reason} ***\n`);
}

describe.runIf(hasFastApi)('sseBridgeAgent against a real FastAPI StreamingResponse (uvicorn)', () => {
  let child: ReturnType<typeof spawn>;
  let url: string;
  beforeAll(async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    child = spawn(PYTHON, [`${ROOT}test/fixtures/fastapi_upstream.py`, String(port)], { stdio: 'ignore' });
    url = `http://127.0.0.1:${port}/stream`;
    await waitFor(() => fetch(url.replace('/stream', '/docs')).then((response) => response.ok, () => false), 'uvicorn to listen', 20_000, 100);
  });
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('relays its steps and tokens with their leading spaces intact', async () => {
    const events = await bridge(url, {}, 'What is the capital of France?');
    expect(steps(events)).toEqual(['Searching vector index...', 'Answering: What is the capital of France?']);
    expect(answer(events)).toBe('The capital of France is Paris.');
    expect(events.at(-1)?.type).toBe('run.finished');
  });
});
