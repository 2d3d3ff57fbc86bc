/**
 * End to end over real HTTP on loopback, against both adapters (the Node listener in node:http and
 * the fetch handler in Hono): streaming as produced, exact resume, fan-out, disconnects, errors.
 */
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAgents } from '../src/demo/demo-agents.js';
import type { AgentContext, AgentDefinition } from '../src/producer/agent.js';
import type { AgentEvent } from '../src/protocol/events.js';
import type { RunState } from '../src/protocol/run-state.js';
import { seededRandom } from './helpers/chaos-server.js';
import { ADAPTERS, type TestServer } from './helpers/servers.js';
import { collectEvents, openSse, range, seqs, startRun } from './helpers/sse-client.js';
import { deferred, waitFor } from './helpers/wait.js';

/**
 * The suite's random choices (tick delays, when late subscribers join, their cursors) come from one
 * seeded generator: the same seed draws the same numbers (set AGENTWIRE_TEST_SEED to replay
 * another); which test draws which depends on timing, as the runs interleave on a real clock.
 */
const SEED = Number(process.env.AGENTWIRE_TEST_SEED ?? 18);
const random = seededRandom(SEED);
/** Unique keys for the agents' gates and lifecycle records. */
let keys = 0;
const nextKey = (prefix: string) => `${prefix}-${++keys}`;

const gates = new Map<string, ReturnType<typeof deferred<void>>>();
const lifecycle = new Map<string, { aborted: boolean; finallyRan: boolean; abortedAt?: number }>();

const testAgents: Record<string, (ctx: AgentContext) => AsyncGenerator<unknown, unknown>> = {
  /** Yields two events, then waits for the test to open its gate, then finishes. */
  async *gated(ctx) {
    const gate = deferred<void>();
    gates.set(String(ctx.input), gate);
    yield* ctx.step('Before the gate', async function* (step) {
      yield step.log('waiting');
    });
    await gate.promise;
    yield 'after the gate';
  },
  /** `count` answer tokens with `delay` ms between them (0: none). */
  async *ticker(ctx) {
    const { count, delay } = ctx.input as { count: number; delay: number };
    for (let index = 1; index <= count; index++) {
      if (delay > 0) await ctx.sleep(random() * delay * 2);
      yield `t${index} `;
    }
  },
  /** Runs until cancelled, recording what happened to it. */
  async *forever(ctx) {
    const record = { aborted: false, finallyRan: false } as { aborted: boolean; finallyRan: boolean; abortedAt?: number };
    lifecycle.set(String(ctx.input), record);
    ctx.signal.addEventListener('abort', () => {
      record.aborted = true;
      record.abortedAt = Date.now();
    });
    try {
      for (;;) {
        await ctx.sleep(10);
        yield '.';
      }
    } finally {
      record.finallyRan = true;
    }
  },
  /** Silent for `input` ms, then one token. */
  async *hush(ctx) {
    await ctx.sleep(Number(ctx.input));
    yield 'done';
  },
};

const agents: AgentDefinition[] = [
  ...demoAgents({ speed: 0 }),
  ...Object.entries(testAgents).map(([name, run]) => ({ name, run: run as AgentDefinition['run'] })),
];

const json = { 'content-type': 'application/json' };
/** The suite's grace period: long enough that a loaded 2-core machine never loses an unwatched run by accident. */
const GRACE_MS = 1_000;

