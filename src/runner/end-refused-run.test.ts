import { describe, expect, it } from 'vitest';
import type { EventBody } from '../protocol/events.js';
import { MemoryStore } from '../store/memory-store.js';
import { cleanups } from '../../test/helpers/runner-kit.js';
import { endRefusedRun } from './store-failure.js';

const STARTED: EventBody = { type: 'run.started', runId: 'r', agent: 'a', input: null };

/** A memory store holding one running run `r`, whose appends all throw (a dead store). */
async function deadStore(): Promise<MemoryStore> {
  const store = new MemoryStore();
  cleanups.push(() => store.close());
  await store.createRun({ id: 'r', agent: 'a', owner: undefined, createdAt: Date.now(), status: 'running', endedAt: undefined, lastSeq: 0 });
  store.append = async () => {
    throw new Error('connection lost');
  };
  return store;
}

describe('endRefusedRun when the store refuses the terminal event too', () => {
  it('marks the record ended when the store can (endRun)', async () => {
    const store = await deadStore();
    expect(await endRefusedRun(store, 'r', STARTED, [])).toBe('marked');
    expect(await store.getRun('r')).toMatchObject({ status: 'failed' });
  });

  it('tells the run was lost when endRun throws as well, and does not throw', async () => {
    const store = await deadStore();
    store.endRun = async () => {
      throw new Error('connection lost');
    };
    expect(await endRefusedRun(store, 'r', STARTED, [])).toBe('lost');
  });

  it('tells the run was lost when the store has no endRun', async () => {
    const store = await deadStore();
    (store as { endRun?: unknown }).endRun = undefined;
    expect(await endRefusedRun(store, 'r', STARTED, [])).toBe('lost');
  });
});
