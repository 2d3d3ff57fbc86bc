/**
 * What `maxRetainedBytes` counts against what retained runs hold. The budget counts each run's
 * event JSON and snapshot; while a run runs the store also keeps a checkpoint state every 1/16 of
 * the bound, each with its own copy of up to an eighth of the bound of answer text, and an ended run
 * lets go of them. Measured in a process of its own after full collections: 3 finished runs of 24
 * MiB of answer each are counted as 46 MiB and hold 60 MiB (138 MiB while they kept their checkpoints).
 */
import { describe, expect, it } from 'vitest';
import { ROOT, requireBuild, run } from '../../test/helpers/process.js';

describe('the retained-bytes budget', () => {
  it('finished runs hold at most about what maxRetainedBytes counts for them', async () => {
    requireBuild();
    const { code, stdout, stderr } = await run(process.execPath, ['--expose-gc', `${ROOT}test/fixtures/retained-heap.mjs`, '3'], { timeoutMs: 60_000 });
    expect(code, stderr).toBe(0);
    const { retainedBytes, heldBytes } = JSON.parse(stdout) as { retainedBytes: number; heldBytes: number };
    // Generous: the typed arrays of the packed logs, the final state and object overheads.
    expect(heldBytes).toBeLessThan(1.5 * retainedBytes + 8 * 1024 * 1024);
  });
});
