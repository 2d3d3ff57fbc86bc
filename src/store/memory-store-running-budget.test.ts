/**
 * `maxRetainedBytes` is checked when a run is created, and running runs then grow unchecked (each
 * within `maxBytesPerRun`): runs started while the store is nearly empty take the budget times
 * however many run at once. At the gateway's defaults that is 1,000 runs (limits.maxRuns) × 16 MiB
 * against a 256 MiB budget; starting and abandoning fast runs reaches it within their grace period.
 */
import { describe, expect, it } from 'vitest';
import type { AgentEvent, EventBody } from '../protocol/events.js';
import { MemoryStore } from './memory-store.js';
import { type StoredEvent, toStoredEvent } from './store.js';

const MIB = 1024 * 1024;

describe('maxRetainedBytes with running runs', () => {
  // Fails today. The fix belongs in MemoryStore (being restructured): check the budget on append
  // too — drop finished runs first, then make running runs give way (evict their tails into their
  // snapshots down to a smaller share), or fail the newest with AW_OVERLOADED.
  it.fails('20 runs created while the store is empty stay within the budget (plus one run) as they grow', async () => {
    const store = new MemoryStore({ maxRetainedBytes: 4 * MIB, maxBytesPerRun: MIB });
    try {
      const stamp = (seq: number, body: EventBody): StoredEvent => toStoredEvent({ ...body, seq, at: 1_700_000_000_000 + seq } as AgentEvent);
      for (let run = 0; run < 20; run++) {
        await store.createRun({ id: `run_${run}`, agent: 'test', owner: undefined, createdAt: 0, status: 'running', endedAt: undefined, lastSeq: 0 });
        store.openAppender(`run_${run}`)(stamp(1, { type: 'run.started', runId: `run_${run}`, agent: 'test', input: null }));
      }
      for (let run = 0; run < 20; run++) {
        for (let index = 0; index < 64; index++) store.openAppender(`run_${run}`)(stamp(index + 2, { type: 'text.delta', text: 'x'.repeat(16 * 1024) }));
      }
      expect(store.retainedBytes).toBeLessThanOrEqual(5 * MIB);
    } finally {
      await store.close();
    }
  });
});
