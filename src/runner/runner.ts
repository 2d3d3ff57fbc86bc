/**
 * The runner: starts runs, drives each agent's generator, stamps `seq` and `at`, enforces the
 * run invariants, appends to the store, and applies cancel and the disconnect policy.
 *
 * @module
 */
import type { AgentYield, ErrorInfo, EventBody, Usage } from '../protocol/events.js';
import { AgentwireError } from '../protocol/errors.js';
import { acceptCanonicalYield, validateAgentYield } from '../protocol/validate.js';
import type { AgentContext, AgentDefinition, AgentItem } from '../producer/agent.js';
import { createScope } from '../producer/scope.js';
import type { RunRecord, RunStore, StoredEvent } from '../store/store.js';
import { toStoredEvent } from '../store/store.js';
import { AgentRegistry, type AgentsInput } from './agents.js';
import { toErrorInfo } from './errors.js';
import { RunInvariants } from './invariants.js';
import { currentTurn, turnPassed } from './loop-turns.js';
import { createRunId } from './run-id.js';
import { STORE_ERROR, StoreRefusal, closingsAfterRefusal, endRefusedRun, refused } from './store-failure.js';

/** Options of {@link Runner}. */
export interface RunnerOptions {
  store: RunStore;
  agents: AgentsInput;
  /**
   * How long a run with no subscriber keeps going before it is cancelled, in ms, so a reconnecting
   * client can pick it up; `'continue'` never cancels (background runs). @defaultValue 30000
   */
  graceMs?: number | 'continue';
  /**
   * How long a run started with no subscriber waits for its first one, in ms, when that is longer
   * than `graceMs`: the time for a client to create a run, then subscribe (one round trip), even
   * with `graceMs: 0`. Once a subscriber has come, `graceMs` alone applies. @defaultValue 5000
   */
  attachWindowMs?: number;
  /** Show unexpected agent errors' messages to clients (development). @defaultValue false */
  exposeErrors?: boolean;
  /**
   * Called with every error an agent throws (masked or not), once each; `phase: 'cleanup'` for one
   * thrown by its `finally` after the run was stopped. @defaultValue logs to `console.error`
   */
  onAgentError?: (error: unknown, run: AgentErrorRun) => void;
  /** Most runs this runner drives at once; one more is refused with `AW_TOO_MANY_RUNS`. @defaultValue unlimited */
  maxRuns?: number;
  /** Most runs one owner has running at once. @defaultValue unlimited */
  maxRunsPerOwner?: number;
  /** Longest a run may take, in ms, before it fails with `AW_RUN_TIMEOUT`; 0 for no limit. @defaultValue 0 */
  maxRunMs?: number;
  /** Called when a run starts and when it ends (logs, metrics). */
  hooks?: RunnerHooks;
}

/** The run an agent error belongs to, as {@link RunnerOptions.onAgentError} is told. */
export interface AgentErrorRun {
  runId: string;
  agent: string;
  /** `'cleanup'`: thrown by the agent's `finally` (or an `await` in it) after its run was stopped. */
  phase?: 'cleanup';
}

/** The one-line summary logged with an agent's error: which agent, which run, and when it threw. */
export function describeAgentError(run: AgentErrorRun): string {
  return `agent "${run.agent}" ${run.phase === 'cleanup' ? 'threw in its finally after the run stopped' : 'failed'} in run ${run.runId}`;
}

/** What stopped a run early. */
export type AbortSource = 'cancel' | 'disconnect' | 'timeout' | 'shutdown' | 'failure';

/** A run as the hooks see it. */
export interface RunInfo {
  runId: string;
  agent: string;
  owner: string | undefined;
  startedAt: number;
}

/** A finished run as the end hook sees it. */
export interface RunEndInfo extends RunInfo {
  outcome: 'finished' | 'failed' | 'cancelled';
  /** The error code of a failed run. */
  code: string | undefined;
  /** What stopped it early, if anything did. */
  abortSource: AbortSource | undefined;
  durationMs: number;
  /** Events in its log. */
  events: number;
}

