/**
 * What `maxRetainedBytes` counts against what retained runs hold. The budget counts each run's
 * event JSON and snapshot, but the store also keeps a checkpoint state every 1/16 of the bound (a
 * finished run keeps them for its retention, for `state(runId, at)`), and each holds its own copy
 * of up to an eighth of the bound of answer text (and as much of step text and logs). Measured in a
 * process of its own after full collections: 8 finished runs of 24 MiB of answer each are counted as
 * 121 MiB and hold 384 MiB (161 MiB when their checkpoints are dropped at the end).
 */
import { describe, expect, it } from 'vitest';
import { ROOT, requireBuild, run } from '../../test/helpers/process.js';

describe('the retained-bytes budget', () => {
  // Fails today: the checkpoints' states are not counted (nor the final state). The fix belongs in
  // MemoryStore (being restructured): count what the checkpoints keep in the footprint, or keep
  // fewer of them (none, or one, once a run has ended), so the budget bounds the heap it stands for.
  it.fails('finished runs hold at most about what maxRetainedBytes counts for them', async () => {
    requireBuild();
    const { code, stdout, stderr } = await run(process.execPath, ['--expose-gc', `${ROOT}test/fixtures/retained-heap.mjs`, '3'], { timeoutMs: 60_000 });
    expect(code, stderr).toBe(0);
    const { retainedBytes, heldBytes } = JSON.parse(stdout) as { retainedBytes: number; heldBytes: number };
    // Generous: the typed arrays of the packed logs, the final state and object overheads.
    expect(heldBytes).toBeLessThan(1.5 * retainedBytes + 8 * 1024 * 1024);
  });
});
