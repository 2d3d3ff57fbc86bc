/**
 * Redis snapshots: built once per stored snapshot and shared by readers, and bounded like the
 * memory store's (the oldest answer text truncated, with its marker).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisSuitesEnabled, startRedis } from '../../test/helpers/redis-server.js';
import type { AgentEvent, EventBody, RunSnapshotEvent } from '../protocol/events.js';
import { type RunRecord, type StoredEvent, toStoredEvent } from '../store/store.js';
import { type RedisStore, createRedisStore } from './redis-store.js';

const enabled = redisSuitesEnabled('Redis snapshots');

describe.runIf(enabled)('Redis run snapshots', () => {
  let redis: RedisServer;
  const stores: RedisStore[] = [];
  let prefixes = 0;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });
  afterAll(async () => {
    await redis?.stop();
  });
  const record = (id: string): RunRecord => ({ id, agent: 'a', owner: undefined, createdAt: Date.now(), status: 'running', endedAt: undefined, lastSeq: 0 });
  const event = (seq: number, body: EventBody): StoredEvent => toStoredEvent({ ...body, seq, at: Date.now() } as AgentEvent);

  async function longAnswer(tokens: number, size: number): Promise<{ store: RedisStore; all: StoredEvent[] }> {
    const store = await createRedisStore({ url: redis.url, keyPrefix: `aw:snap${++prefixes}:`, maxEventsPerRun: 20, leaseMs: 2000, onConnectionChange: () => {} });
    stores.push(store);
    await store.createRun(record('long'));
    const all = [event(1, { type: 'run.started', runId: 'long', agent: 'a', input: null })];
    for (let seq = 2; seq <= tokens + 1; seq++) all.push(event(seq, { type: 'text.delta', text: String(seq % 10).repeat(size) }));
    for (let index = 0; index < all.length; index += 5) {
      await store.append('long', all.slice(index, index + 5));
      await store.snapshotsSettled();
    }
    return { store, all };
  }

  it('builds a snapshot’s event once and gives every reader the same, until a newer one is stored', async () => {
    const { store } = await longAnswer(60, 10);
    const [first] = await store.read('long', 0);
    const [second] = await store.read('long', 0);
    expect(first?.type).toBe('run.snapshot');
    expect(second).toBe(first);
    // Its JSON is the event's: type, seq, at and the state, parsed back whole.
    const parsed = JSON.parse((first as StoredEvent).json) as RunSnapshotEvent & { seq: number };
    expect(parsed).toMatchObject({ type: 'run.snapshot', seq: first?.seq });
    expect((first as StoredEvent).event).toEqual(parsed);
    await store.append('long', [event(62, { type: 'text.delta', text: 'x' }), ...Array.from({ length: 20 }, (_, index) => event(63 + index, { type: 'text.delta', text: 'y' }))]);
    await store.snapshotsSettled();
    const [later] = await store.read('long', 0);
    expect(later?.seq).toBeGreaterThan(first?.seq ?? 0);
    expect(later).not.toBe(first);
  });

  it('bounds the snapshot’s answer text (an eighth of 16 MiB) and marks what it dropped', async () => {
    // 3 MiB of answer in 64 KiB tokens.
    const { store, all } = await longAnswer(48, 64 * 1024);
    const [snapshot] = await store.read('long', 0);
    const state = (snapshot?.event as RunSnapshotEvent).state;
    const whole = all.slice(1, snapshot?.seq).map((stored) => (stored.event as { text: string }).text).join('');
    expect(state.text.length).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(whole.endsWith(state.text)).toBe(true);
    expect(state.truncated?.textChars).toBe(whole.length - state.text.length);
  });
});
