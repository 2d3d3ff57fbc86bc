/**
 * MemoryStore.endRun, the runner's last resort when the log refuses a run's `run.failed`: the run
 * must end everywhere the store keeps it, not only in its record — its owner's running count (or
 * `maxRunsPerOwner` refuses that owner for good) and the state `GET /api/runs/:id` serves.
 */
import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../protocol/events.js';
import { type RunRecord, toStoredEvent } from './store.js';
import { closingMemoryStores } from '../../test/helpers/memory-stores.js';

const createStore = closingMemoryStores();

function record(id: string, owner: string): RunRecord {
  return { id, agent: 'test', owner, createdAt: Date.now(), status: 'running', endedAt: undefined, lastSeq: 0 };
}

const STORE_ERROR = { code: 'AW_STORE_ERROR', message: 'the run log refused an event; the run was ended' };

describe('MemoryStore.endRun', () => {
  it("releases the owner's running run, so maxRunsPerOwner lets the owner start another", async () => {
    const store = createStore();
    await store.createRun(record('run_a', 'alice'), { maxRunsPerOwner: 1 });
    await expect(store.createRun(record('run_b', 'alice'), { maxRunsPerOwner: 1 })).rejects.toMatchObject({ code: 'AW_TOO_MANY_RUNS' });
    await store.endRun('run_a', STORE_ERROR);
    await expect(store.createRun(record('run_c', 'alice'), { maxRunsPerOwner: 1 })).resolves.toBeUndefined();
  });

  it('ends the state it serves too: failed with the error, not running forever', async () => {
    const store = createStore();
    await store.createRun(record('run_a', 'alice'));
    store.openAppender('run_a')(toStoredEvent({ type: 'run.started', runId: 'run_a', agent: 'test', input: null, seq: 1, at: 1 } as AgentEvent));
    await store.endRun('run_a', STORE_ERROR);
    expect(await store.getRun('run_a')).toMatchObject({ status: 'failed' });
    expect(await store.state('run_a')).toMatchObject({ status: 'failed', error: STORE_ERROR, lastSeq: 1 });
  });
});