/** Observers of the runner. Exceptions they throw are ignored. */
export interface RunnerHooks {
  onRunStart?(run: RunInfo): void;
  onRunEnd?(run: RunEndInfo): void;
  /** An agent's `finally` threw after its run was stopped (the error goes to `onAgentError`). */
  onAgentCleanupError?(run: AgentErrorRun): void;
}

/**
 * A subscriber's registration with the {@link Runner}: call it when the subscriber leaves, with
 * `returning` true when it will be back within a client's round trip (a long-poll between two of
 * its polls): the run then waits for it as for a run's first subscriber (see
 * {@link RunnerOptions.attachWindowMs}) rather than `graceMs` alone.
 */
export interface Attachment {
  (returning?: boolean): void;
  /**
   * Tells the runner the subscriber's connection is full (`true`: it waits for the client to read)
   * or takes bytes again (`false`). While every subscriber of a run is full, the runner asks its
   * agent for nothing more, so a client that stops reading pauses the producer instead of growing
   * the log and the heap. Runs with `graceMs: 'continue'` and runs in a shared store never pause.
   */
  blocked(full: boolean): void;
}

/** A request to start a run. */
export interface StartRunRequest {
  agent?: string | undefined;
  input: unknown;
  owner?: string | undefined;
}

const ABORTED = Symbol('aborted');
const NO_SUBSCRIBER_REASON = 'no subscriber reconnected within the grace period';
/** Yield to the event loop at least this often, so sockets are written while a fast agent runs. */
const EVENTS_PER_TURN = 64;
const MS_PER_TURN = 8;

interface LiveRun {
  readonly id: string;
  readonly agent: AgentDefinition;
  readonly controller: AbortController;
  readonly invariants: RunInvariants;
  readonly done: Promise<void>;
  /** A synchronous appender for this run, when the store has one (see `#appenderFor`). */
  readonly append: ((event: StoredEvent) => void) | undefined;
  readonly owner: string | undefined;
  seq: number;
  timedOut: boolean;
  timeout: ReturnType<typeof setTimeout> | undefined;
  abortSource: AbortSource | undefined;
  readonly startedAt: number;
  subscribers: number;
  graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** True while the runner waits for the agent's next item. */
  inAgent: boolean;
  /** Subscribers whose connection is full right now (see {@link Attachment.blocked}). */
  blocked: number;
  /** Wakes a run paused for its subscribers. */
  resume: (() => void) | undefined;
  usage: Usage | undefined;
  cancelReason: string;
  /** The loop turn (see `loop-turns.ts`) the counts below belong to. */
  turn: number;
  /** Events emitted in that turn, and when it started to emit (wall clock, ms). */
  eventsSinceTurn: number;
  lastTurnAt: number;
}

/** Drives agent runs into a {@link RunStore}. One per gateway process. */
export class Runner {
  readonly agents: AgentRegistry;
  readonly store: RunStore;
  readonly #graceMs: number | 'continue';
  /** The wait for a run's first subscriber: the larger of `graceMs` and `attachWindowMs`. */
  readonly #firstAttachMs: number;
  readonly #exposeErrors: boolean;
  readonly #onAgentError: (error: unknown, run: AgentErrorRun) => void;
  readonly #live = new Map<string, LiveRun>();
  readonly #maxRuns: number;
  readonly #maxRunsPerOwner: number;
  readonly #maxRunMs: number;
  readonly #hooks: RunnerHooks;
  /** The run that appended last, and when (see {@link Runner.lastEmit}). */
  #lastEmitRun: LiveRun | undefined;
  #lastEmitAt = 0;

