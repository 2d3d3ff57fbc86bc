import { describe, expect, it } from 'vitest';
import { redisSuitesEnabled } from '../../test/helpers/redis-server.js';
import { redisSuite } from '../../test/helpers/redis-suite.js';
import { waitFor, within } from '../../test/helpers/wait.js';
import type { AgentEvent, EventBody } from '../protocol/events.js';
import { type RunRecord, type StoredEvent, toStoredEvent } from '../store/store.js';
import { reissueDelay } from './blocking-reader.js';
import { READ_PAGE } from './read-stream.js';
import { type RedisStore, createRedisStore } from './redis-store.js';

const enabled = redisSuitesEnabled('Redis follower cost');

const record = (id: string): RunRecord => ({ id, agent: 'a', owner: undefined, createdAt: Date.now(), status: 'running', endedAt: undefined, lastSeq: 0 });
const event = (seq: number, body: EventBody): StoredEvent => toStoredEvent({ ...body, seq, at: Date.now() } as AgentEvent);

describe.runIf(enabled)('the Redis follower: cost per new subscription and per read', () => {
  const suite = redisSuite();
  let prefixes = 0;
  async function open(prefix: string): Promise<RedisStore> {
    const store = await createRedisStore({ url: suite.redis.url, keyPrefix: prefix, leaseMs: 5000, onConnectionChange: () => {} });
    suite.track(store);
    return store;
  }
  async function xrangeCalls(): Promise<number> {
    const stats = (await suite.admin.info('commandstats')) as string;
    return Number(/cmdstat_xrange:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  }

  it('a trickle of new subscriptions re-issues the blocking XREAD at a bounded rate, not once per new run', async () => {
    const prefix = `aw:trickle${++prefixes}:`;
    const [producer, gateway] = [await open(prefix), await open(prefix)];
    const runs = 300;
    const ids = Array.from({ length: runs }, (_, index) => `trickle_${index}`);
    for (const id of ids) {
      await producer.createRun(record(id));
      await producer.append(id, [event(1, { type: 'run.started', runId: id, agent: 'a', input: null })]);
    }
    const firsts: Promise<IteratorResult<StoredEvent[]>>[] = [];
    const readsBefore = gateway.followerStats.reads;
    const started = Date.now();
    // One new subscriber per timer tick, as HTTP requests arrive: every one cut the read on the old loop.
    for (const id of ids) {
      firsts.push(gateway.follow(id, 1)[Symbol.asyncIterator]().next());
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await waitFor(() => gateway.followerStats.runs === runs, `the gateway follows all ${runs} runs`);
    const elapsed = Date.now() - started;
    const reads = gateway.followerStats.reads - readsBefore;
    // No events flow meanwhile, so every read ended with a cut: at most one per reissueDelay.
    expect(reads, `${reads} reads in ${elapsed} ms`).toBeLessThanOrEqual(Math.ceil(elapsed / reissueDelay(0)) + 3);
    expect(reads).toBeLessThan(runs / 3);
    // And every followed run still gets its next event through the loop, from the other process.
    await Promise.all(ids.map((id) => producer.append(id, [event(2, { type: 'run.finished' })])));
    const delivered = await within(Promise.all(firsts), 10_000, 'every run delivers its terminal event');
    for (const result of delivered) expect(result.value?.map((stored: StoredEvent) => stored.seq)).toEqual([2]);
  });

  it('read() of a long run pages through XRANGE with COUNT and still returns every event once, in order', async () => {
    const store = await open(`aw:pages${++prefixes}:`);
    const total = READ_PAGE * 2 + 500;
    await store.createRun(record('long'));
    const events = [event(1, { type: 'run.started', runId: 'long', agent: 'a', input: null })];
    for (let seq = 2; seq <= total; seq++) events.push(event(seq, { type: 'text.delta', text: `t${seq}` }));
    for (let start = 0; start < events.length; start += 500) await store.append('long', events.slice(start, start + 500));
    const before = await xrangeCalls();
    const all = await store.read('long', 0);
    const calls = (await xrangeCalls()) - before;
    expect(all.map((stored) => stored.seq)).toEqual(events.map((stored) => stored.seq));
    expect(calls).toBe(Math.ceil((total + 1) / READ_PAGE));
    // A read after a cursor pages from there.
    expect((await store.read('long', total - 3)).map((stored) => stored.seq)).toEqual([total - 2, total - 1, total]);
  });
});
