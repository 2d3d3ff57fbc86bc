/**
 * Graceful shutdown: new requests refused, runs cancelled or finished per policy within the
 * deadline, streams ended cleanly for a hand-off, and agents that misbehave cannot block it.
 */
import { describe, expect, it } from 'vitest';
import { createGateway } from '../src/gateway/create-gateway.js';
import { listen } from '../src/gateway/listen.js';
import type { AgentContext } from '../src/producer/agent.js';
import { openSse } from './helpers/sse-client.js';
import { deferred, within } from './helpers/wait.js';

const agents = {
  async *finishes(ctx: AgentContext) {
    yield 'working';
    await ctx.sleep(300);
    yield 'done';
  },
  async *endless(ctx: AgentContext) {
    for (;;) {
      yield '.';
      await ctx.sleep(20);
    }
  },
  /** Ignores its signal and never returns from its finally. */
  async *stubborn() {
    try {
      yield 'stuck';
      await new Promise(() => {});
    } finally {
      await new Promise(() => {});
    }
  },
};

async function serve() {
  const gateway = createGateway({ agents, graceMs: 'continue', onAgentError: () => {} });
  return { gateway, server: await listen(gateway, { port: 0 }) };
}

async function streamTypes(url: string, agent: string, onFirst: () => void): Promise<string[]> {
  const connection = await openSse(`${url}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ agent, input: null }),
  });
  const types: string[] = [];
  for await (const message of connection.messages) {
    types.push(message.event ?? '');
    if (types.length === 2) onFirst();
  }
  return types;
}

describe('graceful shutdown', () => {
  it("lets live runs finish under 'finish' and refuses new requests with 503 meanwhile", async () => {
    const { gateway, server } = await serve();
    const closing = deferred<{ done: Promise<void> }>();
    const types = streamTypes(server.url, 'finishes', () => closing.resolve({ done: server.close({ runs: 'finish', deadlineMs: 5_000 }) }));
    await closing.promise;
    const refused = await gateway.fetch(new Request('http://gateway.test/api/agents'));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await types).toEqual(['run.started', 'text.delta', 'text.delta', 'run.finished']);
    await within((await closing.promise).done, 5_000, 'the shutdown');
  });

  it("cancels runs still live at the deadline under 'finish'", async () => {
    const { server } = await serve();
    const closing = deferred<{ done: Promise<void> }>();
    const started = Date.now();
    const types = await streamTypes(server.url, 'endless', () => closing.resolve({ done: server.close({ runs: 'finish', deadlineMs: 300 }) }));
    expect(types.at(-1)).toBe('run.cancelled');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await within((await closing.promise).done, 5_000, 'the shutdown');
  });

  it('ends streams without a terminal event on a hand-off, so clients reconnect elsewhere', async () => {
    const { server } = await serve();
    const closing = deferred<{ done: Promise<void> }>();
    const types = await streamTypes(server.url, 'endless', () => closing.resolve({ done: server.close({ runs: 'finish', deadlineMs: 200, endStreams: true }) }));
    expect(types.filter((type) => type.startsWith('run.') && type !== 'run.started')).toEqual([]);
    await within((await closing.promise).done, 5_000, 'the shutdown');
  });

  it('is not blocked by an agent that ignores its signal and never leaves its finally', async () => {
    const { server } = await serve();
    const closing = deferred<{ done: Promise<void> }>();
    const types = await streamTypes(server.url, 'stubborn', () => closing.resolve({ done: server.close() }));
    expect(types).toEqual(['run.started', 'text.delta', 'run.cancelled']);
    await within((await closing.promise).done, 5_000, 'the shutdown');
  });
});
