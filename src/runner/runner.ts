/**
 * The runner: starts runs, drives each agent's generator (`pump.ts`) into the store (`emit.ts`),
 * applies the run invariants, cancel, `maxRunMs` and the disconnect policy (`subscribers.ts`), and
 * ends every run with exactly one terminal event.
 *
 * @module
 */
import type { ErrorInfo, EventBody } from '../protocol/events.js';
import { AgentwireError } from '../protocol/errors.js';
import type { RunRecord, RunStore, StoredEvent } from '../store/store.js';
import { toStoredEvent } from '../store/store.js';
import { tooManyOwnerRuns } from '../store/owner-run-counts.js';
import { type AgentIterator, openAgent } from './agent-context.js';
import { AgentRegistry } from './agents.js';
import { Deadlines } from './deadlines.js';
import { RunLog } from './emit.js';
import { toErrorInfo } from './errors.js';
import { LiveRun } from './live-run.js';
import { type AgentErrorRun, type RunnerHooks, type RunnerOptions, type StartRunRequest, describeAgentError } from './options.js';
import { ABORTED, pump } from './pump.js';
import { createRunId } from './run-id.js';
import { STORE_ERROR, StoreRefusal, closingsAfterRefusal, endRefusedRun } from './store-failure.js';
import { type Attachment, SubscriberPolicy } from './subscribers.js';

export type { AbortSource, AgentErrorRun, RunEndInfo, RunInfo, RunnerHooks, RunnerOptions, StartRunRequest } from './options.js';
export { describeAgentError } from './options.js';
export type { Attachment } from './subscribers.js';
export { sleep } from './sleep.js';

/** Drives agent runs into a {@link RunStore}. One per gateway process. */
export class Runner {
  readonly agents: AgentRegistry;
  readonly store: RunStore;
  readonly #exposeErrors: boolean;
  readonly #onAgentError: (error: unknown, run: AgentErrorRun) => void;
  readonly #live = new Map<string, LiveRun>();
  readonly #maxRuns: number;
  readonly #maxRunsPerOwner: number;
  readonly #maxRunMs: number;
  /** The `maxRunMs` deadlines of every run, on one timer. */
  readonly #timeouts: Deadlines<LiveRun> | undefined;
  readonly #hooks: RunnerHooks;
  readonly #log: RunLog;
  readonly #subscribers: SubscriberPolicy;

