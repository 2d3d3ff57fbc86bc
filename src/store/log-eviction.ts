/**
 * Eviction of a run's oldest events into a snapshot. A checkpoint of the folded state is kept
 * every 1/16 of the bounds (and before an append that goes over one), so eviction cuts at a
 * checkpoint and never has to parse what it evicts: the `run.snapshot` is built from the
 * checkpoint's state.
 *
 * @module
 */
import type { RunSnapshotEvent } from '../protocol/events.js';
import type { RunState } from '../protocol/run-state.js';
import { PackedLog } from './packed-log.js';
import type { RunLog } from './run-log.js';
import { toStoredEvent } from './store.js';

/** A state the eviction may cut at: every event up to `seq`, folded (`seq` may not be packed yet). */
export interface Checkpoint {
  readonly seq: number;
  readonly state: RunState;
}

/**
 * Before an event of JSON length `length` is added: marks the newest event as a place eviction may
 * cut when a checkpoint is due, or when this event goes over a bound.
 */
export function checkpointBefore(log: RunLog, length: number): void {
  const { bounds } = log;
  if (log.eventsSinceCheckpoint === 0 || !log.fold) return;
  if (log.eventsSinceCheckpoint < bounds.chunkEvents && log.bytesSinceCheckpoint < bounds.chunkBytes && !overBound(log, 1, length)) return;
  log.checkpoints.push({ seq: log.lastSeq, state: log.fold.state });
  log.eventsSinceCheckpoint = 0;
  log.bytesSinceCheckpoint = 0;
}

/** The newest checkpoint at or before `seq` (they are in seq order), or `undefined`. */
export function newestCheckpointAt(log: RunLog, seq: number): Checkpoint | undefined {
  const { checkpoints } = log;
  let low = 0;
  let high = checkpoints.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((checkpoints[middle] as Checkpoint).seq <= seq) low = middle + 1;
    else high = middle;
  }
  return checkpoints[low - 1];
}

/** Over a bound: evicts at checkpoints down to 15/16 of it (large bounds), and builds the snapshot of what went. */
export function evict(log: RunLog): void {
  if (!overBound(log, 0, 0)) return;
  const { maxEventsPerRun, maxBytesPerRun } = log.bounds;
  // Down to 15/16 of the bound, so a long run folds its old events into the snapshot in chunks
  // rather than one per append.
  const eventTarget = maxEventsPerRun >= 1024 ? maxEventsPerRun - (maxEventsPerRun >> 4) : maxEventsPerRun;
  const byteTarget = maxBytesPerRun >= 65_536 ? maxBytesPerRun - (maxBytesPerRun >> 4) : maxBytesPerRun;
  // The snapshot counts too, and its size is known once it is built: cut as if it kept the size of
  // the last one, build it once for where the cut ends, and cut again in the rare case it grew
  // past what was left for it.
  for (;;) {
    let cut: Checkpoint | undefined;
    // Cut at checkpoints, all before the newest event: the log never loses its tail.
    while (log.held > 1 && (log.held > eventTarget || overBytes(log, byteTarget, 0)) && log.checkpoints.length > 0) {
      cut = log.checkpoints.shift() as Checkpoint;
      dropThrough(log, cut.seq);
      log.recount();
    }
    if (!cut) return;
    log.snapshot = toStoredEvent({ type: 'run.snapshot', seq: cut.seq, at: Date.now(), state: cut.state } satisfies RunSnapshotEvent & {
      seq: number;
      at: number;
    });
    log.recount();
  }
}

/** True when the log, with `events` more events of `bytes` more JSON, is over a bound (from the log's own counts). */
function overBound(log: RunLog, events: number, bytes: number): boolean {
  return log.held + events > log.bounds.maxEventsPerRun || overBytes(log, log.bounds.maxBytesPerRun, bytes);
}

/**
 * True when the run, with `bytes` more JSON, is over `bound`, and its retained events hold at least
 * 1/16 of the byte bound: a snapshot that alone is near the bound (state that is not truncated:
 * tool calls, data) is built again once per 1/16 appended, not at every append.
 */
function overBytes(log: RunLog, bound: number, bytes: number): boolean {
  return log.footprint + bytes > bound && log.footprint - (log.snapshot?.json.length ?? 0) + bytes >= log.bounds.chunkBytes;
}

/** Drops every retained event up to `seq` (the new evicted range's end). */
function dropThrough(log: RunLog, seq: number): void {
  const packedEnd = log.packed.firstSeq + log.packed.length - 1;
  if (seq <= packedEnd) {
    log.packed.dropFirst(seq - log.packed.firstSeq + 1);
  } else {
    // The cut is among the recent events: drop them as they are (packing them first would join
    // their JSON only to drop it), and every packed one with them.
    for (const stored of log.recent.splice(0, seq - packedEnd)) log.recentBytes -= stored.json.length;
    log.packed = new PackedLog(seq + 1);
  }
  log.evictedSeq = seq;
}
