/**
 * The Redis store on a real 3-master Redis Cluster (Debian's redis-server, started by the test):
 * the whole store contract, runs spread over every node, no command spanning two slots, and two
 * `agentwire serve --redis redis-cluster://…` gateways streaming runs on many slots to each other,
 * including a producer killed with SIGKILL whose run a survivor closes.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentEvent, EventBody } from '../src/protocol/events.js';
import { isAgentwireError } from '../src/protocol/errors.js';
import { parseClusterUrl } from '../src/redis/connect.js';
import { createRedisStore } from '../src/redis/redis-store.js';
import { runStoreContract } from '../src/store/store-contract.js';
import { type StoredEvent, toStoredEvent } from '../src/store/store.js';
import { ROOT, type ServeProcess, startServe } from './helpers/process.js';
import { resumeAfter, watchUntilKilled } from './helpers/kill-and-resume.js';
import { type RedisCluster, clusterErrors, startRedisCluster } from './helpers/redis-cluster.js';
import { redisSuitesEnabled } from './helpers/redis-server.js';
import { collectEvents, range, seqs, startRun } from './helpers/sse-client.js';
import { waitFor, within } from './helpers/wait.js';

const enabled = redisSuitesEnabled('Redis Cluster suite');
const AGENTS = `${ROOT}test/fixtures/paced-agents.mjs`;

describe('redis-cluster:// URLs', () => {
  it('name the seed nodes, credentials and TLS', () => {
    expect(parseClusterUrl('redis-cluster://127.0.0.1:7000,10.0.0.2:7001,[::1]:7002')).toEqual({
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    });
    expect(parseClusterUrl('rediss-cluster://agent:p%40ss@cache:6380')).toEqual({ nodes: [{ host: 'cache', port: 6380 }], username: 'agent', password: 'p@ss', tls: true });
    expect(parseClusterUrl('redis-cluster://:secret@cache')).toEqual({ nodes: [{ host: 'cache', port: 6379 }], password: 'secret', tls: false });
  });

  it('refuses a URL without a node or with a malformed one with AW_INVALID_OPTION, keeping the password out of the message', async () => {
    for (const url of ['redis-cluster://', 'redis-cluster://:secret@', 'redis-cluster://a:1,b:port', 'redis-cluster://a:1/0']) {
      let caught: unknown;
      try {
        await createRedisStore({ url });
      } catch (error) {
        caught = error;
      }
      expect(isAgentwireError(caught) && caught.code, url).toBe('AW_INVALID_OPTION');
      expect(String((caught as Error).message)).toMatch(/expected redis-cluster:\/\/\[user:password@\]host:port/);
      expect(String((caught as Error).message)).not.toContain('secret');
    }
  });
});

describe.runIf(enabled)('RedisStore on a 3-master Redis Cluster', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  let stores = 0;
  runStoreContract('RedisStore on a Redis Cluster', () => createRedisStore({ url: cluster.url, leaseMs: 2000, keyPrefix: `aw:cluster${++stores}:`, onConnectionChange: () => {} }));

  it('spreads runs over every node, each run on one slot, and lists them across slots by owner', async () => {
    const store = await createRedisStore({ url: cluster.url, keyPrefix: 'aw:spread:', leaseMs: 2000, onConnectionChange: () => {} });
    const nodes = cluster.nodes.map((node) => new Redis(node.url));
    try {
      const ids = Array.from({ length: 30 }, (_, index) => `spread_${index}`);
      for (const [index, id] of ids.entries()) {
        await store.createRun({ id, agent: 'a', owner: index % 2 === 0 ? 'alice' : 'bob', createdAt: Date.now() + index, status: 'running', endedAt: undefined, lastSeq: 0 });
        await store.append(id, [{ seq: 1, type: 'run.started', event: { type: 'run.started', runId: id, agent: 'a', input: null, seq: 1, at: 1 } as AgentEvent, json: '{}' }]);
      }
      // Every node holds some of the runs' keys, and the keys of one run live on one node only.
      const perNode = await Promise.all(nodes.map((node) => node.keys('aw:spread:{run:*')));
      for (const keys of perNode) expect(keys.length).toBeGreaterThan(0);
      for (const id of ids) expect(perNode.filter((keys) => keys.some((key) => key.includes(`{run:${id}}`))).length).toBe(1);
      const alice = await store.listRuns({ owner: 'alice', limit: 100 });
      expect(alice.map((record) => record.id)).toEqual(ids.filter((_, index) => index % 2 === 0).reverse());
      expect((await store.listRuns({ limit: 5 })).map((record) => record.id)).toEqual(ids.slice(-5).reverse());
    } finally {
      nodes.forEach((node) => node.disconnect());
      await store.close();
    }
  });

  it('a follower in another process gets each event on notice, not on the 5 s sweep, also after its pub/sub connection is cut: 20 round trips take well under one sweep', async () => {
    const options = { url: cluster.url, keyPrefix: 'aw:notice:', leaseMs: 2000, onConnectionChange: () => {} };
    const [producer, follower] = [await createRedisStore(options), await createRedisStore(options)];
    const listener = new Redis(cluster.nodes[0]?.url as string);
    try {
      await producer.createRun({ id: 'pingpong', agent: 'a', owner: undefined, createdAt: Date.now(), status: 'running', endedAt: undefined, lastSeq: 0 });
      const stored = (seq: number, body: EventBody): StoredEvent => toStoredEvent({ ...body, seq, at: Date.now() } as AgentEvent);
      await producer.append('pingpong', [stored(1, { type: 'run.started', runId: 'pingpong', agent: 'a', input: null })]);
      // The producer announces each append on the run's channel (pub/sub reaches every node, over
      // the cluster bus, not necessarily in order); each notice names its seq.
      const notices: string[] = [];
      await listener.subscribe('aw:notice:{run:pingpong}:appended');
      listener.on('message', (_channel: string, message: string) => notices.push(message));
      const iterator = follower.follow('pingpong', 1)[Symbol.asyncIterator]();
      let next = iterator.next();
      await waitFor(() => follower.followerStats.runs === 1, 'the follower follows the run');
      const started = Date.now();
      for (let seq = 2; seq <= 21; seq++) {
        if (seq > 2) next = iterator.next();
        if (seq === 11) {
          // Every pub/sub connection is cut: the follower's subscriber reconnects and subscribes again.
          await waitFor(() => range(2, 10).every((sent) => notices.includes(String(sent))), 'a notice for each append so far');
          for (const node of cluster.nodes) {
            const admin = new Redis(node.url);
            await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub').finally(() => admin.disconnect());
          }
        }
        await producer.append('pingpong', [stored(seq, seq === 21 ? { type: 'run.finished' } : { type: 'text.delta', text: String(seq) })]);
        const result = await within(next, 10_000, `event ${seq} on the follower`);
        expect(result.value?.map((event: StoredEvent) => event.seq)).toEqual([seq]);
      }
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      listener.disconnect();
      await Promise.all([producer.close(), follower.close()]);
    }
  });

  it('passes clusterOptions to the ioredis Cluster and its nodes, the follower\'s subscriber included', async () => {
    const store = await createRedisStore({ url: cluster.url, keyPrefix: 'aw:options:', clusterOptions: { redisOptions: { connectionName: 'aw-options-test' } }, onConnectionChange: () => {} });
    try {
      await store.createRun({ id: 'named', agent: 'a', owner: undefined, createdAt: Date.now(), status: 'running', endedAt: undefined, lastSeq: 0 });
      const iterator = store.follow('named', 0)[Symbol.asyncIterator]();
      const next = iterator.next();
      await waitFor(() => store.followerStats.runs === 1, 'the store follows the run');
      const named = async () => {
        const lists = await Promise.all(cluster.nodes.map(async (node) => {
          const client = new Redis(node.url);
          try {
            return (await client.call('CLIENT', 'LIST')) as string;
          } finally {
            client.disconnect();
          }
        }));
        return lists.join('\n').split('\n').filter((line) => line.includes('name=aw-options-test'));
      };
      const lines = await waitFor(async () => {
        const found = await named();
        return found.some((line) => / sub=[1-9]/.test(line)) ? found : undefined;
      }, 'a named subscriber connection');
      expect(lines.length).toBeGreaterThan(1);
      await store.append('named', [toStoredEvent({ type: 'run.finished', seq: 1, at: Date.now() } as AgentEvent)]);
      expect((await next).value?.map((event: StoredEvent) => event.seq)).toEqual([1]);
    } finally {
      await store.close();
    }
  });

  it('a store closed before its cluster client subscribed to the cancel channel tells no fault', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const store = await createRedisStore({ url: cluster.url, keyPrefix: 'aw:close:', onConnectionChange: () => {} });
      const faults: string[] = [];
      store.onFault((fault) => faults.push(`${fault.operation}: ${fault.message}`));
      await store.close();
      expect(faults, `attempt ${attempt}`).toEqual([]);
    }
  });

  it('sent no command that spans two slots, and needed no redirection, through all of the above', async () => {
    const errors = await clusterErrors(cluster);
    expect(errors.CROSSSLOT ?? 0).toBe(0);
    expect(errors.MOVED ?? 0).toBe(0);
    expect(errors.ASK ?? 0).toBe(0);
  });
});

describe.runIf(enabled)('two gateways on a 3-master Redis Cluster', () => {
  let cluster: RedisCluster;
  let a: ServeProcess;
  let b: ServeProcess;
  const gateway = () => startServe(['--redis', cluster.url, '--agent-module', AGENTS, '--redis-lease', '1000']);
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    [a, b] = await Promise.all([gateway(), gateway()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await cluster?.stop();
  });

  it('runs produced on A on many slots stream whole, in order, through B, on notice (well within one 5 s sweep), and read back identically on A', async () => {
    const started = Date.now();
    const runs = await Promise.all(Array.from({ length: 12 }, () => startRun(a.url, { agent: 'paced', input: { count: 40, intervalMs: 5 } })));
    const watched = await within(Promise.all(runs.map(({ id }) => collectEvents(`${b.url}/api/runs/${id}/events`))), 30_000, 'twelve streams on B');
    // Produced in ~0.3 s; a run whose notices B missed would wait for the sweep.
    expect(Date.now() - started).toBeLessThan(3000);
    for (const [index, { events }] of watched.entries()) {
      expect(seqs(events), runs[index]?.id).toEqual(range(1, events.length));
      expect(events.at(-1)).toMatchObject({ type: 'run.finished', output: { count: 40 } });
      const replay = await collectEvents(`${a.url}/api/runs/${runs[index]?.id}/events`);
      expect(JSON.stringify(replay.events)).toBe(JSON.stringify(events));
    }
  });

  it('kill -9 of the producing gateway: a client resuming on B loses and repeats nothing, and the run ends with producer_lost', async () => {
    const doomed = await gateway();
    const { id } = await startRun(doomed.url, { agent: 'paced', input: { count: 5000, intervalMs: 10 } });
    const seen = await watchUntilKilled(doomed, id, 25);
    const all = await resumeAfter(b.url, id, seen, 'the run closes on B');
    expect(seqs(all)).toEqual(range(1, all.length));
    expect(all.at(-1)).toMatchObject({ type: 'run.failed', error: { code: 'producer_lost' } });
  }, 40_000);

  it('the gateways sent no command that spans two slots', async () => {
    expect((await clusterErrors(cluster)).CROSSSLOT ?? 0).toBe(0);
  });
});
