/**
 * Appending a run's events to the store: `seq` and `at` stamped, serialised once, appended
 * synchronously when the store can (no promise per event), and the last appender remembered for
 * the loop monitor.
 *
 * @module
 */
import type { AgentEvent, EventBody } from '../protocol/events.js';
import { AgentwireError } from '../protocol/errors.js';
import type { RunStore, StoredEvent } from '../store/store.js';
import { toStoredEvent } from '../store/store.js';
import type { LiveRun } from './live-run.js';
import { refused } from './store-failure.js';

/**
 * The event of `body` with `seq` and `at`, keys in the contract's order (`type`, `seq`, `at`, then
 * the body's, as it holds them). The bodies agents yield most, whose keys are all required (so a
 * checked body holds exactly these), are copied field by field: a third smaller and faster than
 * a spread. Any other is spread after `type`, `seq` and `at` (which keeps its fields in the object).
 */
function stamped(body: EventBody, seq: number, at: number): AgentEvent {
  switch (body.type) {
    case 'data':
      return { type: body.type, seq, at, name: body.name, value: body.value };
    case 'status':
      return { type: body.type, seq, at, message: body.message };
    case 'step.log':
      return { type: body.type, seq, at, stepId: body.stepId, text: body.text };
    default:
      return { type: body.type, seq, at, ...(body as object) } as AgentEvent;
  }
}

export class RunLog {
  readonly #store: RunStore;
  /** The run that appended last, and when (see {@link RunLog.lastEmit}). */
  #lastRun: LiveRun | undefined;
  /** Wall clock, ms: the last event's `at`. */
  lastAt = 0;

  constructor(store: RunStore) {
    this.#store = store;
  }

  /** The synchronous appender of a run (`openAppender`), when the store has one. `undefined`: append and await. */
  appenderFor(runId: string): ((event: StoredEvent) => void) | undefined {
    return this.#store.openAppender?.(runId);
  }

  /** Appends one event. Returns a promise only when the store is asynchronous. */
  emit(run: LiveRun, body: EventBody): Promise<void> | undefined {
    return this.#append(run, stamped(body, run.seq + 1, Date.now()));
  }

  /** Appends answer text the agent yielded as a string: the event is built once, with no body to copy. */
  emitText(run: LiveRun, text: string): Promise<void> | undefined {
    return this.#append(run, { type: 'text.delta', seq: run.seq + 1, at: Date.now(), text });
  }

  /**
   * Appends an event already serialised (a run's `run.started`, serialised before its run was
   * recorded). `seq` must be the run's next.
   */
  emitStored(run: LiveRun, stored: StoredEvent): Promise<void> | undefined {
    this.#lastRun = run;
    this.lastAt = stored.event.at;
    if (run.append === undefined) {
      run.seq++;
      return this.#store.append(run.id, [stored]).catch(refused);
    }
    try {
      run.append(stored);
    } catch (cause) {
      refused(cause);
    }
    run.seq++;
    return undefined;
  }

  #append(run: LiveRun, event: AgentEvent): Promise<void> | undefined {
    let stored: StoredEvent;
    try {
      stored = toStoredEvent(event);
    } catch (cause) {
      throw new AgentwireError('AW_INVALID_EVENT', `a "${event.type}" event could not be serialised as JSON: ${(cause as Error).message}`, { cause });
    }
    return this.emitStored(run, stored);
  }

  /**
   * The run that most recently appended an event, and when (`performance.now()`). An agent that
   * blocks the event loop usually yields right after: this names the likely culprit of a stall.
   */
  get lastEmit(): { runId: string; agent: string; at: number } | undefined {
    const run = this.#lastRun;
    // Kept as the event's wall-clock `at` (no second clock read per event); told on the monotonic clock.
    return run ? { runId: run.id, agent: run.agent.name, at: performance.now() - (Date.now() - this.lastAt) } : undefined;
  }
}
