/**
 * When a run's newest events are packed (see {@link PackedLog}): once they pass the recent bounds
 * (the older half goes), and all of them when the run ends, since nothing needs them one by one
 * any more while the run is retained.
 *
 * @module
 */
import type { RunLog } from './run-log.js';

/**
 * The newest events a run keeps one by one (its live followers read these): at most this many,
 * and at most this much JSON (so packing joins at most about that much).
 */
export const RECENT_EVENTS = 256;
const RECENT_JSON_LENGTH = 1024 * 1024;

/** A run that ends with at least this many unpacked events is packed whole (a short run is not worth it). */
const PACK_AT_END = 32;

/** Packs what is due after an append. */
export function packAfterAppend(log: RunLog): void {
  if (log.ended && log.recent.length >= PACK_AT_END) pack(log, log.recent.length);
  else if (log.recent.length > log.bounds.recentCap || log.recentBytes > RECENT_JSON_LENGTH) packOldHalf(log);
}

/** Packs the oldest recent events until at most half the recent bounds are left (and at least one event). */
function packOldHalf(log: RunLog): void {
  const keepEvents = Math.max(1, log.bounds.recentCap >> 1);
  let count = 0;
  let bytes = log.recentBytes;
  while (count < log.recent.length - 1 && (log.recent.length - count > keepEvents || bytes > RECENT_JSON_LENGTH / 2)) {
    bytes -= (log.recent[count] as { json: string }).json.length;
    count++;
  }
  pack(log, count);
}

/** Moves the oldest `count` recent events into the packed log. */
function pack(log: RunLog, count: number): void {
  if (count <= 0) return;
  const moved = log.recent.splice(0, count);
  const before = log.packed.jsonLength;
  log.packed.append(moved);
  log.recentBytes -= log.packed.jsonLength - before;
}
