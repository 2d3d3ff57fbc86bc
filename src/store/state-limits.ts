/**
 * How much of a run's byte bound its folded state may take: the store keeps a run's whole
 * footprint (its retained events and the snapshot of the evicted ones) within `maxBytesPerRun`,
 * and the snapshot is the state, so the state's unbounded parts are bounded here.
 *
 * @module
 */
import type { RunFoldLimits } from '../reducer/run-fold.js';

/**
 * The limits a run's state is folded within, for a `maxBytesPerRun`: an eighth of it for the
 * answer text and an eighth for the steps' log lines and text, so the truncatable parts of a
 * snapshot take at most a quarter of the bound and the retained events at least the rest.
 */
export function stateLimits(maxBytesPerRun: number): Required<RunFoldLimits> {
  const share = Math.max(1, Math.floor(maxBytesPerRun / 8));
  return { maxTextChars: share, maxStepChars: share };
}
