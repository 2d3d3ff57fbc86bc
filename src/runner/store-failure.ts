/**
 * What the runner does when the run log refuses an append: the agent is stopped and the run still
 * ends, so no follower waits for a terminal event that never comes.
 *
 * @module
 */
import type { AgentEvent, ErrorInfo, EventBody } from '../protocol/events.js';
import type { RunStore, StoredEvent } from '../store/store.js';
import { toStoredEvent } from '../store/store.js';

/** An append the run log refused (as opposed to an error of the agent's own). */
export class StoreRefusal extends Error {
  /**
   * Events the runner had accepted (its step bookkeeping counts them) that the log did not take,
   * oldest first: the refused one and those that were to follow it in the same step.
   */
  unlogged: readonly EventBody[] = [];

  constructor(cause: unknown) {
    super(`the run log refused an event: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StoreRefusal';
  }
}

/** Rethrows a store's error as a {@link StoreRefusal} (one already wrapped passes through). */
export function refused(cause: unknown): never {
  throw cause instanceof StoreRefusal ? cause : new StoreRefusal(cause);
}

/**
 * The `step.finished` events that close a refused run's steps in its log: those the log did not
 * take, then one per step still open (`stillOpen`), less those of steps whose `step.started` it did
 * not take (they never started, as far as the log says).
 */
export function closingsAfterRefusal(unlogged: readonly EventBody[], stillOpen: readonly EventBody[]): EventBody[] {
  const neverStarted = new Set<string>();
  for (const body of unlogged) if (body.type === 'step.started') neverStarted.add(body.stepId);
  return [...unlogged, ...stillOpen].filter((body) => body.type === 'step.finished' && !neverStarted.has(body.stepId));
}

/** The error of a run ended because its log refused an event. */
export const STORE_ERROR: ErrorInfo = { code: 'AW_STORE_ERROR', message: 'the run log refused an event; the run was ended' };

/** Attempts at appending the terminal event, and the pause before the second (doubled each time). */
const ATTEMPTS = 3;
const FIRST_RETRY_MS = 50;

/** How a refused run was closed: its terminal event logged, its record marked ended, or neither. */
export type RefusedRunEnd = 'logged' | 'marked' | 'lost';

/**
 * Closes a run whose log refused an append: appends `run.failed` (`AW_STORE_ERROR`) after
 * `closing` (its open steps' `step.finished`) in one append, and `started` first when the log has
 * no event yet, up to {@link ATTEMPTS} times; each attempt re-reads the log's last `seq`, since a
 * refused append may or may not have stored its event. When every attempt fails, records the run
 * as ended without its event (`endRun`), so its followers still end. Never throws.
 */
export async function endRefusedRun(
  store: RunStore,
  runId: string,
  started: EventBody,
  closing: readonly EventBody[],
): Promise<RefusedRunEnd> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, FIRST_RETRY_MS << (attempt - 1)));
    try {
      const record = await store.getRun(runId);
      // Ended after all (the refused append was the terminal event, and stored), or gone.
      if (record === undefined || record.status !== 'running') return 'logged';
      const bodies = [...(record.lastSeq === 0 ? [started] : []), ...closing, { type: 'run.failed', error: STORE_ERROR } as EventBody];
      const at = Date.now();
      const events: StoredEvent[] = bodies.map((body, index) => toStoredEvent({ type: body.type, seq: record.lastSeq + index + 1, at, ...(body as object) } as AgentEvent));
      await store.append(runId, events);
      return 'logged';
    } catch {
      // Retried; the last resort follows.
    }
  }
  try {
    if (!store.endRun) return 'lost';
    await store.endRun(runId, STORE_ERROR);
    return 'marked';
  } catch {
    return 'lost';
  }
}