  constructor(options: RunnerOptions) {
    this.#hooks = options.hooks ?? {};
    this.#maxRuns = options.maxRuns ?? Number.POSITIVE_INFINITY;
    this.#maxRunsPerOwner = options.maxRunsPerOwner ?? Number.POSITIVE_INFINITY;
    this.#maxRunMs = options.maxRunMs ?? 0;
    this.store = options.store;
    this.agents = new AgentRegistry(options.agents);
    const grace = options.graceMs ?? 30_000;
    if (grace !== 'continue' && (!Number.isFinite(grace) || grace < 0)) {
      throw new AgentwireError('AW_INVALID_OPTION', `graceMs must be a non-negative number of ms or 'continue', got ${String(grace)}`);
    }
    this.#graceMs = grace;
    const attachWindow = options.attachWindowMs ?? 5_000;
    if (!Number.isFinite(attachWindow) || attachWindow < 0) {
      throw new AgentwireError('AW_INVALID_OPTION', `attachWindowMs must be a non-negative number of ms, got ${String(attachWindow)}`);
    }
    this.#firstAttachMs = grace === 'continue' ? 0 : Math.max(grace, attachWindow);
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
    try {
      // Checked before the run is recorded: a `run.started` that cannot be serialised would leave a
      // run that never ends (and a `shutdown` that waits for it forever).
      JSON.stringify(request.input);
    } catch (cause) {
      throw new AgentwireError('AW_BAD_REQUEST', `the run's input cannot be serialised as JSON: ${(cause as Error).message}`, { cause });
    }
    const id = createRunId();
    const now = Date.now();
    const record: RunRecord = { id, agent: agent.name, owner: request.owner, createdAt: now, status: 'running', endedAt: undefined, lastSeq: 0 };
    // The store checks the owner's limit again, atomically and across every process sharing it.
    await this.store.createRun(record, Number.isFinite(this.#maxRunsPerOwner) ? { maxRunsPerOwner: this.#maxRunsPerOwner } : undefined);
    let finish!: () => void;
    const run: LiveRun = {
      id,
      agent,
      controller: new AbortController(),
      invariants: new RunInvariants(),
      append: this.#appenderFor(id),
      done: new Promise<void>((resolve) => {
        finish = resolve;
      }),
      owner: request.owner,
      seq: 0,
      timedOut: false,
      timeout: undefined,
      abortSource: undefined,
      startedAt: now,
      subscribers: 0,
      graceTimer: undefined,
      inAgent: false,
      blocked: 0,
      resume: undefined,
      usage: undefined,
      cancelReason: 'cancelled',
      turn: -1,
      eventsSinceTurn: 0,
      lastTurnAt: now,
    };
    this.#live.set(id, run);
    const started: EventBody = { type: 'run.started', runId: id, agent: agent.name, input: request.input };
    try {
      await this.#emit(run, started);
    } catch (error) {
      // The store refused the first event: the run never started, but its record exists: end it
      // there too, so nothing waits for it (nor for it in shutdown).
      this.#live.delete(id);
      await endRefusedRun(this.store, id, started, []);
      finish();
      throw error instanceof StoreRefusal ? error.cause : error;
    }
    // Usually a subscriber attaches within this turn (start-and-stream): arm the timer for the
    // first subscriber only if none has by the next one, rather than set and clear a timer per run.
    setImmediate(() => {
      if (this.#live.has(id)) this.#armGrace(run, this.#firstAttachMs);
    });
    safely(() => this.#hooks.onRunStart?.({ runId: id, agent: agent.name, owner: request.owner, startedAt: now }));
    if (this.#maxRunMs > 0) {
      run.timeout = setTimeout(() => {
        run.timedOut = true;
        this.#abort(run, `the run exceeded its time limit of ${this.#maxRunMs} ms`, 'timeout');
      }, this.#maxRunMs);
      run.timeout.unref?.();
    }
    this.#drive(run, request.input)
      .catch(async (error: unknown) => {
        // Only the store can fail here (the agent's errors are caught inside): end the run with
        // AW_STORE_ERROR, or at least mark it ended, so its followers end. Never an unhandled rejection.
        this.#abort(run, 'the run log failed', 'failure');
        const unlogged = error instanceof StoreRefusal ? error.unlogged : [];
        const closing = closingsAfterRefusal(unlogged, run.invariants.closeDescendants(undefined, STORE_ERROR));
        const ended = await endRefusedRun(this.store, id, started, closing);
        console.error(
          `[agentwire] run ${id}: the run log refused an event; the run was ${ended === 'logged' ? `ended with ${STORE_ERROR.code}` : ended === 'marked' ? 'marked failed (the log refused its run.failed too)' : 'abandoned (the log refused to record its end)'}:`,
          error instanceof StoreRefusal ? error.cause : error,
        );
        this.#reportEnd(run, { type: 'run.failed', error: STORE_ERROR });
      })
      .finally(() => {
        this.#live.delete(id);
        if (run.graceTimer) clearTimeout(run.graceTimer);
        if (run.timeout) clearTimeout(run.timeout);
        finish();
      });
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
    // A store shared by several processes learns of the subscriber too, so the process producing
    // the run (maybe another one) does not cancel it while it is watched from here.
    const releaseShared = this.store.addSubscriber?.(runId);
    const run = this.#live.get(runId);
    if (!run) return Object.assign(() => releaseShared?.(), { blocked: () => {} });
    run.subscribers++;
    if (run.graceTimer) {
      clearTimeout(run.graceTimer);
      run.graceTimer = undefined;
    }
    // Backpressure pauses an agent only when this process sees every subscriber (a shared store
    // may have fast ones elsewhere) and the run is tied to its watchers (not a background run).
    const pausable = releaseShared === undefined && this.#graceMs !== 'continue';
    let released = false;
    let isBlocked = false;
    const setBlocked = (full: boolean) => {
      if (released || !pausable || full === isBlocked) return;
      isBlocked = full;
      run.blocked += full ? 1 : -1;
      if (!full) run.resume?.();
    };
    return Object.assign(
      (returning = false) => {
        if (released) return;
        setBlocked(false);
        released = true;
        releaseShared?.();
        run.subscribers--;
        run.resume?.();
        // No grace: stop the producer now rather than a timer turn later (a fast agent yields dozens
        // of events per turn, all for nobody).
        if (returning) this.#armGrace(run, this.#firstAttachMs);
        else if (this.#graceMs === 0 && run.subscribers === 0) void this.#graceExpired(run);
        else this.#armGrace(run);
      },
      { blocked: setBlocked },
    );
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
    for (const run of runs) this.#abort(run, reason, 'shutdown');
    await Promise.all(runs.map((run) => run.done));
  }

  #armGrace(run: LiveRun, delayMs: number = this.#graceMs === 'continue' ? 0 : this.#graceMs): void {
    // A run that has ended needs no timer: its last subscriber leaves after the terminal event, and
    // a timer then would keep the run's objects alive for the whole grace period.
    if (this.#graceMs === 'continue' || run.subscribers > 0 || run.controller.signal.aborted || !this.#live.has(run.id)) return;
    if (run.graceTimer) clearTimeout(run.graceTimer);
    run.graceTimer = setTimeout(() => {
      run.graceTimer = undefined;
      if (run.subscribers === 0) void this.#graceExpired(run);
    }, delayMs);
    run.graceTimer.unref?.();
  }

  /** Cancels a run left without subscribers, unless another process sharing the store has one (then waits another grace period). */
  async #graceExpired(run: LiveRun): Promise<void> {
    // When the shared store cannot answer, assume a subscriber elsewhere rather than cancel a watched run.
    const elsewhere = this.store.hasSubscribers ? await this.store.hasSubscribers(run.id).catch(() => true) : false;
    if (run.subscribers > 0 || run.controller.signal.aborted || !this.#live.has(run.id)) return;
    if (elsewhere) this.#armGrace(run);
    else this.#abort(run, NO_SUBSCRIBER_REASON, 'disconnect');
  }

  #abort(run: LiveRun, reason: string, source: AbortSource): void {
    if (run.controller.signal.aborted) return;
    run.cancelReason = reason;
    run.abortSource = source;
    run.controller.abort(new DOMException(reason, 'AbortError'));
  }

  async #drive(run: LiveRun, input: unknown): Promise<void> {
    const { controller } = run;
    const unsubscribeCancel = this.store.onCancel(run.id, (reason) => this.#abort(run, reason, 'cancel'));
    let iterator: Iterator<AgentItem, unknown> | AsyncIterator<AgentItem, unknown> | undefined;
    let terminal: EventBody;
    try {
      iterator = this.#open(run, input);
      const pumping = this.#pump(run, iterator);
      // Rejections before an abort are handled below. One after it comes from an agent left behind
      // in an await: its `finally` threw (or it threw its own error on the abort).
      pumping.catch((error: unknown) => {
        if (controller.signal.aborted) this.#cleanupFailed(run, error);
      });
      // A cancel ends the run at once, without waiting for an agent stuck in an await; but an
      // append in flight finishes first, so the terminal event still comes last.
      let outcome = await Promise.race([pumping, whenAborted(controller.signal)]);
      if (outcome === ABORTED && !run.inAgent) outcome = await pumping;
      if (outcome === ABORTED || controller.signal.aborted) {
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
        this.#abort(run, 'the run log failed', 'failure');
        this.#settle(run, iterator);
        throw error;
      }
      if (controller.signal.aborted) {
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
      this.#abort(run, terminal.type === 'run.cancelled' ? terminal.reason : 'the run failed', 'failure');
    }
    await this.#end(run, terminal);
  }

  /**
   * Settles a stopped agent's generator: its `finally` runs now, or as soon as its pending await
   * ends. What that `finally` throws is reported, not lost; the abort's own reason (an await on the
   * run's signal in it) is not news.
   */
  #settle(run: LiveRun, iterator: Iterator<AgentItem, unknown> | AsyncIterator<AgentItem, unknown> | undefined): void {
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
    // The abort itself is not news (its reason, or an AbortError such as a cancelled fetch's).
    if (isAbortError(error, run.controller.signal)) return;
    const info: AgentErrorRun = { runId: run.id, agent: run.agent.name, phase: 'cleanup' };
    safely(() => this.#onAgentError(error, info));
    safely(() => this.#hooks.onAgentCleanupError?.(info));
  }

  /** Calls the agent and returns its iterator, with a clear error when it is not a generator. */
  #open(run: LiveRun, input: unknown): Iterator<AgentItem, unknown> | AsyncIterator<AgentItem, unknown> {
    const context: AgentContext = {
      ...createScope(
        {
          signal: run.controller.signal,
          nextId: (() => {
            const counters = { s: 0, c: 0 };
            return (prefix: 's' | 'c') => `${prefix}${++counters[prefix]}`;
          })(),
          toErrorInfo: (error) => toErrorInfo(error, this.#exposeErrors),
        },
        undefined,
      ),
      runId: run.id,
      agent: run.agent.name,
      input,
      signal: run.controller.signal,
      reportUsage: (usage) => {
        run.usage = usage;
      },
      sleep: createSleeper(run.controller.signal),
    };
    const produced: unknown = run.agent.run(context);
    const iterable = produced as Partial<AsyncIterable<AgentItem> & Iterable<AgentItem>> | null;
    const iterator = iterable?.[Symbol.asyncIterator]?.() ?? iterable?.[Symbol.iterator]?.();
    if (typeof produced === 'string' || !iterator) {
      if (produced instanceof Promise) {
        // A plain async function runs anyway: report its own rejection, and keep the one caused by
        // this run's abort from becoming an unhandled rejection (which would crash the process).
        produced.catch((error: unknown) => {
          if (error !== run.controller.signal.reason) this.#onAgentError(error, { runId: run.id, agent: run.agent.name });
        });
      }
      throw new AgentwireError(
        'AW_INVALID_EVENT',
        `agent "${run.agent.name}" returned ${produced instanceof Promise ? 'a Promise' : typeof produced}; an agent must be an async generator function (async function*)`,
      );
    }
    return iterator as Iterator<AgentItem, unknown> | AsyncIterator<AgentItem, unknown>;
  }

  /**
   * Pulls the agent's items into the log until it returns (resolves its result), the run is
   * aborted (resolves ABORTED) or it throws. The hot path: per event, one await on the agent and
   * none on a synchronous store.
   */
  async #pump(
    run: LiveRun,
    iterator: Iterator<AgentItem, unknown> | AsyncIterator<AgentItem, unknown>,
  ): Promise<IteratorResult<AgentItem, unknown> | typeof ABORTED> {
    const { signal } = run.controller;
    for (;;) {
      if (run.blocked !== 0 && run.blocked >= run.subscribers) await this.#whileBlocked(run);
      if (signal.aborted) return ABORTED;
      run.inAgent = true;
      const next = await iterator.next();
      run.inAgent = false;
      if (signal.aborted) return ABORTED;
      if (next.done) return next;
      const item = toYield(next.value);
      const closings = run.invariants.accept(item);
      let index = 0;
      try {
        for (; index < closings.length; index++) {
          const appending = this.#emit(run, closings[index] as EventBody);
          if (appending !== undefined) await appending;
        }
        const appending = this.#emit(run, item);
        if (appending !== undefined) await appending;
      } catch (error) {
        // The invariants counted these; the run's end must know the log has none of them.
        if (error instanceof StoreRefusal) error.unlogged = [...closings.slice(index), item];
        throw error;
      }
      // Count only what the agent produced within this turn of the loop: a paced agent (a timer
      // or I/O between events) is in a new turn at every event and never needs the extra hop.
      const turn = currentTurn();
      if (turn !== run.turn) {
        run.turn = turn;
        run.eventsSinceTurn = 0;
        run.lastTurnAt = this.#lastEmitAt;
      }
      if (++run.eventsSinceTurn >= EVENTS_PER_TURN || this.#lastEmitAt - run.lastTurnAt >= MS_PER_TURN) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        turnPassed();
      }
    }
  }

  /**
   * Waits while every subscriber of the run is blocked (its connection full): the agent is not
   * asked for more until one can take bytes again, leaves, or the run is aborted.
   */
  async #whileBlocked(run: LiveRun): Promise<void> {
    const { signal } = run.controller;
    while (run.blocked !== 0 && run.blocked >= run.subscribers && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener('abort', wake);
          run.resume = undefined;
          resolve();
        };
        run.resume = wake;
        signal.addEventListener('abort', wake, { once: true });
      });
    }
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
      if (mine >= this.#maxRunsPerOwner) {
        throw new AgentwireError('AW_TOO_MANY_RUNS', `you have ${mine} runs running, the maximum; wait for one to end or cancel one`, {
          details: { retryAfterSeconds: 5 },
        });
      }
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
        await this.#emit(run, closings[index] as EventBody);
      } catch (cause) {
        if (cause instanceof StoreRefusal) cause.unlogged = closings.slice(index);
        throw cause;
      }
    }
    let final = terminal;
    try {
      await this.#emit(run, terminal);
    } catch (cause) {
      if (cause instanceof StoreRefusal) throw cause;
      // The output could not be serialised: the run still needs its one terminal event.
      const message = cause instanceof Error ? cause.message : String(cause);
      final = { type: 'run.failed', error: { code: 'AW_INVALID_EVENT', message } };
      await this.#emit(run, final);
    }
    this.#reportEnd(run, final);
  }