  constructor(options: RunnerOptions) {
    this.#hooks = options.hooks ?? {};
    this.#maxRuns = options.maxRuns ?? Number.POSITIVE_INFINITY;
    this.#maxRunsPerOwner = options.maxRunsPerOwner ?? Number.POSITIVE_INFINITY;
    this.#maxRunMs = options.maxRunMs ?? 0;
    if (this.#maxRunMs > 0) {
      this.#timeouts = new Deadlines(this.#maxRunMs, (run) => {
        run.timedOut = true;
        run.abort(`the run exceeded its time limit of ${this.#maxRunMs} ms`, 'timeout');
      });
    }
    this.store = options.store;
    this.#log = new RunLog(options.store);
    this.agents = new AgentRegistry(options.agents);
    const grace = options.graceMs ?? 30_000;
    if (grace !== 'continue' && (!Number.isFinite(grace) || grace < 0)) {
      throw new AgentwireError('AW_INVALID_OPTION', `graceMs must be a non-negative number of ms or 'continue', got ${String(grace)}`);
    }
    const attachWindow = options.attachWindowMs ?? 5_000;
    if (!Number.isFinite(attachWindow) || attachWindow < 0) {
      throw new AgentwireError('AW_INVALID_OPTION', `attachWindowMs must be a non-negative number of ms, got ${String(attachWindow)}`);
    }
    this.#subscribers = new SubscriberPolicy(this.store, this.#live, grace, grace === 'continue' ? 0 : Math.max(grace, attachWindow));
    this.#exposeErrors = options.exposeErrors ?? false;
    this.#onAgentError =
      options.onAgentError ??
      ((error, run) => console.error(`[agentwire] ${describeAgentError(run)}:`, error));
  }

  /**
   * Starts a run: records it, appends `run.started` (seq 1) and drives the agent in the
   * background. Resolves once the run can be followed. Throws `AW_UNKNOWN_AGENT`.
   */
  async start(request: StartRunRequest): Promise<RunRecord> {
    const agent = this.agents.resolve(request.agent);
    this.#checkLimits(request.owner);
    const id = createRunId();
    const now = Date.now();
    const started: EventBody = { type: 'run.started', runId: id, agent: agent.name, input: request.input };
    let first: StoredEvent;
    try {
      // Serialised before the run is recorded: a `run.started` that cannot be would leave a run
      // that never ends (and a `shutdown` that waits for it forever). Once: this is what is appended.
      first = toStoredEvent({ type: 'run.started', seq: 1, at: now, runId: id, agent: agent.name, input: request.input });
    } catch (cause) {
      throw new AgentwireError('AW_BAD_REQUEST', `the run's input cannot be serialised as JSON: ${(cause as Error).message}`, { cause });
    }
    const record: RunRecord = { id, agent: agent.name, owner: request.owner, createdAt: now, status: 'running', endedAt: undefined, lastSeq: 0 };
    // The store checks the owner's limit again, atomically and across every process sharing it.
    await this.store.createRun(record, Number.isFinite(this.#maxRunsPerOwner) ? { maxRunsPerOwner: this.#maxRunsPerOwner } : undefined);
    const run = new LiveRun(id, agent, request.owner, now, this.#log.appenderFor(id), this.#exposeErrors);
    this.#live.set(id, run);
    try {
      // A synchronous store returns no promise: no await, so no microtask hop before the run is driven.
      const appending = this.#log.emitStored(run, first);
      if (appending !== undefined) await appending;
    } catch (error) {
      // The store refused the first event: the run never started, but its record exists: end it
      // there too, so nothing waits for it (nor for it in shutdown).
      this.#live.delete(id);
      await endRefusedRun(this.store, id, started, []);
      run.finish();
      throw error instanceof StoreRefusal ? error.cause : error;
    }
    // Usually a subscriber attaches within this turn (start-and-stream) and takes the run out of
    // the wait at once: a map entry, not a timer.
    this.#subscribers.started(run);
    this.#timeouts?.add(run);
    if (this.#hooks.onRunStart) safely(() => this.#hooks.onRunStart?.({ runId: id, agent: agent.name, owner: request.owner, startedAt: now }));
    void this.#run(run, request.input, started);
    return { ...record, lastSeq: run.seq };
  }

  /**
   * Asks a run to cancel (its producer's signal aborts, `run.cancelled` is emitted). Resolves
   * `false` when the run is unknown or already ended; when this process drives the run, resolves
   * after the terminal event is in the log.
   */
  async cancel(runId: string, reason = 'cancelled by request'): Promise<boolean> {
    const accepted = await this.store.requestCancel(runId, reason);
    if (accepted) await this.#live.get(runId)?.done;
    return accepted;
  }

  /**
   * Registers a subscriber of `runId` for the disconnect policy; call the returned function when it
   * leaves. When the last subscriber leaves, the run is cancelled after the grace period unless a
   * new one arrives (or after the attach window, when the subscriber said it is returning). Report
   * backpressure with its `blocked` method.
   */
  attach(runId: string): Attachment {
    return this.#subscribers.attach(runId);
  }

  /** Runs this process is driving. */
  get liveRunCount(): number {
    return this.#live.size;
  }

  /** Resolves when `runId` (driven here) has ended; at once otherwise. */
  async whenEnded(runId: string): Promise<void> {
    await this.#live.get(runId)?.done;
  }

  /** Resolves when every run live now has ended, or after `timeoutMs`, whichever comes first. */
  async drain(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all([...this.#live.values()].map((run) => run.done)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Cancels every live run with `reason` and waits until each has its terminal event. */
  async shutdown(reason = 'the gateway is shutting down'): Promise<void> {
    const runs = [...this.#live.values()];
    for (const run of runs) run.abort(reason, 'shutdown');
    await Promise.all(runs.map((run) => run.done));
  }

  /**
   * The run that most recently appended an event, and when (`performance.now()`). An agent that
   * blocks the event loop usually yields right after: this names the likely culprit of a stall.
   */
  get lastEmit(): { runId: string; agent: string; at: number } | undefined {
    return this.#log.lastEmit;
  }

  /** Drives a started run to its end; never rejects. */
  async #run(run: LiveRun, input: unknown, started: EventBody): Promise<void> {
    try {
      await this.#drive(run, input);
    } catch (error) {
      // Only the store can fail here (the agent's errors are caught inside): end the run with
      // AW_STORE_ERROR, or at least mark it ended, so its followers end. Never an unhandled rejection.
      run.abort('the run log failed', 'failure');
      const unlogged = error instanceof StoreRefusal ? error.unlogged : [];
      const closing = closingsAfterRefusal(unlogged, run.invariants.closeDescendants(undefined, STORE_ERROR));
      const ended = await endRefusedRun(this.store, run.id, started, closing);
      console.error(
        `[agentwire] run ${run.id}: the run log refused an event; the run was ${ended === 'logged' ? `ended with ${STORE_ERROR.code}` : ended === 'marked' ? 'marked failed (the log refused its run.failed too)' : 'abandoned (the log refused to record its end)'}:`,
        error instanceof StoreRefusal ? error.cause : error,
      );
      this.#reportEnd(run, { type: 'run.failed', error: STORE_ERROR });
    } finally {
      this.#live.delete(run.id);
      this.#subscribers.ended(run);
      this.#timeouts?.delete(run);
      run.finish();
    }
  }

  async #drive(run: LiveRun, input: unknown): Promise<void> {
    const unsubscribeCancel = this.store.onCancel(run.id, (reason) => run.abort(reason, 'cancel'));
    let iterator: AgentIterator | undefined;
    let terminal: EventBody;
    try {
      iterator = openAgent(run, input, this.#onAgentError);
      const pumping = pump(run, iterator, this.#log);
      // A cancel ends the run at once, without waiting for an agent stuck in an await; but an
      // append in flight finishes first, so the terminal event still comes last.
      let outcome = await this.#untilAborted(run, pumping);
      run.wakeDrive = undefined;
      if (outcome === ABORTED && !run.inAgent) outcome = await pumping;
      if (outcome === ABORTED || run.aborted) {
        terminal = abortedTerminal(run);
      } else {
        terminal = {
          type: 'run.finished',
          ...(outcome.value === undefined ? {} : { output: outcome.value }),
          ...(run.usage === undefined ? {} : { usage: run.usage }),
        };
      }
    } catch (error) {
      if (error instanceof StoreRefusal) {
        // Not the agent's error: stop the agent, and let the caller end the run in the log.
        run.abort('the run log failed', 'failure');
        this.#settle(run, iterator);
        throw error;
      }
      if (run.aborted) {
        terminal = abortedTerminal(run);
      } else {
        this.#onAgentError(error, { runId: run.id, agent: run.agent.name });
        terminal = { type: 'run.failed', error: toErrorInfo(error, this.#exposeErrors) };
      }
    } finally {
      unsubscribeCancel();
    }
    if (terminal.type !== 'run.finished') {
      this.#settle(run, iterator);
      run.abort(terminal.type === 'run.cancelled' ? terminal.reason : 'the run failed', 'failure');
    }
    await this.#end(run, terminal);
  }

  /**
   * What `pumping` resolves, or ABORTED as soon as the run aborts (at once if it has), whichever
   * comes first: the race of the two in one promise. `pumping` rejecting before the abort rejects
   * it; a rejection after the abort comes from an agent left behind in an await (its `finally`
   * threw, or it threw its own error on the abort) and is reported.
   */
  #untilAborted(run: LiveRun, pumping: ReturnType<typeof pump>): ReturnType<typeof pump> {
    return new Promise((resolve, reject) => {
      run.wakeDrive = () => {
        run.wakeDrive = undefined;
        resolve(ABORTED);
      };
      if (run.aborted) resolve(ABORTED);
      pumping.then(resolve, (error: unknown) => {
        if (run.aborted) this.#cleanupFailed(run, error);
        reject(error);
      });
    });
  }

  /**
   * Settles a stopped agent's generator: its `finally` runs now, or as soon as its pending await
   * ends. What that `finally` throws is reported, not lost.
   */
  #settle(run: LiveRun, iterator: AgentIterator | undefined): void {
    if (!iterator?.return) return;
    try {
      const returned = iterator.return(undefined);
      if (returned instanceof Promise) returned.catch((error: unknown) => this.#cleanupFailed(run, error));
    } catch (error) {
      this.#cleanupFailed(run, error); // a sync generator's finally threw
    }
  }

  /** Reports what a stopped agent threw; the abort's own reason (an await on the run's signal) is not news. */
  #cleanupFailed(run: LiveRun, error: unknown): void {
    if (run.isAbortError(error)) return;
    const info: AgentErrorRun = { runId: run.id, agent: run.agent.name, phase: 'cleanup' };
    safely(() => this.#onAgentError(error, info));
    safely(() => this.#hooks.onAgentCleanupError?.(info));
  }

  #checkLimits(owner: string | undefined): void {
    if (this.#live.size >= this.#maxRuns) {
      throw new AgentwireError('AW_TOO_MANY_RUNS', `this gateway runs its maximum of ${this.#maxRuns} runs; retry shortly`, {
        details: { retryAfterSeconds: 5 },
      });
    }
    if (owner !== undefined && Number.isFinite(this.#maxRunsPerOwner)) {
      let mine = 0;
      for (const run of this.#live.values()) if (run.owner === owner) mine++;
      if (mine >= this.#maxRunsPerOwner) throw tooManyOwnerRuns(mine);
    }
  }

  async #end(run: LiveRun, terminal: EventBody): Promise<void> {
    const error: ErrorInfo =
      terminal.type === 'run.cancelled'
        ? { code: 'AW_RUN_CANCELLED', message: 'the run was cancelled while the step was open' }
        : terminal.type === 'run.failed'
          ? terminal.error
          : { code: 'AW_STEP_UNFINISHED', message: 'the step was still open when the run ended' };
    const closings = run.invariants.closeDescendants(undefined, error);
    for (let index = 0; index < closings.length; index++) {
      try {
        const appending = this.#log.emit(run, closings[index] as EventBody);
        if (appending !== undefined) await appending;
      } catch (cause) {
        if (cause instanceof StoreRefusal) cause.unlogged = closings.slice(index);
        throw cause;
      }
    }
    let final = terminal;
    try {
      const appending = this.#log.emit(run, terminal);
      if (appending !== undefined) await appending;
    } catch (cause) {
      if (cause instanceof StoreRefusal) throw cause;
      // The output could not be serialised: the run still needs its one terminal event.
      const message = cause instanceof Error ? cause.message : String(cause);
      final = { type: 'run.failed', error: { code: 'AW_INVALID_EVENT', message } };
      await this.#log.emit(run, final);
    }
    this.#reportEnd(run, final);
  }

  #reportEnd(run: LiveRun, final: EventBody): void {
    if (!this.#hooks.onRunEnd) return;
    const endedAt = Date.now();
    safely(() =>
      this.#hooks.onRunEnd?.({
        runId: run.id,
        agent: run.agent.name,
        owner: run.owner,
        startedAt: run.startedAt,
        outcome: final.type === 'run.finished' ? 'finished' : final.type === 'run.failed' ? 'failed' : 'cancelled',
        code: final.type === 'run.failed' ? final.error.code : undefined,
        abortSource: run.abortSource,
        durationMs: endedAt - run.startedAt,
        events: run.seq,
      }),
    );
  }
}

function safely(call: () => void): void {
  try {
    call();
  } catch {
    // An observer's failure must never affect a run.
  }
}

/** The terminal event of an aborted run: a timeout fails it, anything else cancels it. */
function abortedTerminal(run: LiveRun): EventBody {
  return run.timedOut
    ? { type: 'run.failed', error: { code: 'AW_RUN_TIMEOUT', message: run.cancelReason } }
    : { type: 'run.cancelled', reason: run.cancelReason };
}