describe.each(ADAPTERS)('gateway over the %s', (_name, start) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start({ agents, heartbeatMs: 100, graceMs: GRACE_MS, onAgentError: () => {} });
  });
  afterAll(async () => {
    await server.close();
  });

  it('streams the demo run in one POST with the SSE headers, retry first, seq 1..n, one terminal event last', async () => {
    const { events, connection } = await collectEvents(`${server.url}/api/runs`, {
      method: 'POST',
      headers: { ...json, accept: 'text/event-stream' },
      body: JSON.stringify({ input: 'What is the capital of France?' }),
    });
    const headers = connection.response.headers;
    expect(connection.response.status).toBe(200);
    expect(headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(headers.get('x-accel-buffering')).toBe('no');
    expect(headers.get('content-length')).toBeNull();
    expect(headers.get('x-agentwire-run-id')).toMatch(/^run_/);
    expect(connection.raw().startsWith('retry: 2000\n\n')).toBe(true);
    expect(seqs(events)).toEqual(range(1, events.length));
    expect(events[0]?.type).toBe('run.started');
    expect(events.at(-1)?.type).toBe('run.finished');
    expect(events.filter((event) => event.type.startsWith('run.') && event.type !== 'run.started')).toHaveLength(1);
    const types = new Set(events.map((event) => event.type));
    for (const type of ['step.started', 'step.log', 'step.finished', 'tool.call', 'tool.result', 'status', 'text.delta']) expect(types).toContain(type);
    const nested = events.find((event) => event.type === 'step.started' && event.parentId !== undefined);
    expect(nested).toBeDefined();
    const answer = events.filter((event) => event.type === 'text.delta' && event.stepId === undefined).map((event) => (event as { text: string }).text);
    expect(answer.length).toBeGreaterThan(10);
    expect(answer.join('')).toContain('Paris');
  });

  it('sends events as they are produced, not when the run ends', async () => {
    const key = nextKey('gate');
    const connection = await openSse(`${server.url}/api/runs`, {
      method: 'POST',
      headers: { ...json, accept: 'text/event-stream' },
      body: JSON.stringify({ agent: 'gated', input: key }),
    });
    const seen: string[] = [];
    const iterator = connection.messages[Symbol.asyncIterator]();
    // The agent is blocked on its gate: these four events can only arrive if they are streamed live.
    while (seen.length < 4) {
      const next = await iterator.next();
      if (next.done) throw new Error('stream ended early');
      seen.push(next.value.event ?? '');
    }
    expect(seen).toEqual(['run.started', 'step.started', 'step.log', 'step.finished']);
    gates.get(key)?.resolve(undefined);
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      seen.push(next.value.event ?? '');
    }
    expect(seen.slice(4)).toEqual(['text.delta', 'run.finished']);
  });

  it('sends the headers and retry: at once on a stream with no event pending, and HEAD gets headers only', async () => {
    const key = nextKey('gate');
    const { id } = await startRun(server.url, { agent: 'gated', input: key });
    await waitFor(() => gates.get(key), 'the agent to reach its gate');
    const state = (await (await fetch(`${server.url}/api/runs/${id}`)).json()) as RunState;
    const connection = await openSse(`${server.url}/api/runs/${id}/events`, { headers: { 'last-event-id': String(state.lastSeq) } });
    expect(connection.response.status).toBe(200);
    await waitFor(() => connection.retries.length > 0, 'the retry: line before any event');
    const head = await fetch(`${server.url}/api/runs/${id}/events`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    gates.get(key)?.resolve(undefined);
    const rest: string[] = [];
    for await (const message of connection.messages) rest.push(message.event ?? '');
    expect(rest).toEqual(['text.delta', 'run.finished']);
  });

  it('answers 201 with links without the event-stream accept, and the eventsource package reads the run then stops on 204', async () => {
    const response = await fetch(`${server.url}/api/runs`, { method: 'POST', headers: json, body: JSON.stringify({ agent: 'demo', input: 'hi' }) });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { id: string; eventsUrl: string; stateUrl: string; cancelUrl: string };
    expect(response.headers.get('location')).toBe(body.eventsUrl);
    expect(body.eventsUrl).toBe(`/api/runs/${body.id}/events`);
    const received: AgentEvent[] = [];
    const source = new EventSource(`${server.url}${body.eventsUrl}`);
    const types = ['run.started', 'step.started', 'step.log', 'step.updated', 'step.finished', 'text.delta', 'tool.call', 'tool.result', 'status', 'run.finished'];
    for (const type of types) source.addEventListener(type, (message) => received.push(JSON.parse(message.data) as AgentEvent));
    // After the terminal event the server ends the stream; EventSource reconnects with
    // Last-Event-ID = the terminal seq, gets 204 and closes for good.
    await waitFor(() => source.readyState === EventSource.CLOSED, 'EventSource to close after the 204');
    source.close();
    expect(seqs(received)).toEqual(range(1, received.length));
    expect(received.at(-1)?.type).toBe('run.finished');
  });

  it('resumes exactly after Last-Event-ID, ?after= and ?lastEventId= (header wins over the query)', async () => {
    const { id } = await startRun(server.url, { agent: 'ticker', input: { count: 30, delay: 0 } });
    const all = (await collectEvents(`${server.url}/api/runs/${id}/events`)).events;
    expect(seqs(all)).toEqual(range(1, 32));
    const byHeader = (await collectEvents(`${server.url}/api/runs/${id}/events?after=3`, { headers: { 'last-event-id': '10' } })).events;
    expect(seqs(byHeader)).toEqual(range(11, 32));
    const byQuery = (await collectEvents(`${server.url}/api/runs/${id}/events?after=20`)).events;
    expect(seqs(byQuery)).toEqual(range(21, 32));
    const byLastEventId = (await collectEvents(`${server.url}/api/runs/${id}/events?lastEventId=31`)).events;
    expect(byLastEventId).toEqual(all.slice(31));
    expect(byHeader).toEqual(all.slice(10));
  });

  it('resumes with no gap and no duplicate while the run is appending (many trials)', async () => {
    const count = 120;
    const trials = await Promise.all(
      range(1, 4).map(async () => {
        // An anchor subscriber starts the run and watches it from seq 1, so no grace period applies.
        const anchor = await openSse(`${server.url}/api/runs`, {
          method: 'POST',
          headers: { ...json, accept: 'text/event-stream' },
          body: JSON.stringify({ agent: 'ticker', input: { count, delay: 3 } }),
        });
        const id = anchor.response.headers.get('x-agentwire-run-id') as string;
        const anchorSeqs = (async () => {
          const seen: number[] = [];
          for await (const message of anchor.messages) seen.push(Number(message.id));
          return { after: 0, events: seen.map((seq) => ({ seq }) as AgentEvent) };
        })();
        const subscribers = range(1, 6).map(async (index) => {
          await new Promise((resolve) => setTimeout(resolve, index * 25 * random()));
          const state = (await (await fetch(`${server.url}/api/runs/${id}`)).json()) as RunState;
          const after = Math.floor(random() * (state.lastSeq + 1));
          const { events } = await collectEvents(`${server.url}/api/runs/${id}/events`, { headers: { 'last-event-id': String(after) } });
          return { after, events };
        });
        return Promise.all([anchorSeqs, ...subscribers]);
      }),
    );
    for (const subscribers of trials) {
      for (const { after, events } of subscribers) {
        if (after === count + 2) {
          expect(events).toEqual([]);
          continue;
        }
        expect(seqs(events), `seed ${SEED}, after ${after}`).toEqual(range(after + 1, count + 2));
      }
    }
  });

  it('gives two subscribers of one run the same sequence', async () => {
    const { id } = await startRun(server.url, { agent: 'ticker', input: { count: 60, delay: 2 } });
    const [first, second] = await Promise.all([
      collectEvents(`${server.url}/api/runs/${id}/events`),
      collectEvents(`${server.url}/api/runs/${id}/events`),
    ]);
    expect(first.events.length).toBe(62);
    expect(second.events).toEqual(first.events);
  });

  it('aborts the producer signal after the grace period when the client disconnects, and runs its finally', async () => {
    const key = nextKey('forever');
    const connection = await openSse(`${server.url}/api/runs`, {
      method: 'POST',
      headers: { ...json, accept: 'text/event-stream' },
      body: JSON.stringify({ agent: 'forever', input: key }),
    });
    const iterator = connection.messages[Symbol.asyncIterator]();
    let runId = '';
    for (let index = 0; index < 5; index++) {
      const next = await iterator.next();
      if (index === 0) runId = (JSON.parse(next.value?.data ?? '{}') as { runId: string }).runId;
    }
    const disconnectedAt = Date.now();
    connection.close();
    const record = await waitFor(() => (lifecycle.get(key)?.finallyRan ? lifecycle.get(key) : undefined), 'the producer finally to run');
    expect(record.aborted).toBe(true);
    // Not before the grace period (allowing timer jitter), and not much later.
    expect((record.abortedAt ?? 0) - disconnectedAt).toBeGreaterThanOrEqual(GRACE_MS - 50);
    // The disconnect is noticed at once (the response's close), so the abort comes right after the grace.
    expect((record.abortedAt ?? 0) - disconnectedAt).toBeLessThan(GRACE_MS + 1_500);
    const state = (await (await fetch(`${server.url}/api/runs/${runId}`)).json()) as RunState;
    expect(state.status).toBe('cancelled');
    expect(state.cancelReason).toMatch(/grace/);
  });

  it('keeps a run going while a reconnecting client comes back within the grace period', async () => {
    const key = nextKey('forever');
    const response = await fetch(`${server.url}/api/runs`, { method: 'POST', headers: json, body: JSON.stringify({ agent: 'forever', input: key }) });
    const { id } = (await response.json()) as { id: string };
    const first = await openSse(`${server.url}/api/runs/${id}/events`);
    await first.messages[Symbol.asyncIterator]().next();
    first.close();
    const second = await openSse(`${server.url}/api/runs/${id}/events`, { headers: { 'last-event-id': '1' } });
    const iterator = second.messages[Symbol.asyncIterator]();
    const deadline = Date.now() + GRACE_MS * 2; // two grace periods
    while (Date.now() < deadline) await iterator.next();
    expect(lifecycle.get(key)?.aborted).toBe(false);
    const cancel = await fetch(`${server.url}/api/runs/${id}/cancel`, { method: 'POST', headers: json, body: '{"reason":"test over"}' });
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toEqual({ id, status: 'cancelled' });
    const rest: string[] = [];
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      rest.push(next.value.event ?? '');
    }
    expect(rest.at(-1)).toBe('run.cancelled');
    await waitFor(() => lifecycle.get(key)?.finallyRan, 'finally after cancel');
    const again = await fetch(`${server.url}/api/runs/${id}/cancel`, { method: 'POST' });
    expect(again.status).toBe(409);
  });

  it('sends heartbeat comments on a quiet stream', async () => {
    const connection = await openSse(`${server.url}/api/runs`, {
      method: 'POST',
      headers: { ...json, accept: 'text/event-stream' },
      body: JSON.stringify({ agent: 'hush', input: 450 }),
    });
    const events: string[] = [];
    for await (const message of connection.messages) events.push(message.event ?? '');
    expect(events).toEqual(['run.started', 'text.delta', 'run.finished']);
    // 450 ms of silence with a 100 ms heartbeat: at least three pings.
    expect(connection.comments.filter((comment) => comment.text.trim() === 'ping').length).toBeGreaterThanOrEqual(3);
  });

  it('reports a failing agent as step error then run.failed with its code', async () => {
    const { events } = await collectEvents(`${server.url}/api/runs`, {
      method: 'POST',
      headers: { ...json, accept: 'text/event-stream' },
      body: JSON.stringify({ agent: 'failing', input: null }),
    });
    const finished = events.filter((event) => event.type === 'step.finished');
    expect(finished.at(-1)).toMatchObject({ status: 'error', error: { code: 'UPSTREAM_UNAVAILABLE' } });
    expect(events.at(-1)).toMatchObject({ type: 'run.failed', error: { code: 'UPSTREAM_UNAVAILABLE' } });
    expect(events.find((event) => event.type === 'tool.result')).toMatchObject({ error: { code: 'UPSTREAM_UNAVAILABLE' } });
  });

  it('serves the reduced state, the run list and the agent list', async () => {
    const { events } = await collectEvents(`${server.url}/api/runs`, {
      method: 'POST',
      headers: { ...json, accept: 'text/event-stream' },
      body: JSON.stringify({ input: 'What is the capital of France?' }),
    });
    const runId = (events[0] as { runId: string }).runId;
    const state = (await (await fetch(`${server.url}/api/runs/${runId}`)).json()) as RunState;
    expect(state).toMatchObject({ runId, agent: 'demo', status: 'finished', lastSeq: events.length });
    expect(state.text).toContain('Paris');
    expect(state.rootStepIds.length).toBe(2);
    const list = (await (await fetch(`${server.url}/api/runs`)).json()) as { runs: { id: string; status: string }[] };
    expect(list.runs.find((run) => run.id === runId)).toMatchObject({ status: 'finished' });
    const agentsList = (await (await fetch(`${server.url}/api/agents`)).json()) as { agents: { name: string; default: boolean }[] };
    expect(agentsList.agents[0]).toMatchObject({ name: 'demo', default: true });
    expect(agentsList.agents.map((agent) => agent.name)).toEqual(agents.map((agent) => agent.name));
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
  });

  it('answers bad requests with the JSON error shape and the right status', async () => {
    const check = async (response: Response, status: number, code: string) => {
      expect(response.status).toBe(status);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(5);
      return response;
    };
    const { id } = await startRun(server.url, { agent: 'ticker', input: { count: 2, delay: 0 } });
    await collectEvents(`${server.url}/api/runs/${id}/events`);
    await check(await fetch(`${server.url}/api/runs`, { method: 'POST', headers: json, body: '{"input":' }), 400, 'AW_BAD_REQUEST');
    await check(await fetch(`${server.url}/api/runs`, { method: 'POST', headers: json, body: '{"agent":"demo"}' }), 400, 'AW_BAD_REQUEST');
    await check(await fetch(`${server.url}/api/runs`, { method: 'POST', headers: json, body: '[1]' }), 400, 'AW_BAD_REQUEST');
    await check(await fetch(`${server.url}/api/runs`, { method: 'POST', headers: json, body: '' }), 400, 'AW_BAD_REQUEST');
    await check(await fetch(`${server.url}/api/runs`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"input":1}' }), 415, 'AW_UNSUPPORTED_MEDIA_TYPE');
    await check(await fetch(`${server.url}/api/runs`, { method: 'POST', headers: json, body: '{"input":1,"agent":"nope"}' }), 400, 'AW_UNKNOWN_AGENT');
    await check(await fetch(`${server.url}/api/runs`, { method: 'POST', headers: json, body: JSON.stringify({ input: 'x'.repeat(1_100_000) }) }), 413, 'AW_BODY_TOO_LARGE');
    await check(await fetch(`${server.url}/api/runs/run_missing/events`), 404, 'AW_RUN_NOT_FOUND');
    await check(await fetch(`${server.url}/api/runs/run_missing`), 404, 'AW_RUN_NOT_FOUND');
    await check(await fetch(`${server.url}/api/runs/run_missing/cancel`, { method: 'POST' }), 404, 'AW_RUN_NOT_FOUND');
    const wrongMethod = await check(await fetch(`${server.url}/api/runs/${id}/events`, { method: 'DELETE' }), 405, 'AW_METHOD_NOT_ALLOWED');
    expect(wrongMethod.headers.get('allow')).toContain('GET');
    await check(await fetch(`${server.url}/api/runs/${id}/events?after=abc`), 400, 'AW_BAD_CURSOR');
    await check(await fetch(`${server.url}/api/runs/${id}/events`, { headers: { 'last-event-id': '-1' } }), 400, 'AW_BAD_CURSOR');
    await check(await fetch(`${server.url}/api/runs/${id}/events?after=99`), 400, 'AW_BAD_CURSOR');
    await check(await fetch(`${server.url}/api/runs/${id}/events?format=nope`), 400, 'AW_BAD_REQUEST');
    await check(await fetch(`${server.url}/api/nothing-here`), 404, 'AW_NOT_FOUND');
    const ended = await fetch(`${server.url}/api/runs/${id}/events`, { headers: { 'last-event-id': '4' } });
    expect(ended.status).toBe(204);
    expect(await ended.text()).toBe('');
  });

  it('long-polls a live run to its end with no gap and no duplicate, and waits for new events', async () => {
    const { id } = await startRun(server.url, { agent: 'ticker', input: { count: 40, delay: 4 } });
    const seen: number[] = [];
    let after = 0;
    for (let polls = 0; polls < 500; polls++) {
      const response = await fetch(`${server.url}/api/runs/${id}/poll?after=${after}&wait=5`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { events: AgentEvent[]; next: number; done: boolean };
      seen.push(...seqs(body.events));
      after = body.next;
      if (body.done) break;
    }
    expect(seen).toEqual(range(1, 42));
    const again = (await (await fetch(`${server.url}/api/runs/${id}/poll?after=42`)).json()) as { events: AgentEvent[]; done: boolean };
    expect(again).toEqual({ events: [], next: 42, done: true });

    const key = nextKey('gate');
    const gated = await startRun(server.url, { agent: 'gated', input: key });
    await waitFor(() => gates.get(key), 'the agent to reach its gate');
    const waitedFrom = Date.now();
    const idle = (await (await fetch(`${server.url}/api/runs/${gated.id}/poll?after=4&wait=1`)).json()) as { events: AgentEvent[]; done: boolean };
    expect(idle).toEqual({ events: [], next: 4, done: false });
    expect(Date.now() - waitedFrom).toBeGreaterThanOrEqual(900);
    const pending = fetch(`${server.url}/api/runs/${gated.id}/poll?after=4&wait=20`);
    setTimeout(() => gates.get(key)?.resolve(undefined), 100);
    const woke = (await (await pending).json()) as { events: AgentEvent[] };
    expect(woke.events[0]).toMatchObject({ seq: 5, type: 'text.delta' });
    expect((await fetch(`${server.url}/api/runs/${gated.id}/poll?wait=x`)).status).toBe(400);
  });

  it('serves the viewer page with a strict content security policy', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    const script = /src="([^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await fetch(`${server.url}${script}`)).status).toBe(200);
    expect((await fetch(`${server.url}/assets/../../package.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/assets/%2e%2e%2fpackage.json`)).status).toBe(404);
  });
});
