/**
 * The state of a long run on Redis, asked of a gateway that does not produce it: `GET
 * /api/runs/:id` and the AG-UI resume read the producer's checkpoint and the few events after
 * it, so the work per request does not grow with the run, while running and once it ended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentFunction } from '../src/producer/agent.js';
import { reduceAll } from '../src/reducer/reduce.js';
import type { RunState } from '../src/protocol/run-state.js';
import { type RedisStore, createRedisStore } from '../src/redis/redis-store.js';
import { type RedisServer, redisSuitesEnabled, startRedis } from './helpers/redis-server.js';
import { type TestServer, startNodeServer } from './helpers/servers.js';
import { openSse, startRun } from './helpers/sse-client.js';
import { deferred, waitFor } from './helpers/wait.js';

const enabled = redisSuitesEnabled('Redis run state');
/** Events the run streams before it waits, then after. */
const HALF = 5_000;

describe.runIf(enabled)('the state of a Redis run, read on a gateway that does not produce it', () => {
  let redis: RedisServer;
  const stores: RedisStore[] = [];
  const servers: TestServer[] = [];
  const resume = deferred();
  const long: AgentFunction = async function* (ctx) {
    for (let index = 0; index < HALF; index++) yield ctx.status(`working on ${index}`);
    await resume.promise;
    for (let index = 0; index < HALF; index++) yield ctx.data('progress', index);
    return 'done';
  };
  let producer: TestServer;
  let reader: TestServer;
  let readerStore: RedisStore;
  beforeAll(async () => {
    redis = await startRedis();
    for (const gatewayId of ['producer', 'reader']) {
      const store = await createRedisStore({ url: redis.url, gatewayId, onConnectionChange: () => {} });
      stores.push(store);
      servers.push(await startNodeServer({ agents: { long }, store, graceMs: 'continue' }));
    }
    [producer, reader] = servers as [TestServer, TestServer];
    readerStore = stores[1] as RedisStore;
  });
  afterAll(async () => {
    resume.resolve();
    for (const server of servers) await server.close();
    for (const store of stores) await store.close();
    await redis?.stop();
  });

  /** What the reader's store did for `request`: round trips, stream entries parsed, folds of the whole log. */
  async function cost<T>(request: () => Promise<T>) {
    const before = readerStore.stateStats;
    const result = await request();
    const after = readerStore.stateStats;
    return { result, roundTrips: after.roundTrips - before.roundTrips, parsed: after.parsedEvents - before.parsedEvents, fallbacks: after.fallbacks - before.fallbacks };
  }
  const logState = async (id: string) => reduceAll((await readerStore.read(id, 0)).map((stored) => stored.event));

  it('GET /api/runs/:id and an AG-UI resume parse at most a checkpoint interval of events, running and ended', async () => {
    const { id } = await startRun(producer.url, { agent: 'long', input: null });
    await waitFor(async () => ((await readerStore.getRun(id))?.lastSeq ?? 0) >= HALF + 1, 'the first half of the run', 20_000);

    const running = await cost(async () => (await fetch(`${reader.url}/api/runs/${id}`)).json() as Promise<RunState>);
    expect(running.result).toEqual(JSON.parse(JSON.stringify(await logState(id))));
    expect(running.result.lastSeq).toBe(HALF + 1);
    expect(running).toMatchObject({ fallbacks: 0, roundTrips: 2 });
    expect(running.parsed).toBeLessThanOrEqual(256);

    // The AG-UI resume 100 events behind: its prelude is built from the state at the cursor.
    const resumed = await cost(async () => {
      const connection = await openSse(`${reader.url}/api/runs/${id}/events?format=ag-ui`, { headers: { 'last-event-id': String(HALF + 1 - 100) } });
      const first = await connection.messages[Symbol.asyncIterator]().next();
      connection.close();
      return first.value;
    });
    expect(resumed.result).toBeDefined();
    expect(resumed.fallbacks).toBe(0);
    expect(resumed.parsed).toBeLessThanOrEqual(8 * 100 + 2 * 256);

    resume.resolve();
    await waitFor(async () => (await readerStore.getRun(id))?.status === 'finished', 'the run to finish', 20_000);
    const ended = await cost(async () => (await fetch(`${reader.url}/api/runs/${id}`)).json() as Promise<RunState>);
    expect(ended.result).toEqual(JSON.parse(JSON.stringify(await logState(id))));
    expect(ended.result).toMatchObject({ status: 'finished', output: 'done', lastSeq: 2 * HALF + 2 });
    // The final checkpoint is the state: one round trip, nothing parsed.
    expect(ended).toMatchObject({ fallbacks: 0, roundTrips: 1, parsed: 0 });
  }, 60_000);
});
