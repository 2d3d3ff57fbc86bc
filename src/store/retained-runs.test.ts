import { afterEach, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../protocol/events.js';
import { isAgentwireError } from '../protocol/errors.js';
import { resolveMemoryStoreOptions } from './memory-store-options.js';
import { RetainedRuns } from './retained-runs.js';
import { logBounds, RunLog } from './run-log.js';
import { toStoredEvent } from './store.js';

const bounds = logBounds(resolveMemoryStoreOptions({}));
const held: RetainedRuns[] = [];

afterEach(() => {
  for (const runs of held.splice(0)) runs.close();
});

function retained(maxRuns: number, maxRetainedBytes: number): RetainedRuns {
  const runs = new RetainedRuns({ retentionMs: 60_000, maxRuns, maxRetainedBytes });
  held.push(runs);
  return runs;
}

/** A run of one `status` event of `size` characters, ended when `ended`, added to `runs` (told when it ends, as the store tells it). */
function add(runs: RetainedRuns, id: string, size: number, ended: boolean): RunLog {
  const log = new RunLog({ id, agent: 'test', owner: undefined, createdAt: 0, status: 'running', endedAt: undefined, lastSeq: 0 }, bounds, () => runs.ended());
  runs.add(log);
  runs.account(log.append(toStoredEvent({ type: 'status', seq: 1, at: 1, message: 'x'.repeat(size) } as AgentEvent)));
  if (ended) runs.account(log.append(toStoredEvent({ type: 'run.finished', seq: 2, at: 2 } as AgentEvent)));
  return log;
}

describe('RetainedRuns', () => {
  it('counts the footprint of every run, and frees it when a run goes', () => {
    const runs = retained(2, 1_000_000);
    const first = add(runs, 'run_1', 100, true);
    const second = add(runs, 'run_2', 200, false);
    expect(runs.bytes).toBe(first.footprint + second.footprint);
    add(runs, 'run_3', 300, false);
    // Past maxRuns: the oldest finished run went.
    expect(runs.has('run_1')).toBe(false);
    expect(runs.size).toBe(2);
    runs.sweep(Number.MAX_SAFE_INTEGER);
    expect(runs.size).toBe(2);
  });

  it('makes room by dropping finished runs, oldest first, and refuses with AW_OVERLOADED when running runs alone are over the budget', () => {
    const runs = retained(100, 500);
    add(runs, 'run_old', 300, true);
    add(runs, 'run_new', 300, true);
    runs.makeRoom();
    expect(runs.has('run_old')).toBe(false);
    expect(runs.has('run_new')).toBe(true);
    add(runs, 'run_live', 600, false);
    let caught: unknown;
    try {
      runs.makeRoom();
    } catch (error) {
      caught = error;
    }
    expect(isAgentwireError(caught) && caught.code).toBe('AW_OVERLOADED');
    expect(runs.has('run_new')).toBe(false);
    expect(runs.has('run_live')).toBe(true);
  });
});
