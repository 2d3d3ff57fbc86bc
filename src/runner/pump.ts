/**
 * The hot loop of a run: pull the agent's next item, check it, append it, and go through the event
 * loop often enough that sockets are written while a fast agent runs; pause while every subscriber
 * is full.
 *
 * @module
 */
import type { AgentYield, EventBody } from '../protocol/events.js';
import { AgentwireError } from '../protocol/errors.js';
import { acceptCanonicalYield, checkAgentYield } from '../protocol/validate.js';
import type { AgentItem } from '../producer/agent.js';
import type { AgentIterator } from './agent-context.js';
import type { RunLog } from './emit.js';
import type { LiveRun } from './live-run.js';
import { currentTurn, turnPassed } from './loop-turns.js';
import { StoreRefusal } from './store-failure.js';

/** What {@link pump} resolves when the run was aborted. */
export const ABORTED = Symbol('aborted');

/** Yield to the event loop at least this often, so sockets are written while a fast agent runs. */
const EVENTS_PER_TURN = 64;
const MS_PER_TURN = 8;

/**
 * Pulls the agent's items into the log until it returns (resolves its result), the run is
 * aborted (resolves ABORTED) or it throws. Per event: one await on the agent and none on a
 * synchronous store.
 */
export async function pump(run: LiveRun, iterator: AgentIterator, log: RunLog): Promise<IteratorResult<AgentItem, unknown> | typeof ABORTED> {
  for (;;) {
    if (run.blocked !== 0 && run.blocked >= run.subscribers) await whileBlocked(run);
    if (run.aborted) return ABORTED;
    run.inAgent = true;
    const next = await iterator.next();
    run.inAgent = false;
    if (run.aborted) return ABORTED;
    if (next.done) return next;
    if (typeof next.value === 'string') {
      // Answer text, the most common item, built once: top-level text touches no step, so the
      // invariants have nothing to check and a refusal's end nothing to close for it.
      const appending = log.emitText(run, next.value);
      if (appending !== undefined) await appending;
    } else {
      const item = toYield(next.value);
      const closings = run.invariants.accept(item);
      let index = 0;
      try {
        for (; index < closings.length; index++) {
          const appending = log.emit(run, closings[index] as EventBody);
          if (appending !== undefined) await appending;
        }
        const appending = log.emit(run, item);
        if (appending !== undefined) await appending;
      } catch (error) {
        // The invariants counted these; the run's end must know the log has none of them.
        if (error instanceof StoreRefusal) error.unlogged = [...closings.slice(index), item];
        throw error;
      }
    }
    // Count only what the agent produced within this turn of the loop: a paced agent (a timer
    // or I/O between events) is in a new turn at every event and never needs the extra hop.
    const turn = currentTurn();
    if (turn !== run.turn) {
      run.turn = turn;
      run.eventsSinceTurn = 0;
      run.lastTurnAt = log.lastAt;
    }
    if (++run.eventsSinceTurn >= EVENTS_PER_TURN || log.lastAt - run.lastTurnAt >= MS_PER_TURN) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      turnPassed();
    }
  }
}

/**
 * Waits while every subscriber of the run is blocked (its connection full): the agent is not
 * asked for more until one can take bytes again, leaves, or the run is aborted (each calls
 * `run.resume`).
 */
async function whileBlocked(run: LiveRun): Promise<void> {
  while (run.blocked !== 0 && run.blocked >= run.subscribers && !run.aborted) {
    await new Promise<void>((resolve) => {
      run.resume = () => {
        run.resume = undefined;
        resolve();
      };
    });
  }
}

/**
 * A yielded object as an event body, checked once: what the producer API builds (and any object of
 * the same shape) passes the fast path; anything else goes through the full schema once.
 */
function toYield(item: unknown): AgentYield {
  const canonical = acceptCanonicalYield(item);
  if (canonical !== undefined) return canonical;
  const check = checkAgentYield(item);
  if (!check.ok) throw new AgentwireError('AW_INVALID_EVENT', check.message);
  return check.value;
}
