/**
 * Redis faults that must not leave a stream open forever or pass in silence: a producer that gave
 * up on a run (or stalled past its lease) loses the lease and a survivor closes the run; a Redis
 * restart without persistence ends every open stream on every gateway with `AW_LOG_LOST`; a key
 * that is not a stream ends its run alone; refused reads and refused lease renewals are logged
 * once, counted, and turn `/healthz` to 503 until they clear — on one Redis and on a Redis Cluster.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, createGateway } from '../src/gateway/create-gateway.js';
import { type ListeningGateway, listen } from '../src/gateway/adapters/listen.js';
import type { Logger } from '../src/gateway/operations/logger.js';
import type { AgentContext } from '../src/producer/agent.js';
import type { AgentEvent, EventBody } from '../src/protocol/events.js';
import { PRODUCER_LOST, type RedisStore, type RedisStoreOptions, createRedisStore } from '../src/redis/redis-store.js';
import { type RunRecord, type StoreFault, type StoredEvent, toStoredEvent } from '../src/store/store.js';
import { type RedisBackend, REDIS_BACKENDS } from './helpers/redis-backends.js';
import { redisSuitesEnabled, startRedis } from './helpers/redis-server.js';
import { redisSuite } from './helpers/redis-suite.js';
import { openSse } from './helpers/sse-client.js';
import { waitFor, within } from './helpers/wait.js';

const enabled = redisSuitesEnabled('Redis faults suite');

const agents = {
  /** One text delta every `intervalMs`, forever (until cancelled). */
  async *ticking(ctx: AgentContext) {
    const { intervalMs = 20 } = (ctx.input ?? {}) as { intervalMs?: number };
    for (let index = 1; ; index++) {
      yield `${index} `;
      await ctx.sleep(intervalMs);
    }
  },
};