  #reportEnd(run: LiveRun, final: EventBody): void {
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

  /**
   * The run that most recently appended an event, and when (`performance.now()`). An agent that
   * blocks the event loop usually yields right after: this names the likely culprit of a stall.
   */
  get lastEmit(): { runId: string; agent: string; at: number } | undefined {
    const run = this.#lastEmitRun;
    // Kept as the event's wall-clock `at` (no second clock read per event); told on the monotonic clock.
    return run ? { runId: run.id, agent: run.agent.name, at: performance.now() - (Date.now() - this.#lastEmitAt) } : undefined;
  }

  /** Appends one event. Returns a promise only when the store is asynchronous. */
  #emit(run: LiveRun, body: EventBody): Promise<void> | undefined {
    // `type`, `seq` and `at` first, then the body: V8 builds this from the literal's shape with the
    // body's fields in the object. Spreading the body first and adding `seq` and `at` after made
    // an object twice the size, with its fields out of line, at ~1 µs more per event.
    const event = { type: body.type, seq: run.seq + 1, at: Date.now(), ...(body as object) } as Parameters<typeof toStoredEvent>[0];
    let stored: ReturnType<typeof toStoredEvent>;
    try {
      stored = toStoredEvent(event);
    } catch (cause) {
      throw new AgentwireError('AW_INVALID_EVENT', `a "${body.type}" event could not be serialised as JSON: ${(cause as Error).message}`, { cause });
    }
    this.#lastEmitRun = run;
    this.#lastEmitAt = event.at;
    if (run.append === undefined) {
      run.seq++;
      return this.store.append(run.id, [stored]).catch(refused);
    }
    try {
      run.append(stored);
    } catch (cause) {
      refused(cause);
    }
    run.seq++;
    return undefined;
  }

  /** The synchronous appender of a run (`openAppender`), when the store has one. `undefined`: append and await. */
  #appenderFor(runId: string): ((event: StoredEvent) => void) | undefined {
    return this.store.openAppender?.(runId);
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

/** A yielded item as an event body: strings become answer text; objects are validated. */
function toYield(item: unknown): AgentYield {
  if (typeof item === 'string') return { type: 'text.delta', text: item };
  const canonical = acceptCanonicalYield(item);
  if (canonical !== undefined) return canonical;
  const check = validateAgentYield(item);
  if (!check.ok) throw new AgentwireError('AW_INVALID_EVENT', check.message);
  return check.value;
}

/** True for the rejection an abort itself causes (the signal's reason, or an `AbortError` such as fetch's). */
function isAbortError(error: unknown, signal: AbortSignal): boolean {
  return error === signal.reason || (error instanceof Error && error.name === 'AbortError');
}

/** Resolves ABORTED when the signal aborts (at once if it has). */
function whenAborted(signal: AbortSignal): Promise<typeof ABORTED> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(ABORTED);
    else signal.addEventListener('abort', () => resolve(ABORTED), { once: true });
  });
}

