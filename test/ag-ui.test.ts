/**
 * `?format=ag-ui` read by the official AG-UI client: its HTTP/SSE parser, its schema enforcement
 * and its event verifier must accept every run (nested steps, tool calls, errors, cancellation,
 * resume mid-run).
 */
import { enforceEvents, runHttpRequest, transformHttpEventStream, verifyEvents } from '@ag-ui/client';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAgents } from '../src/demo/demo-agents.js';
import type { AgentContext, AgentDefinition } from '../src/producer/agent.js';
import { type TestServer, startNodeServer } from './helpers/servers.js';
import { collectEvents, startRun } from './helpers/sse-client.js';
import { waitFor } from './helpers/wait.js';

type AgUi = { type: string } & Record<string, unknown>;

/** Reads a stream through the AG-UI client's own pipeline; rejects if the verifier refuses it. */
async function readAgUi(url: string, headers: Record<string, string> = {}): Promise<AgUi[]> {
  const events$ = verifyEvents()(enforceEvents()(transformHttpEventStream(runHttpRequest(() => fetch(url, { headers })))));
  return (await lastValueFrom(events$.pipe(toArray()))) as AgUi[];
}

const agents: AgentDefinition[] = [
  ...demoAgents({ speed: 0 }),
  {
    name: 'endless',
    async *run(ctx: AgentContext) {
      yield* ctx.step('Outer', async function* (outer) {
        yield* outer.step('Inner', async function* (inner) {
          for (;;) {
            yield inner.text('thinking… ');
            await ctx.sleep(5);
          }
        });
      });
    },
  },
];

describe('AG-UI encoding', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startNodeServer({ agents, onAgentError: () => {} });
  });
  afterAll(async () => {
    await server.close();
  });

  it('passes the AG-UI verifier on the demo run: nested steps named by path, reasoning, tool call and result, text message', async () => {
    const { id } = await startRun(server.url, { agent: 'demo', input: 'What is the capital of France?' });
    const events = await readAgUi(`${server.url}/api/runs/${id}/events?format=ag-ui`);
    const types = events.map((event) => event.type);
    expect(types[0]).toBe('RUN_STARTED');
    expect(types.at(-1)).toBe('RUN_FINISHED');
    expect(events.at(-1)).toMatchObject({ outcome: { type: 'success' }, result: { sources: expect.any(Array) } });
    expect(events.filter((event) => event.type === 'STEP_STARTED').map((event) => event.stepName)).toEqual([
      'Plan the answer',
      'Research',
      'Research › Search the knowledge base',
      'Research › Read the sources',
    ]);
    for (const type of ['REASONING_MESSAGE_CONTENT', 'TOOL_CALL_START', 'TOOL_CALL_ARGS', 'TOOL_CALL_END', 'TOOL_CALL_RESULT', 'TEXT_MESSAGE_START', 'TEXT_MESSAGE_END', 'CUSTOM']) {
      expect(types).toContain(type);
    }
    const text = events.filter((event) => event.type === 'TEXT_MESSAGE_CONTENT').map((event) => event.delta).join('');
    expect(text).toContain('Paris');
    const { events: native } = await collectEvents(`${server.url}/api/runs/${id}/events`);
    const nativeText = native.flatMap((event) => (event.type === 'text.delta' && event.stepId === undefined ? [event.text] : [])).join('');
    expect(text).toBe(nativeText);
  });

  it('passes the verifier on a failing run and ends with RUN_ERROR carrying the code', async () => {
    const { id } = await startRun(server.url, { agent: 'failing', input: null });
    const events = await readAgUi(`${server.url}/api/runs/${id}/events?format=ag-ui`);
    expect(events.at(-1)).toMatchObject({ type: 'RUN_ERROR', code: 'UPSTREAM_UNAVAILABLE' });
    expect(events.find((event) => event.type === 'TOOL_CALL_RESULT')?.content).toMatch(/^error: /);
    expect(events.some((event) => event.type === 'CUSTOM' && event.name === 'agentwire.step.error')).toBe(true);
  });

  it('passes the verifier on a cancelled run (outcome cancelled) and on a stream resumed mid-run', async () => {
    const { id } = await startRun(server.url, { agent: 'endless', input: null });
    await waitFor(async () => ((await (await fetch(`${server.url}/api/runs/${id}`)).json()) as { lastSeq: number }).lastSeq > 8, 'some thinking');
    const resumed = readAgUi(`${server.url}/api/runs/${id}/events?format=ag-ui`, { 'last-event-id': '6' });
    const whole = readAgUi(`${server.url}/api/runs/${id}/events?format=ag-ui`);
    await waitFor(async () => ((await (await fetch(`${server.url}/api/runs/${id}`)).json()) as { lastSeq: number }).lastSeq > 20, 'more thinking');
    expect((await fetch(`${server.url}/api/runs/${id}/cancel`, { method: 'POST' })).status).toBe(200);
    for (const events of [await whole, await resumed]) {
      expect(events[0]?.type).toBe('RUN_STARTED');
      expect(events.at(-1)).toMatchObject({ type: 'RUN_FINISHED', outcome: { type: 'cancelled' } });
      expect(events.filter((event) => event.type === 'STEP_FINISHED').map((event) => event.stepName)).toEqual(['Outer › Inner', 'Outer']);
    }
    const resumedEvents = await resumed;
    expect(resumedEvents[1]).toMatchObject({ type: 'STATE_SNAPSHOT' });
    expect(resumedEvents.filter((event) => event.type === 'STEP_STARTED').map((event) => event.stepName)).toEqual(['Outer', 'Outer › Inner']);
  });
});