/** A logger that keeps its lines. */
function memoryLogger(): Logger & { lines: { level: string; object: Record<string, unknown>; message: string }[] } {
  const lines: { level: string; object: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (object: Record<string, unknown>, message: string) => lines.push({ level, object, message });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

const record = (id: string): RunRecord => ({ id, agent: 'a', owner: undefined, createdAt: Date.now(), status: 'running', endedAt: undefined, lastSeq: 0 });
const event = (seq: number, body: EventBody): StoredEvent => toStoredEvent({ ...body, seq, at: Date.now() } as AgentEvent);

/** Collects a store follow until it ends. */
async function followAll(store: RedisStore, runId: string): Promise<StoredEvent[]> {
  const seen: StoredEvent[] = [];
  for await (const batch of store.follow(runId, 0)) seen.push(...batch);
  return seen;
}

describe.runIf(enabled)('a producer that lost or gave up its run does not keep its lease', () => {
  const suite = redisSuite();
  let prefixes = 0;
  async function pair(): Promise<{ producer: RedisStore; survivor: RedisStore; prefix: string }> {
    const prefix = `aw:lease${++prefixes}:`;
    const options: RedisStoreOptions = { url: suite.redis.url, keyPrefix: prefix, leaseMs: 300, onConnectionChange: () => {} };
    const [producer, survivor] = await Promise.all([createRedisStore(options), createRedisStore(options)]);
    suite.track(producer, survivor);
    producer.onFault(() => {});
    return { producer, survivor, prefix };
  }

  it('a run whose append was refused loses its lease and a survivor closes it with producer_lost', async () => {
    const { producer, survivor } = await pair();
    await producer.createRun(record('refused'));
    await producer.append('refused', [event(1, { type: 'run.started', runId: 'refused', agent: 'a', input: null })]);
    const following = followAll(survivor, 'refused');
    // The store refuses this append (a seq gap): the runner gives the run up, and so must the lease.
    await expect(producer.append('refused', [event(5, { type: 'text.delta', text: 'gap' })])).rejects.toThrow(/expected seq 2/);
    const seen = await within(following, 10_000, 'the survivor closes the abandoned run');
    expect(seen.at(-1)).toMatchObject({ seq: 2, type: 'run.failed', event: { error: { code: PRODUCER_LOST } } });
    expect(await survivor.getRun('refused')).toMatchObject({ status: 'failed' });
  });

  it('a producer whose lease expired (it stalled) does not take it back, and the run is closed with producer_lost', async () => {
    const readyAt = Date.now();
    const { producer, survivor, prefix } = await pair();
    const lost: StoreFault[] = [];
    producer.onFault((fault) => {
      if (fault.operation === 'lease_lost') lost.push(fault);
    });
    await producer.createRun(record('stalled'));
    await producer.append('stalled', [event(1, { type: 'run.started', runId: 'stalled', agent: 'a', input: null })]);
    const following = followAll(survivor, 'stalled');
    // Within a lease period of connecting, a lost lease is taken back (it is how a producer keeps
    // its runs through a Redis outage): the stall comes later.
    await waitFor(() => Date.now() - readyAt > 400, 'a lease period since the producer connected', 2_000, 20);
    // What a stall longer than the lease leaves: no lease on a run the process still thinks it produces.
    await suite.admin.del(`${prefix}{run:stalled}:lease`);
    const seen = await within(following, 10_000, 'the survivor closes the run');
    expect(seen.at(-1)).toMatchObject({ type: 'run.failed', event: { error: { code: PRODUCER_LOST } } });
    expect(lost).toMatchObject([{ runId: 'stalled', state: 'failing' }]);
    // The stalled producer's next append is refused: the run has one ending.
    await expect(producer.append('stalled', [event(3, { type: 'text.delta', text: 'late' })])).rejects.toThrow(/ended/);
  });
});

describe.runIf(enabled)('a Redis outage longer than the lease', () => {
  it('does not cost a producer its run: it takes its lease back before the survivors reap', async () => {
    const redis = await startRedis({ persistent: true });
    const options: RedisStoreOptions = { url: redis.url, leaseMs: 300, onConnectionChange: () => {} };
    const [producer, survivor] = await Promise.all([createRedisStore(options), createRedisStore(options)]);
    for (const store of [producer, survivor]) store.onFault(() => {});
    try {
      await producer.createRun(record('outage'));
      await producer.append('outage', [event(1, { type: 'run.started', runId: 'outage', agent: 'a', input: null })]);
      await redis.kill();
      const down = Date.now();
      await waitFor(() => Date.now() - down > 600, 'an outage of two lease periods: the lease expires in it', 2_000, 20);
      await redis.restart();
      await waitFor(() => producer.health().ok && survivor.health().ok, 'both stores reconnect');
      // Three lease periods of appends: a survivor that reaped the run would make one of them fail.
      const until = Date.now() + 900;
      let seq = 1;
      while (Date.now() < until) {
        await producer.append('outage', [event(++seq, { type: 'text.delta', text: '.' })]);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await producer.append('outage', [event(++seq, { type: 'run.finished' })]);
      expect(await survivor.getRun('outage')).toMatchObject({ status: 'finished', lastSeq: seq });
    } finally {
      await Promise.all([producer.close(), survivor.close()]);
      await redis.stop();
    }
  });
});

describe.runIf(enabled)('the reaper', () => {
  it('closes the runs of a lost producer even when one of them cannot be read, and tells of that one', async () => {
    const redis = await startRedis();
    const admin = new Redis(redis.url);
    const options: RedisStoreOptions = { url: redis.url, leaseMs: 300, onConnectionChange: () => {} };
    const [producer, survivor] = await Promise.all([createRedisStore(options), createRedisStore(options)]);
    const faults: StoreFault[] = [];
    survivor.onFault((fault) => faults.push(fault));
    try {
      for (const id of ['a-broken', 'b-orphan']) {
        await producer.createRun(record(id));
        await producer.append(id, [event(1, { type: 'run.started', runId: id, agent: 'a', input: null })]);
      }
      await admin.del('aw:{run:a-broken}:events');
      await admin.set('aw:{run:a-broken}:events', 'not a stream');
      const following = followAll(survivor, 'b-orphan');
      await producer.close(); // a crash: neither lease is renewed
      const seen = await within(following, 10_000, 'the survivor closes the readable run');
      expect(seen.at(-1)).toMatchObject({ type: 'run.failed', event: { error: { code: PRODUCER_LOST } } });
      await waitFor(() => faults.find((fault) => fault.operation === 'reap' && fault.runId === 'a-broken'), 'the unreadable run is reported');
    } finally {
      await survivor.close();
      await producer.close();
      admin.disconnect();
      await redis.stop();
    }
  });
});

describe.runIf(enabled).each(REDIS_BACKENDS)('Redis faults under live gateways on $name', ({ start: startBackend }) => {
  let redis: RedisBackend;
  let prefixes = 0;
  const opened: { gateway: Gateway; server: ListeningGateway; store: RedisStore }[] = [];
  beforeAll(async () => {
    redis = await startBackend();
  }, 60_000);
  afterEach(async () => {
    await redis.everyNode('ACL', 'SETUSER', 'default', '+@all').catch(() => {});
    await redis.everyNode('CONFIG', 'SET', 'maxmemory', '0').catch(() => {});
    for (const { server, store } of opened.splice(0)) {
      await server.close({ deadlineMs: 500 });
      await store.close();
    }
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** Gateways on one Redis (one key prefix per test), each with its own store and a logger that keeps its lines. */
  async function gateways(count: number, storeOptions: RedisStoreOptions = {}) {
    const keyPrefix = `aw:faults${++prefixes}:`;
    return Promise.all(
      Array.from({ length: count }, async () => {
        const store = await createRedisStore({ url: redis.url, keyPrefix, leaseMs: 1000, onConnectionChange: () => {}, ...storeOptions });
        const logger = memoryLogger();
        const gateway = createGateway({ agents, store, logger, graceMs: 'continue', uiDir: false });
        const server = await listen(gateway, { port: 0 });
        opened.push({ gateway, server, store });
        return { gateway, server, store, logger, url: server.url, keyPrefix };
      }),
    );
  }

  async function start(url: string, input: unknown = {}): Promise<string> {
    const response = await fetch(`${url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'ticking', input }) });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  }

  /** Reads a stream until it ends; returns its events (a broken connection rejects). */
  async function readStream(url: string, onEvent?: (event: AgentEvent) => void | Promise<void>): Promise<AgentEvent[]> {
    const connection = await openSse(url);
    const events: AgentEvent[] = [];
    for await (const message of connection.messages) {
      const parsed = JSON.parse(message.data) as AgentEvent;
      events.push(parsed);
      await onEvent?.(parsed);
    }
    return events;
  }

  it('a Redis restart without persistence ends every open stream on every gateway with AW_LOG_LOST, and a resume answers 404', async () => {
    const [a, b] = await gateways(2);
    const id = await start(a!.url);
    const onA = readStream(`${a!.url}/api/runs/${id}/events`);
    const seenOnB: AgentEvent[] = [];
    const onB = readStream(`${b!.url}/api/runs/${id}/events`, (parsed) => void seenOnB.push(parsed));
    await waitFor(() => seenOnB.length >= 5, 'the run streams on B');
    await redis.restartEmpty();
    const [eventsA, eventsB] = await within(Promise.all([onA, onB]), 15_000, 'both streams end after the log was lost');
    for (const events of [eventsA, eventsB]) {
      const last = events.at(-1) as AgentEvent & { error?: { code: string } };
      expect(last.type).toBe('run.failed');
      expect(last.error?.code).toBe('AW_LOG_LOST');
      // The end continues the sequence the client saw.
      expect(last.seq).toBe((events.at(-2)?.seq ?? 0) + 1);
    }
    for (const gateway of [a!, b!]) {
      const resumed = await fetch(`${gateway.url}/api/runs/${id}/events`, { headers: { 'last-event-id': String(eventsB.at(-1)?.seq) } });
      expect(resumed.status).toBe(404);
    }
    expect(b!.logger.lines.filter((line) => line.object.operation === 'log_lost')).toHaveLength(1);
  }, 30_000);

  it('a run whose key is not a stream ends alone with AW_LOG_LOST; the other runs keep streaming', async () => {
    const [a, b] = await gateways(2);
    const [broken, healthy] = [await start(a!.url), await start(a!.url)];
    const healthyEvents: AgentEvent[] = [];
    const onHealthy = readStream(`${b!.url}/api/runs/${healthy}/events`, (parsed) => void healthyEvents.push(parsed));
    const seenBroken: AgentEvent[] = [];
    const onBroken = readStream(`${b!.url}/api/runs/${broken}/events`, (parsed) => void seenBroken.push(parsed));
    await waitFor(() => seenBroken.length >= 3 && healthyEvents.length >= 3, 'both runs stream on B');
    // Something else overwrites the run's stream: every XREAD over it answers WRONGTYPE.
    await redis.admin.set(`${b!.keyPrefix}{run:${broken}}:events`, 'not a stream');
    // On a cluster, the producer's refused append makes every follower read the run at once, not at its 5 s sweep.
    const events = await within(onBroken, 4_000, 'the broken run ends, well within the cluster follower\'s sweep');
    expect(events.at(-1)).toMatchObject({ type: 'run.failed', error: { code: 'AW_LOG_LOST' } });
    const before = healthyEvents.length;
    await waitFor(() => healthyEvents.length >= before + 5, 'the healthy run keeps streaming on B');
    const failing = b!.logger.lines.filter((line) => line.object.event === 'store.failing' && line.object.operation === 'follow');
    expect(failing).toHaveLength(1);
    expect(String(failing[0]?.message)).toMatch(/WRONGTYPE/);
    await waitFor(() => b!.logger.lines.some((line) => line.object.event === 'store.recovered' && line.object.operation === 'follow'), 'the follow recovers');
    await fetch(`${a!.url}/api/runs/${healthy}/cancel`, { method: 'POST' });
    await within(onHealthy, 10_000, 'the healthy run ends');
  }, 30_000);

  it('reads Redis refuses are logged once, counted, and answer 503 on /healthz until they clear', async () => {
    const [a, b] = await gateways(2);
    const id = await start(a!.url);
    const seen: AgentEvent[] = [];
    const watching = readStream(`${b!.url}/api/runs/${id}/events`, (parsed) => void seen.push(parsed));
    await waitFor(() => seen.length >= 3, 'the run streams on B');
    // The ACL now refuses XREAD (NOPERM): B's live reads fail while every other command works.
    await redis.everyNode('ACL', 'SETUSER', 'default', '-xread');
    const unhealthy = await waitFor(async () => {
      const response = await fetch(`${b!.url}/healthz`);
      return response.status === 503 ? ((await response.json()) as Record<string, unknown>) : undefined;
    }, '/healthz on B reports the failing reads');
    expect(unhealthy).toMatchObject({ status: 'degraded', redis: 'up', failing: ['follow'] });
    await waitFor(async () => Number((await (await fetch(`${b!.url}/metrics`)).text()).match(/agentwire_store_errors_total\{operation="follow"\} (\d+)/)?.[1] ?? 0) >= 3, 'the failures are counted');
    await redis.everyNode('ACL', 'SETUSER', 'default', '+xread');
    await waitFor(async () => (await fetch(`${b!.url}/healthz`)).status === 200, '/healthz recovers');
    const count = seen.length;
    await waitFor(() => seen.length > count + 3, 'the stream on B goes on');
    const lines = b!.logger.lines.filter((line) => line.object.operation === 'follow');
    expect(lines.map((line) => line.object.event)).toEqual(['store.failing', 'store.recovered']);
    expect(String(lines[0]?.message)).toMatch(/NOPERM/);
    await fetch(`${a!.url}/api/runs/${id}/cancel`, { method: 'POST' });
    expect((await within(watching, 10_000, 'the stream ends')).at(-1)?.type).toBe('run.cancelled');
  }, 30_000);

  it('refused lease renewals (OOM) are logged once, counted, and answer 503 on /healthz until they clear', async () => {
    const [a] = await gateways(1);
    // A quiet run (one event, then a long wait): only the lease renewals meet the refusals.
    const id = await start(a!.url, { intervalMs: 60_000 });
    await redis.everyNode('CONFIG', 'SET', 'maxmemory', '1');
    const unhealthy = await waitFor(async () => {
      const response = await fetch(`${a!.url}/healthz`);
      return response.status === 503 ? ((await response.json()) as Record<string, unknown>) : undefined;
    }, '/healthz reports the failing renewals');
    expect(unhealthy).toMatchObject({ redis: 'up', failing: expect.arrayContaining(['lease']) });
    await redis.everyNode('CONFIG', 'SET', 'maxmemory', '0');
    await waitFor(async () => (await fetch(`${a!.url}/healthz`)).status === 200, '/healthz recovers');
    const lines = a!.logger.lines.filter((line) => line.object.operation === 'lease');
    expect(lines[0]).toMatchObject({ level: 'error', object: { event: 'store.failing' } });
    expect(String(lines[0]?.message)).toMatch(/OOM/);
    expect(lines.filter((line) => line.object.event === 'store.failing')).toHaveLength(1);
    expect(await (await fetch(`${a!.url}/metrics`)).text()).toMatch(/agentwire_store_errors_total\{operation="lease"\} [1-9]/);
    await fetch(`${a!.url}/api/runs/${id}/cancel`, { method: 'POST' });
  }, 30_000);

  it('sent no command that spans two slots through all of the above (since the restart)', async () => {
    expect((await redis.errors()).CROSSSLOT ?? 0).toBe(0);
  });
});
