import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../store/memory-store.js';
import type { RunRecord, RunStore } from '../../store/store.js';
import { IdempotencyKeys } from './idempotency.js';

const record = (id: string): RunRecord => ({ id, agent: 'a', owner: undefined, createdAt: 0, status: 'running', endedAt: undefined, lastSeq: 1 });

describe('IdempotencyKeys', () => {
  it('starts once per key and body, replays it, and refuses another body', async () => {
    const keys = new IdempotencyKeys(new MemoryStore());
    let starts = 0;
    const start = async () => record(`run_${++starts}`);
    const find = async (id: string) => record(id);
    expect(await keys.start('alice', 'k', '{"input":1}', start, find)).toEqual({ record: record('run_1'), replayed: false });
    expect(await keys.start('alice', 'k', '{"input":1}', start, find)).toEqual({ record: record('run_1'), replayed: true });
    // Keys are per principal.
    expect(await keys.start('bob', 'k', '{"input":1}', start, find)).toEqual({ record: record('run_2'), replayed: false });
    await expect(keys.start('alice', 'k', '{"input":2}', start, find)).rejects.toMatchObject({ code: 'AW_IDEMPOTENCY_MISMATCH', status: 409 });
  });

  it('frees the key when the start fails, so a retry may start the run', async () => {
    const keys = new IdempotencyKeys(new MemoryStore());
    const failing = async (): Promise<RunRecord> => {
      throw new Error('429');
    };
    await expect(keys.start(undefined, 'k', 'body', failing, async (id) => record(id))).rejects.toThrow('429');
    expect(await keys.start(undefined, 'k', 'body', async () => record('run_ok'), async (id) => record(id))).toMatchObject({ replayed: false, record: { id: 'run_ok' } });
  });

  it('makes a concurrent request wait for the first one to start its run, and answers 409 when it takes longer than waitMs', async () => {
    const keys = new IdempotencyKeys(new MemoryStore(), { waitMs: 100 });
    let release!: () => void;
    const slow = () => new Promise<RunRecord>((resolve) => (release = () => resolve(record('run_slow'))));
    const first = keys.start(undefined, 'k', 'body', slow, async (id) => record(id));
    await expect(keys.start(undefined, 'k', 'body', async () => record('second'), async (id) => record(id))).rejects.toMatchObject({ code: 'AW_IDEMPOTENCY_IN_PROGRESS', status: 409 });
    const waiting = keys.start(undefined, 'k', 'body', async () => record('third'), async (id) => record(id));
    release();
    expect((await first).record.id).toBe('run_slow');
    expect(await waiting).toMatchObject({ replayed: true, record: { id: 'run_slow' } });
  });

  it('keeps keys in its own memory over a store that keeps none', async () => {
    // Only what IdempotencyKeys looks at: a store without the key methods.
    const keys = new IdempotencyKeys({} as RunStore);
    let starts = 0;
    const start = async () => record(`run_${++starts}`);
    await keys.start(undefined, 'k', 'body', start, async (id) => record(id));
    expect(await keys.start(undefined, 'k', 'body', start, async (id) => record(id))).toMatchObject({ replayed: true, record: { id: 'run_1' } });
  });
});

describe('IdempotencyKeys over a store that fails to keep a key', () => {
  /** A memory store whose bind or release throws. */
  function failing(step: 'bind' | 'release'): RunStore {
    const store = new MemoryStore();
    const refuse = async () => {
      throw new Error('OOM command not allowed');
    };
    if (step === 'bind') store.bindIdempotencyKey = refuse;
    else store.releaseIdempotencyKey = refuse;
    return store;
  }

  it('tells of a failed bind, with the run it was for, and still answers with the run', async () => {
    const told: unknown[] = [];
    const keys = new IdempotencyKeys(failing('bind'), { onError: (error, failure) => told.push([(error as Error).message, failure]) });
    expect(await keys.start('alice', 'k', 'body', async () => record('run_1'), async (id) => record(id))).toMatchObject({ replayed: false, record: { id: 'run_1' } });
    expect(told).toEqual([['OOM command not allowed', { step: 'bind', runId: 'run_1' }]]);
  });

  it('tells of a failed release, and still gives the start its own error', async () => {
    const told: unknown[] = [];
    const keys = new IdempotencyKeys(failing('release'), { onError: (_error, failure) => told.push(failure) });
    await expect(keys.start('alice', 'k', 'body', async () => Promise.reject(new Error('429')), async (id) => record(id))).rejects.toThrow('429');
    expect(told).toEqual([{ step: 'release' }]);
  });
});
