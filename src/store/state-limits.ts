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
 * answer text, an eighth for the steps' log lines and text, an eighth for the steps themselves,
 * an eighth for tool calls and a sixteenth for `data`, so a snapshot takes at most about 9/16 of the
 * bound and the retained events at least the rest. The parts' sizes are estimates: the store gives
 * the fold each event's JSON length, so a `data` value, tool args or a tool result is costed from
 * the JSON it already built (a few bytes of envelope included, never less than the part's own JSON).
 */
export function stateLimits(maxBytesPerRun: number): Required<RunFoldLimits> {
  const eighth = Math.max(1, Math.floor(maxBytesPerRun / 8));
  const sixteenth = Math.max(1, Math.floor(maxBytesPerRun / 16));
  return { maxTextChars: eighth, maxStepChars: eighth, maxToolCallBytes: eighth, maxStepBytes: eighth, maxDataBytes: sixteenth };
}
