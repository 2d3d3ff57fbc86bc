/**
 * Metrics in Prometheus format, one log line per run start and end, and a warning that names the
 * agent blocking the event loop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../src/gateway/operations/logger.js';
import type { AgentContext, AgentDefinition } from '../src/producer/agent.js';
import { type TestServer, startNodeServer } from './helpers/servers.js';
import { metric } from './helpers/metrics.js';
import { collectEvents, openSse, startRun } from './helpers/sse-client.js';
import { waitFor } from './helpers/wait.js';

const lines: { level: string; object: Record<string, unknown>; message: string }[] = [];
const logger: Logger = {
  info: (object, message) => lines.push({ level: 'info', object, message }),
  warn: (object, message) => lines.push({ level: 'warn', object, message }),
  error: (object, message) => lines.push({ level: 'error', object, message }),
};

const agents: AgentDefinition[] = [
  {
    name: 'short',
    async *run() {
      yield 'a';
      yield 'b';
    },
  },
  {
    name: 'endless',
    async *run(ctx: AgentContext) {
      for (;;) {
        await ctx.sleep(10);
        yield '.';
      }
    },
  },
  {
    name: 'blocker',
    async *run() {
      yield 'about to block';
      const until = performance.now() + 400;
      while (performance.now() < until) {
        // synchronous CPU work: the mistake the warning is for
      }
      yield 'done';
    },
  },
];

describe('observability', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startNodeServer({ agents, logger, graceMs: 1_000, blockWarnMs: 200, onAgentError: () => {} });
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves Prometheus metrics that count runs, events, bytes, resumes, open streams and aborts', async () => {
    const { id } = await startRun(server.url, { agent: 'short', input: null });
    await collectEvents(`${server.url}/api/runs/${id}/events`);
    await collectEvents(`${server.url}/api/runs/${id}/events`, { headers: { 'last-event-id': '1' } });
    const endless = await startRun(server.url, { agent: 'endless', input: null });
    const open = await openSse(`${server.url}/api/runs/${endless.id}/events`);
    await open.messages[Symbol.asyncIterator]().next();
    const during = await (await fetch(`${server.url}/metrics`)).text();
    expect(metric(during, 'agentwire_streams_open', 'transport="sse",format="agentwire"')).toBe(1);
    expect(metric(during, 'agentwire_runs_running')).toBe(1);
    open.close(); // the only subscriber leaves: the 1 s grace then aborts the producer
    await waitFor(async () => metric(await (await fetch(`${server.url}/metrics`)).text(), 'agentwire_producers_aborted_total', 'reason="disconnect"') === 1, 'the disconnect abort to be counted');
    const response = await fetch(`${server.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(metric(text, 'agentwire_runs_started_total', 'agent="short"')).toBe(1);
    expect(metric(text, 'agentwire_runs_ended_total', 'agent="short",outcome="finished"')).toBe(1);
    expect(metric(text, 'agentwire_runs_ended_total', 'agent="endless",outcome="cancelled"')).toBe(1);
    expect(metric(text, 'agentwire_events_sent_total')).toBeGreaterThanOrEqual(4 + 3 + 1);
    expect(metric(text, 'agentwire_bytes_sent_total')).toBeGreaterThan(100);
    expect(metric(text, 'agentwire_resumes_total')).toBe(1);
    expect(metric(text, 'agentwire_streams_open', 'transport="sse",format="agentwire"')).toBe(0);
    expect(text).toContain('agentwire_event_loop_delay_seconds_bucket');
    expect(text).toContain('agentwire_slow_consumer_waits_total');
    expect(text).toContain('agentwire_snapshots_sent_total');
  });

  it('logs one line per run start and end with duration, events and outcome', async () => {
    const { id } = await startRun(server.url, { agent: 'short', input: null });
    await collectEvents(`${server.url}/api/runs/${id}/events`);
    const mine = lines.filter((line) => line.object.runId === id);
    expect(mine.map((line) => line.object.event)).toEqual(['run.started', 'run.ended']);
    expect(mine[1]?.object).toMatchObject({ agent: 'short', outcome: 'finished', events: 4, durationMs: expect.any(Number) });
  });

  it('warns, naming the agent and run, when an agent blocks the event loop', async () => {
    const { id } = await startRun(server.url, { agent: 'blocker', input: null });
    await collectEvents(`${server.url}/api/runs/${id}/events`);
    const warning = await waitFor(() => lines.find((line) => line.object.event === 'event_loop.blocked' && line.object.runId === id), 'the stall warning');
    expect(warning.level).toBe('warn');
    expect(warning.object).toMatchObject({ agent: 'blocker' });
    expect(Number(warning.object.blockedMs)).toBeGreaterThanOrEqual(200);
    expect(warning.message).toMatch(/worker thread/);
  });
});
