/**
 * `maxRetainedBytes` with running runs. It used to be checked only when a run was created, so
 * running runs then grew unchecked (each within `maxBytesPerRun`): runs started while the store was
 * nearly empty took the budget times however many ran at once (at the gateway's defaults 1,000 runs
 * × 16 MiB against a 256 MiB budget). Appends check it too: finished runs are dropped first, then
 * the run that grew past it is failed with `AW_OVERLOADED`.
 */
import { describe, expect, it } from 'vitest';
import type { AgentEvent, EventBody } from '../protocol/events.js';
import { MemoryStore } from './memory-store.js';
import { type StoredEvent, toStoredEvent } from './store.js';

const MIB = 1024 * 1024;

describe('maxRetainedBytes with running runs', () => {
  it('20 runs created while the store is empty stay within the budget (plus one run) as they grow', async () => {
    const store = new MemoryStore({ maxRetainedBytes: 4 * MIB, maxBytesPerRun: MIB });
    try {
      const stamp = (seq: number, body: EventBody): StoredEvent => toStoredEvent({ ...body, seq, at: 1_700_000_000_000 + seq } as AgentEvent);
      for (let run = 0; run < 20; run++) {
        await store.createRun({ id: `run_${run}`, agent: 'test', owner: undefined, createdAt: 0, status: 'running', endedAt: undefined, lastSeq: 0 });
        store.openAppender(`run_${run}`)(stamp(1, { type: 'run.started', runId: `run_${run}`, agent: 'test', input: null }));
      }
      const failed: string[] = [];
      for (let run = 0; run < 20; run++) {
        const append = store.openAppender(`run_${run}`);
        for (let index = 0; index < 64; index++) {
          // As the runner does: once an append is refused (the run ended), the run's agent stops.
          try {
            append(stamp(index + 2, { type: 'text.delta', text: 'x'.repeat(16 * 1024) }));
          } catch {
            failed.push(`run_${run}`);
            break;
          }
        }
      }
      expect(store.retainedBytes).toBeLessThanOrEqual(5 * MIB);
      // The runs that fitted went on; each one that grew past the budget ended with AW_OVERLOADED.
      expect(failed.length).toBeGreaterThan(0);
      expect(failed).not.toContain('run_0');
      for (const runId of failed) {
        const tail = await store.read(runId, 0);
        if (tail.length > 0) expect(tail.at(-1)?.event).toMatchObject({ type: 'run.failed', error: { code: 'AW_OVERLOADED' } });
      }
    } finally {
      await store.close();
    }
  });
});
