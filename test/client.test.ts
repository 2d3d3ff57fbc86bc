/**
 * agentwire/client against real servers on loopback: random drops at any byte (no loss, no
 * duplicate), a start that is never retried blindly, the idle watchdog, 204/404, cancel, the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectionStatus, RunStreamError, cancelRun, createRunStore, startRun, subscribe } from '../src/client/index.js';
import type { AgentContext, AgentDefinition } from '../src/producer/agent.js';
import type { AgentEvent } from '../src/protocol/events.js';
import { seededRandom, startCuttingProxy, startScriptedServer, tokenLog } from './helpers/chaos-server.js';
import { type TestServer, startNodeServer } from './helpers/servers.js';
import { waitFor, within } from './helpers/wait.js';

const cancelled = new Map<string, boolean>();
const agents: AgentDefinition[] = [
  {
    name: 'ticker',
    run: async function* (ctx: AgentContext) {
      const { count, delay } = ctx.input as { count: number; delay: number };
      for (let index = 1; index <= count; index++) {
        if (delay > 0 && index % 10 === 0) await ctx.sleep(delay);
        yield `t${index} `;
      }
    } as AgentDefinition['run'],
  },
  {
    name: 'forever',
    run: async function* (ctx: AgentContext) {
      ctx.signal.addEventListener('abort', () => cancelled.set(String(ctx.input), true));
      for (;;) {
        await ctx.sleep(5);
        yield '.';
      }
    } as AgentDefinition['run'],
  },
];

const expectedText = (count: number) => Array.from({ length: count }, (_, index) => `t${index + 1} `).join('');
const answerOf = (events: AgentEvent[]) => events.map((event) => (event.type === 'text.delta' ? event.text : '')).join('');

async function collect(iterable: AsyncIterable<AgentEvent>): Promise<AgentEvent[]> {
  const events: AgentEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

describe('reconnect and dedup', () => {
  it('loses and repeats nothing when a scripted server drops connections at random bytes and answers 503 (60 seeded trials)', async () => {
    let reconnects = 0;
    for (let trial = 0; trial < 60; trial++) {
      const random = seededRandom(1000 + trial);
      const log = tokenLog('r1', 60 + Math.floor(random() * 80));
      const server = await startScriptedServer({
        runId: 'r1',
        events: log,
        random,
        // Each connection dies somewhere in its first 2 KB (mid-frame, mid-UTF-8), or answers 503.
        plan: (_request, index) => (index > 0 && random() < 0.1 ? { kind: 'status', status: 503 } : random() < 0.85 ? { kind: 'stream', cutAt: Math.floor(random() * 2048) } : { kind: 'stream' }),
      });
      try {
        const statuses: ConnectionStatus[] = [];
        const events = await within(collect(subscribe('r1', { baseUrl: server.url, random, retry: { maxDelayMs: 20 }, onStatus: (status) => statuses.push(status) })), 20_000, `trial ${trial}`);
        expect(events.map((event) => event.seq), `trial ${trial}`).toEqual(log.map((event) => event.seq));
        expect(answerOf(events)).toBe(answerOf(log));
        expect(statuses.at(-1)).toEqual({ state: 'closed', reason: 'ended' });
        // Reconnects resumed where the previous one stopped: the cursor never goes back.
        const cursors = server.requests.map((request) => Number(request.lastEventId ?? 0));
        expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
        reconnects += server.requests.length - 1;
      } finally {
        await server.close();
      }
    }
    // The chaos really happened: hundreds of dropped connections over the trials.
    expect(reconnects).toBeGreaterThan(200);
  }, 120_000);

  describe('against the real gateway behind a proxy that cuts every connection', () => {
    let gateway: TestServer;
    beforeAll(async () => {
      gateway = await startNodeServer({ agents, uiDir: false, heartbeatMs: 1000, retryMs: 10, onAgentError: () => {} });
    });
    afterAll(async () => {
      await gateway.close();
    });

    it('streams a started run to its end with exactly the produced text across 10+ cuts', async () => {
      const random = seededRandom(7);
      const proxy = await startCuttingProxy(gateway.url, () => 1500 + Math.floor(random() * 3000));
      try {
        const statuses: ConnectionStatus[] = [];
        let runId: string | undefined;
        const events = await within(
          collect(startRun({ baseUrl: proxy.url, agent: 'ticker', input: { count: 600, delay: 2 }, random, onRunId: (id) => (runId = id), onStatus: (status) => statuses.push(status) })),
          30_000,
          'the cut run',
        );
        expect(runId).toMatch(/^run_/);
        expect(proxy.cuts()).toBeGreaterThanOrEqual(10);
        expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
        expect(answerOf(events)).toBe(expectedText(600));
        expect(events.at(-1)?.type).toBe('run.finished');
        expect(statuses.filter((status) => status.state === 'reconnecting').length).toBeGreaterThanOrEqual(10);
      } finally {
        await proxy.close();
      }
    });

    it('ends at once with a 204 when resuming after the terminal event, with one request', async () => {
      const events = await collect(startRun({ baseUrl: gateway.url, agent: 'ticker', input: { count: 5, delay: 0 } }));
      const runId = (events[0] as Extract<AgentEvent, { type: 'run.started' }>).runId;
      let requests = 0;
      const statuses: ConnectionStatus[] = [];
      const more = await collect(
        subscribe(runId, { baseUrl: gateway.url, after: events.length, onStatus: (status) => statuses.push(status), fetch: (input, init) => (requests++, fetch(input, init)) }),
      );
      expect(more).toEqual([]);
      expect(requests).toBe(1);
      expect(statuses.at(-1)).toEqual({ state: 'closed', reason: 'ended' });
    });

    it('throws AW_RUN_NOT_FOUND on a 404 and never retries it', async () => {
      let requests = 0;
      const failure = await collect(subscribe('run_missing', { baseUrl: gateway.url, fetch: (input, init) => (requests++, fetch(input, init)) })).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(RunStreamError);
      expect((failure as RunStreamError).code).toBe('AW_RUN_NOT_FOUND');
      expect((failure as RunStreamError).status).toBe(404);
      expect(requests).toBe(1);
    });

    it('cancels a run: the producer signal fires and subscribers get run.cancelled', async () => {
      const store = createRunStore({ baseUrl: gateway.url, start: { agent: 'forever', input: 'c1' } });
      await waitFor(() => store.getSnapshot().state.text.length >= 5, 'a few tokens');
      expect(await store.cancel('test stop')).toBe('cancelled');
      await within(store.done, 5_000, 'the cancelled stream');
      expect(store.getSnapshot().state.status).toBe('cancelled');
      expect(store.getSnapshot().state.cancelReason).toBe('test stop');
      expect(cancelled.get('c1')).toBe(true);
      expect(await cancelRun(store.getSnapshot().runId as string, { baseUrl: gateway.url })).toBe('ended');
    });

    it('stops for good when the caller aborts, and reports closed/aborted', async () => {
      const controller = new AbortController();
      const statuses: ConnectionStatus[] = [];
      const events: AgentEvent[] = [];
      for await (const event of startRun({ baseUrl: gateway.url, agent: 'forever', input: 'a1', signal: controller.signal, onStatus: (status) => statuses.push(status) })) {
        events.push(event);
        if (events.length === 5) controller.abort();
      }
      expect(events.length).toBe(5);
      expect(statuses.at(-1)).toEqual({ state: 'closed', reason: 'aborted' });
    });

    it('coalesces a burst of 3,000 tokens into far fewer store updates, ending with the exact text', async () => {
      const store = createRunStore({ baseUrl: gateway.url, start: { agent: 'ticker', input: { count: 3000, delay: 0 } } });
      let updates = 0;
      store.subscribe(() => updates++);
      await within(store.done, 15_000, 'the burst');
      const snapshot = store.getSnapshot();
      expect(snapshot.state.status).toBe('finished');
      expect(snapshot.state.text).toBe(expectedText(3000));
      expect(snapshot.answerDeltas).toBe(3000);
      expect(updates).toBeGreaterThan(0);
      expect(updates).toBeLessThan(300);
    });
  });
});

describe('starting a run is never retried blindly', () => {
  it('reports AW_START_INTERRUPTED and sends one POST when the start dies before the run id is known', async () => {
    const server = await startScriptedServer({ runId: 'r1', events: tokenLog('r1', 5), random: seededRandom(1), plan: () => ({ kind: 'destroy' }) });
    try {
      const statuses: ConnectionStatus[] = [];
      const failure = await collect(startRun({ baseUrl: server.url, input: 'x', onStatus: (status) => statuses.push(status) })).catch((error: unknown) => error);
      expect((failure as RunStreamError).code).toBe('AW_START_INTERRUPTED');
      expect(server.requests.map((request) => request.method)).toEqual(['POST']);
      expect(statuses.at(-1)).toMatchObject({ state: 'closed', reason: 'error' });
    } finally {
      await server.close();
    }
  });

  it('re-attaches with GET and Last-Event-ID (never a second POST) when the start stream dies after the run id is known', async () => {
    const log = tokenLog('r9', 40);
    const server = await startScriptedServer({
      runId: 'r9',
      events: log,
      random: seededRandom(2),
      plan: (request) => (request.method === 'POST' ? { kind: 'stream', cutAt: 700 } : { kind: 'stream' }),
    });
    try {
      const events = await collect(startRun({ baseUrl: server.url, input: 'x' }));
      expect(events.map((event) => event.seq)).toEqual(log.map((event) => event.seq));
      expect(server.requests.map((request) => request.method)).toEqual(['POST', 'GET']);
      expect(server.requests[1]?.url).toBe('/api/runs/r9/events');
      expect(Number(server.requests[1]?.lastEventId)).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it('reports the server error of a refused start without retrying', async () => {
    const server = await startScriptedServer({ runId: 'r1', events: [], random: seededRandom(3), plan: () => ({ kind: 'status', status: 503 }) });
    try {
      const failure = await collect(startRun({ baseUrl: server.url, input: 'x' })).catch((error: unknown) => error);
      expect((failure as RunStreamError).status).toBe(503);
      expect(server.requests.length).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('idle watchdog', () => {
  it('replaces a connection that goes silent (no byte for the idle timeout) and resumes after the last event', async () => {
    const log = tokenLog('r2', 30);
    const server = await startScriptedServer({
      runId: 'r2',
      events: log,
      random: seededRandom(4),
      // The first connection sends a few events and then hangs open without a byte.
      plan: (_request, index) => (index === 0 ? { kind: 'stream', hangAfter: 400 } : { kind: 'stream' }),
    });
    try {
      const statuses: ConnectionStatus[] = [];
      const started = Date.now();
      const events = await within(collect(subscribe('r2', { baseUrl: server.url, idleTimeoutMs: 200, onStatus: (status) => statuses.push(status) })), 5_000, 'the watchdog');
      expect(events.map((event) => event.seq)).toEqual(log.map((event) => event.seq));
      const reconnect = statuses.find((status) => status.state === 'reconnecting');
      expect(reconnect).toMatchObject({ attempt: 1 });
      expect(String((reconnect as { error: unknown }).error)).toMatch(/no data/);
      expect(server.requests.length).toBe(2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    } finally {
      await server.close();
    }
  });
});
