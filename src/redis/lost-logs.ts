/**
 * Finding followed runs whose log Redis no longer has: a restart without persistence (or a
 * `FLUSHALL`, an eviction, a deleted key) takes the log away under live streams, and an `XREAD` on
 * a missing stream simply waits forever. Such runs end, for their subscribers here, with a
 * `run.failed` of code `AW_LOG_LOST`; a resume then answers 404, as the run is unknown.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import type { AgentEvent } from '../protocol/events.js';
import { type StoredEvent, toStoredEvent } from '../store/store.js';
import { type FaultLog, checkReplies } from './fault-log.js';

/** The code of the `run.failed` given to the subscribers of a run whose log was lost. */
export const LOG_LOST = 'AW_LOG_LOST';

/** The terminal event of a run whose log was lost, at a given `seq`. */
export function logLostEvent(message: string): (seq: number) => StoredEvent {
  return (seq) => toStoredEvent({ type: 'run.failed', seq, at: Date.now(), error: { code: LOG_LOST, message } } as AgentEvent);
}

/** Of `runIds`, those whose metadata key is gone (checked in one pipeline). */
export async function runsWithoutRecord(redis: Redis, runIds: readonly string[], metaKey: (runId: string) => string, faults: FaultLog): Promise<string[]> {
  if (runIds.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const runId of runIds) pipeline.exists(metaKey(runId));
  const replies = checkReplies(await pipeline.exec(), faults, 'verify', 'checking that followed runs still exist');
  return runIds.filter((_, index) => replies[index] === 0);
}

/** Of `runIds`, those whose event key holds something else than a stream, with that type. */
export async function runsWithBrokenLog(redis: Redis, runIds: readonly string[], eventsKey: (runId: string) => string, faults: FaultLog): Promise<{ runId: string; type: string }[]> {
  if (runIds.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const runId of runIds) pipeline.type(eventsKey(runId));
  const replies = checkReplies(await pipeline.exec(), faults, 'verify', 'checking the type of followed run streams');
  return runIds.flatMap((runId, index) => {
    const type = replies[index];
    return typeof type === 'string' && type !== 'stream' && type !== 'none' ? [{ runId, type }] : [];
  });
}
