import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RedisServer, redisSuitesEnabled, startRedis } from '../../test/helpers/redis-server.js';
import { redisSuite } from '../../test/helpers/redis-suite.js';
import { waitFor, within } from '../../test/helpers/wait.js';
import type { AgentEvent, EventBody } from '../protocol/events.js';
import { reduceAll } from '../reducer/reduce.js';
import { runStoreContract } from '../store/store-contract.js';
import { type RunRecord, type StoredEvent, toStoredEvent } from '../store/store.js';
import { PRODUCER_LOST, type RedisStore, type RedisStoreOptions, createRedisStore } from './redis-store.js';

const enabled = redisSuitesEnabled('RedisStore contract');

describe.runIf(enabled)('RedisStore', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  // One key prefix per test: the contract assumes a fresh store, and owners ('alice') recur across tests.
  let stores = 0;
  runStoreContract('RedisStore', () => createRedisStore({ url: redis.url, leaseMs: 2000, keyPrefix: `aw:contract${++stores}:` }));
  // state() from checkpoints (while running, at every seq), not only from the final one and the log.
  runStoreContract('RedisStore, a state checkpoint every event', () =>
    createRedisStore({ url: redis.url, leaseMs: 2000, keyPrefix: `aw:contract${++stores}:`, stateCheckpointEvents: 1 }),
  );
});

