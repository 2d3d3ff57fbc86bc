/**
 * Graceful shutdown: new requests refused, runs cancelled or finished per policy within the
 * deadline, streams ended cleanly for a hand-off (and, under `cancel`, the streams of runs another
 * gateway produces), and agents that misbehave cannot block it.
 */
import { describe, expect, it } from 'vitest';
import { createGateway } from '../src/gateway/create-gateway.js';
import { listen } from '../src/gateway/adapters/listen.js';
import type { AgentContext } from '../src/producer/agent.js';
import type { AgentEvent } from '../src/protocol/events.js';
import { createRedisStore } from '../src/redis/redis-store.js';
import { redisSuitesEnabled, startRedis } from './helpers/redis-server.js';
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

describe.runIf(redisSuitesEnabled('shutdown with two gateways on one Redis'))('graceful shutdown of one of two gateways on one Redis', () => {
  it("under 'cancel', a stream of a run another gateway produces ends cleanly, without a terminal event, and resumes there", async () => {
    const redis = await startRedis();
    const stores = await Promise.all([0, 1].map(() => createRedisStore({ url: redis.url, leaseMs: 1000, onConnectionChange: () => {} })));
    const [a, b] = await Promise.all(stores.map((store) => listen(createGateway({ agents, store, graceMs: 'continue', uiDir: false }), { port: 0 })));
    try {
      const started = await fetch(`${b!.url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'endless', input: null }) });
      const { id } = (await started.json()) as { id: string };
      const connection = await openSse(`${a!.url}/api/runs/${id}/events`);
      const seen: AgentEvent[] = [];
      let closing: Promise<void> | undefined;
      const begun = Date.now();
      // A socket error would make this loop throw: the stream must end as a clean close.
      for await (const message of connection.messages) {
        seen.push(JSON.parse(message.data) as AgentEvent);
        if (seen.length === 5) closing = a!.close({ runs: 'cancel', deadlineMs: 5_000 });
      }
      await within(closing as Promise<void>, 5_000, "A's shutdown");
      // Not cut by the server's 2 s force-close: ended as soon as the runs on A had ended.
      expect(Date.now() - begun).toBeLessThan(1_800);
      expect(seen.filter((event) => event.type !== 'run.started' && event.type.startsWith('run.'))).toEqual([]);
      const last = seen.at(-1)!.seq;
      const resumed = await openSse(`${b!.url}/api/runs/${id}/events`, { headers: { 'last-event-id': String(last) } });
      for await (const message of resumed.messages) {
        expect(Number(message.id)).toBe(last + 1);
        break;
      }
      resumed.close();
    } finally {
      await Promise.all([a!.close({ deadlineMs: 500 }), b!.close({ deadlineMs: 500 })]);
      await Promise.all(stores.map((store) => store.close()));
      await redis.stop();
    }
  }, 20_000);
});