/**
 * `ctx.sleep` for one run: {@link sleep} with one abort listener for all of the run's sleeps (an
 * agent that sleeps before each event would otherwise add and remove a listener per event). An
 * agent sleeps once at a time almost always: that sleep is held in a variable, and only sleeps
 * started while another is pending go into a set (a set operation per event was a cache miss per
 * event with thousands of runs).
 */
function createSleeper(signal: AbortSignal): (milliseconds: number) => Promise<void> {
  interface Sleeping {
    timer: ReturnType<typeof setTimeout> | undefined;
    reject: (reason: unknown) => void;
  }
  let only: Sleeping | undefined;
  let more: Set<Sleeping> | undefined;
  let listening = false;
  const onAbort = () => {
    const all = more ? [...more] : [];
    if (only) all.push(only);
    only = undefined;
    more = undefined;
    for (const entry of all) {
      clearTimeout(entry.timer);
      entry.reject(signal.reason);
    }
  };
  return (milliseconds) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      if (!listening) {
        listening = true;
        signal.addEventListener('abort', onAbort, { once: true });
      }
      const entry: Sleeping = { timer: undefined, reject };
      entry.timer = setTimeout(() => {
        if (only === entry) only = undefined;
        else more?.delete(entry);
        resolve();
      }, milliseconds);
      if (only === undefined) only = entry;
      else (more ??= new Set()).add(entry);
    });
}

/** Resolves after `milliseconds`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(milliseconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