describe.runIf(enabled)('RedisStore across processes (several stores on one Redis)', () => {
  const suite = redisSuite();
  let prefixes = 0;
  let prefix = '';
  beforeEach(() => {
    prefix = `aw:multi${++prefixes}:`;
  });
  async function open(options: RedisStoreOptions = {}): Promise<RedisStore> {
    const store = await createRedisStore({ url: suite.redis.url, keyPrefix: prefix, leaseMs: 2000, onConnectionChange: () => {}, ...options });
    suite.track(store);
    return store;
  }
  const record = (id: string): RunRecord => ({ id, agent: 'a', owner: undefined, createdAt: Date.now(), status: 'running', endedAt: undefined, lastSeq: 0 });
  const event = (seq: number, body: EventBody): StoredEvent => toStoredEvent({ ...body, seq, at: Date.now() } as AgentEvent);

  it('two writers racing on one run never leave a gap or a duplicate: Redis refuses the loser of each seq', async () => {
    const [first, second] = [await open(), await open()];
    await first.createRun(record('race'));
    await first.append('race', [event(1, { type: 'run.started', runId: 'race', agent: 'a', input: null })]);
    let accepted = 0;
    for (let seq = 2; seq <= 200; seq++) {
      const results = await Promise.allSettled(
        [first, second].map((store, writer) => store.append('race', [event(seq, { type: 'text.delta', text: `writer ${writer} seq ${seq}` })])),
      );
      const wins = results.filter((result) => result.status === 'fulfilled').length;
      expect(wins, `seq ${seq}`).toBe(1);
      accepted += wins;
    }
    expect(accepted).toBe(199);
    expect((await second.read('race', 0)).map((stored) => stored.seq)).toEqual(Array.from({ length: 200 }, (_, index) => index + 1));
    // A writer that skips ahead is refused too.
    await expect(first.append('race', [event(202, { type: 'text.delta', text: 'gap' })])).rejects.toThrow(/expected seq 201/);
  });

  it('keeps every key of a run in one hash slot and puts the retention TTL on them when it ends', async () => {
    const store = await open({ retentionMs: 60_000 });
    await store.createRun(record('ttl'));
    await store.append('ttl', [event(1, { type: 'run.started', runId: 'ttl', agent: 'a', input: null })]);
    const keys = (await suite.admin.keys(`${prefix}{run:ttl}*`)).sort();
    expect(keys).toEqual([`${prefix}{run:ttl}:events`, `${prefix}{run:ttl}:lease`, `${prefix}{run:ttl}:meta`]);
    expect(await suite.admin.pttl(`${prefix}{run:ttl}:meta`)).toBe(-1);
    await store.append('ttl', [event(2, { type: 'run.finished' })]);
    for (const key of [`${prefix}{run:ttl}:meta`, `${prefix}{run:ttl}:events`, `${prefix}{run:ttl}:state`]) {
      const ttl = await suite.admin.pttl(key);
      expect(ttl, key).toBeGreaterThan(50_000);
      expect(ttl, key).toBeLessThanOrEqual(60_000);
    }
    expect(await suite.admin.exists(`${prefix}{run:ttl}:lease`)).toBe(0);
  });

  it('follows many runs for many subscribers over one XREAD loop and three connections per process', async () => {
    const producer = await open();
    const reader = await open({ gatewayId: 'reader' });
    const runs = Array.from({ length: 10 }, (_, index) => `fan${index}`);
    for (const runId of runs) {
      await producer.createRun(record(runId));
      await producer.append(runId, [event(1, { type: 'run.started', runId, agent: 'a', input: null })]);
    }
    const followers = runs.flatMap((runId) =>
      Array.from({ length: 20 }, async () => {
        const seen: number[] = [];
        for await (const batch of reader.follow(runId, 0)) seen.push(...batch.map((stored) => stored.seq));
        return seen;
      }),
    );
    await waitFor(() => reader.followerStats.runs === 10, 'the loop follows all 10 runs');
    for (let seq = 2; seq <= 30; seq++) {
      for (const runId of runs) await producer.append(runId, [event(seq, seq === 30 ? { type: 'run.finished' } : { type: 'text.delta', text: `${seq}` })]);
    }
    const results = await within(Promise.all(followers), 10_000, '200 followers');
    for (const seen of results) expect(seen).toEqual(Array.from({ length: 30 }, (_, index) => index + 1));
    // 200 subscribers of 10 runs: the loop issued far fewer reads than events delivered (200 × 29 live).
    expect(reader.followerStats.reads).toBeLessThan(29 * 10 + 20);
    const clients = (await suite.admin.client('LIST')) as string;
    expect(clients.split('\n').filter((line) => line.includes('cmd=')).length).toBe(3 + 3 + 1); // two stores and this admin
  });

  it('delivers a cancel requested through one process to the producing process', async () => {
    const producer = await open();
    const other = await open();
    await producer.createRun(record('cancel'));
    await producer.append('cancel', [event(1, { type: 'run.started', runId: 'cancel', agent: 'a', input: null })]);
    const reasons: string[] = [];
    producer.onCancel('cancel', (reason) => reasons.push(reason));
    expect(await other.requestCancel('cancel', 'stop from B')).toBe(true);
    await waitFor(() => reasons.length > 0, 'the cancel reaches the producer');
    expect(reasons).toEqual(['stop from B']);
  });

  it('shares subscriber presence, so the producer does not cancel a run watched only elsewhere', async () => {
    const producer = await open();
    const other = await open();
    await producer.createRun(record('watched'));
    expect(await producer.hasSubscribers('watched')).toBe(false);
    const release = other.addSubscriber('watched');
    await waitFor(() => producer.hasSubscribers('watched'), 'presence announced');
    release();
    await waitFor(async () => !(await producer.hasSubscribers('watched')), 'presence withdrawn');
  });

  it('closes a run whose producer died with step.finished for open steps, then run.failed producer_lost', async () => {
    const dying = await open({ leaseMs: 300 });
    const survivor = await open({ leaseMs: 300 });
    await dying.createRun(record('lost'));
    await dying.append('lost', [
      event(1, { type: 'run.started', runId: 'lost', agent: 'a', input: null }),
      event(2, { type: 'step.started', stepId: 's1', title: 'outer' }),
      event(3, { type: 'step.started', stepId: 's2', parentId: 's1', title: 'inner' }),
      event(4, { type: 'text.delta', text: 'partial' }),
    ]);
    const following = (async () => {
      const seen: StoredEvent[] = [];
      for await (const batch of survivor.follow('lost', 0)) seen.push(...batch);
      return seen;
    })();
    await dying.close(); // a crash: the lease is no longer renewed
    const seen = await within(following, 10_000, 'the survivor closes the run');
    expect(seen.map((stored) => [stored.seq, stored.type])).toEqual([
      [1, 'run.started'],
      [2, 'step.started'],
      [3, 'step.started'],
      [4, 'text.delta'],
      [5, 'step.finished'],
      [6, 'step.finished'],
      [7, 'run.failed'],
    ]);
    expect(seen.slice(4, 6).map((stored) => (stored.event as { stepId: string }).stepId)).toEqual(['s2', 's1']);
    expect(seen[6]?.event).toMatchObject({ error: { code: PRODUCER_LOST } });
    expect(await survivor.getRun('lost')).toMatchObject({ status: 'failed', lastSeq: 7 });
  });

  it('caps a long run stream and gives a reader that is behind a run.snapshot, then every later event', async () => {
    const store = await open({ maxEventsPerRun: 10 });
    await store.createRun(record('long'));
    const all: StoredEvent[] = [event(1, { type: 'run.started', runId: 'long', agent: 'a', input: null }), event(2, { type: 'step.started', stepId: 's1', title: 'work' })];
    for (let seq = 3; seq <= 60; seq++) all.push(event(seq, { type: 'text.delta', text: `${seq} `, stepId: 's1' }));
    await suite.admin.config('RESETSTAT');
    for (let index = 0; index < all.length; index += 3) {
      await store.append('long', all.slice(index, index + 3));
      await store.snapshotsSettled();
    }
    // The producer snapshots the state it folded as it appended: it reads nothing back.
    expect(await suite.admin.info('commandstats')).not.toMatch(/cmdstat_xrange:/);
    expect(await suite.admin.xlen(`${prefix}{run:long}:events`)).toBeLessThanOrEqual(10 + 5 + 3);
    const read = await store.read('long', 0);
    const snapshot = read[0] as StoredEvent;
    expect(snapshot.type).toBe('run.snapshot');
    expect(read.slice(1).map((stored) => stored.seq)).toEqual(range(snapshot.seq + 1, 60));
    // The snapshot stands exactly for the events it replaced.
    expect((snapshot.event as { state: unknown }).state).toEqual(reduceAll(all.slice(0, snapshot.seq).map((stored) => stored.event)));
    // A follower from 0 gets the same: the snapshot, then the rest to the terminal event.
    const following = (async () => {
      const seen: StoredEvent[] = [];
      for await (const batch of store.follow('long', 0, { maxBatch: 4 })) seen.push(...batch);
      return seen;
    })();
    await store.append('long', [event(61, { type: 'step.finished', stepId: 's1', status: 'complete' }), event(62, { type: 'run.finished' })]);
    const seen = await within(following, 5000, 'follow of a capped run');
    expect(seen[0]?.type).toBe('run.snapshot');
    expect(seen.slice(1).map((stored) => stored.seq)).toEqual(range((seen[0] as StoredEvent).seq + 1, 62));
    // A reader within the retained tail is not given a snapshot.
    expect((await store.read('long', 58)).map((stored) => stored.seq)).toEqual([59, 60, 61, 62]);
    expect(await suite.admin.pttl(`${prefix}{run:long}:snapshot`)).toBeGreaterThan(0);
  });

  /** `store.state(...)` and what it cost: round trips, stream entries parsed, whether it folded the log. */
  async function measuredState(store: RedisStore, runId: string, at?: number) {
    const before = store.stateStats;
    const state = await store.state(runId, at);
    const after = store.stateStats;
    return { state, roundTrips: after.roundTrips - before.roundTrips, parsed: after.parsedEvents - before.parsedEvents, fallbacks: after.fallbacks - before.fallbacks };
  }
  /** Event `seq` of a long run whose state stays small: status lines, a progress value, now and then a log line or a word. */
  const longRunEvent = (runId: string, seq: number): StoredEvent => {
    if (seq === 1) return event(1, { type: 'run.started', runId, agent: 'a', input: null });
    if (seq === 2) return event(2, { type: 'step.started', stepId: 's1', title: 'work' });
    if (seq % 1000 === 0) return event(seq, { type: 'step.log', stepId: 's1', text: `line ${seq}` });
    if (seq % 100 === 0) return event(seq, { type: 'text.delta', text: `${seq} ` });
    return seq % 10 === 0 ? event(seq, { type: 'data', name: 'progress', value: seq }) : event(seq, { type: 'status', message: `working on ${seq}` });
  };

  it('serves state() of a 100,000-event run from checkpoints: a read parses at most an interval of events, on any gateway, running or ended', async () => {
    const producer = await open();
    const reader = await open({ gatewayId: 'reader' });
    await producer.createRun(record('big'));
    const all: StoredEvent[] = [];
    const reads: { events: number; roundTrips: number; parsed: number; fallbacks: number }[] = [];
    for (const mark of [1_000, 10_000, 50_000, 100_000]) {
      // Batches of 100: a read falls anywhere between two checkpoints (every 256 events at least).
      while (all.length < mark) {
        const batch = range(all.length + 1, all.length + 100).map((seq) => longRunEvent('big', seq));
        await producer.append('big', batch);
        all.push(...batch);
      }
      const { state, ...cost } = await measuredState(reader, 'big');
      expect(state, `state after ${mark} events`).toEqual(reduceAll(all.map((stored) => stored.event)));
      reads.push({ events: mark, ...cost });
    }
    await producer.snapshotsSettled();
    // The same work at 1,000 events as at 100,000: one round trip for the record and the checkpoint, one for the events after it.
    for (const read of reads) {
      expect(read.fallbacks, `${read.events} events`).toBe(0);
      expect(read.parsed, `${read.events} events`).toBeLessThan(256 + 100);
      expect(read.roundTrips, `${read.events} events`).toBeLessThanOrEqual(2);
    }
    // A resume d events behind the tail folds from a checkpoint before it, in proportion to d.
    for (const behind of [1, 150, 1_000, 3_000]) {
      const at = all.length - behind;
      const resumed = await measuredState(reader, 'big', at);
      expect(resumed.state, `state at ${at}`).toEqual(reduceAll(all.slice(0, at).map((stored) => stored.event)));
      expect(resumed.fallbacks, `at ${at}`).toBe(0);
      expect(resumed.parsed, `at ${at}`).toBeLessThanOrEqual(8 * behind + 2 * (256 + 100));
    }
    // Ended: the final checkpoint is the state, read in one round trip, nothing parsed; kept with the run's TTL.
    await producer.append('big', [event(all.length + 1, { type: 'run.finished', output: 'done' })]);
    const full = reduceAll((await reader.read('big', 0)).map((stored) => stored.event));
    expect(full.status).toBe('finished');
    const ended = await measuredState(reader, 'big');
    expect(ended).toEqual({ state: full, roundTrips: 1, parsed: 0, fallbacks: 0 });
    expect(await suite.admin.pttl(`${prefix}{run:big}:state`)).toBeGreaterThan(0);
    expect(await suite.admin.hlen(`${prefix}{run:big}:state`)).toBeLessThanOrEqual(6);
    // A gateway started afterwards (a restart) reads the same, as cheaply.
    await producer.close();
    await reader.close();
    const restarted = await open({ gatewayId: 'restarted' });
    expect(await measuredState(restarted, 'big')).toEqual({ state: full, roundTrips: 1, parsed: 0, fallbacks: 0 });
  }, 120_000);

  it('folds the closing events a survivor appends for a lost producer onto its last checkpoint, which takes the TTL', async () => {
    const dying = await open({ leaseMs: 300, stateCheckpointEvents: 10 });
    const survivor = await open({ leaseMs: 300, retentionMs: 60_000 });
    await dying.createRun(record('orphan'));
    const all = range(1, 95).map((seq) => longRunEvent('orphan', seq));
    for (let index = 0; index < all.length; index += 5) await dying.append('orphan', all.slice(index, index + 5));
    const running = await measuredState(survivor, 'orphan');
    expect(running.state).toEqual(reduceAll(all.map((stored) => stored.event)));
    expect(running.parsed).toBeLessThan(10 + 5);
    await dying.close(); // a crash: the survivor closes the run as producer_lost
    await waitFor(async () => (await survivor.getRun('orphan'))?.status === 'failed', 'the survivor closes the run', 10_000);
    const closed = await measuredState(survivor, 'orphan');
    expect(closed.state).toEqual(reduceAll((await survivor.read('orphan', 0)).map((stored) => stored.event)));
    expect(closed.state).toMatchObject({ status: 'failed', error: { code: PRODUCER_LOST } });
    expect(closed.fallbacks).toBe(0);
    expect(closed.parsed).toBeLessThan(10 + 5 + 2);
    const ttl = await suite.admin.pttl(`${prefix}{run:orphan}:state`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('does not close a run whose producer is alive and renewing its lease', async () => {
    const producer = await open({ leaseMs: 300 });
    const survivor = await open({ leaseMs: 300 });
    await producer.createRun(record('alive'));
    // The lease set by createRun, had it not been renewed, would be expired by then.
    const unrenewedExpiry = Date.now() + 300;
    await producer.append('alive', [event(1, { type: 'run.started', runId: 'alive', agent: 'a', input: null })]);
    // Two complete passes of the survivor's reaper that looked past that expiry.
    await waitFor(() => survivor.reaperStats.scannedUpTo > unrenewedExpiry, 'a reaper pass past the unrenewed lease', 10_000);
    const seen = survivor.reaperStats.scannedUpTo;
    await waitFor(() => survivor.reaperStats.scannedUpTo > seen, 'a second reaper pass', 10_000);
    expect(await producer.getRun('alive')).toMatchObject({ status: 'running', lastSeq: 1 });
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index);
}
