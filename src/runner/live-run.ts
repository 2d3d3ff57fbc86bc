/**
 * One run the runner is driving: its counters, its subscribers' state and its abort. What only some
 * runs need is made when first asked for: the `AbortSignal` (when the agent reads `ctx.signal` or
 * calls a tool), the abort's reason (when something observes it), the promise of its end (when
 * someone waits for it). A short run that is never cancelled, watched or timed makes none of them.
 *
 * @module
 */
import type { ErrorInfo, Usage } from '../protocol/events.js';
import type { AgentDefinition } from '../producer/agent.js';
import type { ScopeHost } from '../producer/scope.js';
import type { StoredEvent } from '../store/store.js';
import type { Deadlines } from './deadlines.js';
import { toErrorInfo } from './errors.js';
import { RunInvariants } from './invariants.js';
import type { AbortSource } from './options.js';

/** Wakes a waiter when the run aborts. */
export type AbortWaker = () => void;

export class LiveRun implements ScopeHost {
  readonly id: string;
  readonly agent: AgentDefinition;
  readonly owner: string | undefined;
  readonly startedAt: number;
  readonly invariants = new RunInvariants();
  /** A synchronous appender for this run, when the store has one (see `RunLog.appenderFor`). */
  readonly append: ((event: StoredEvent) => void) | undefined;
  readonly #exposeErrors: boolean;
  seq = 0;
  usage: Usage | undefined = undefined;

  aborted = false;
  timedOut = false;
  abortSource: AbortSource | undefined = undefined;
  cancelReason = 'cancelled';
  #controller: AbortController | undefined = undefined;
  #reason: DOMException | undefined = undefined;
  /** Told of the abort, in this order, besides the signal's listeners: the drive loop, a paused pump, pending sleeps. */
  wakeDrive: AbortWaker | undefined = undefined;
  resume: AbortWaker | undefined = undefined;
  wakeSleepers: AbortWaker | undefined = undefined;

  subscribers = 0;
  /** Subscribers whose connection is full right now (see `Attachment.blocked`). */
  blocked = 0;
  /** The queue holding the run's wait for a subscriber, if it waits for one. */
  grace: Deadlines<LiveRun> | undefined = undefined;
  /** True while the runner waits for the agent's next item. */
  inAgent = false;
  /** The loop turn (see `loop-turns.ts`) the counts below belong to. */
  turn = -1;
  /** Events emitted in that turn, and when it started to emit (wall clock, ms). */
  eventsSinceTurn = 0;
  lastTurnAt: number;

  #ended = false;
  #done: Promise<void> | undefined = undefined;
  #finish: (() => void) | undefined = undefined;
  #ids: { s: number; c: number } | undefined = undefined;

  constructor(
    id: string,
    agent: AgentDefinition,
    owner: string | undefined,
    startedAt: number,
    append: ((event: StoredEvent) => void) | undefined,
    exposeErrors: boolean,
  ) {
    this.id = id;
    this.agent = agent;
    this.owner = owner;
    this.startedAt = startedAt;
    this.lastTurnAt = startedAt;
    this.append = append;
    this.#exposeErrors = exposeErrors;
  }

  /** The run's signal (the agent's `ctx.signal`); made on first use, aborted already if the run is. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.abortReason);
    }
    return this.#controller.signal;
  }

  /**
   * The abort's reason as agents see it (`ctx.signal.reason`, a rejected `ctx.sleep`): an
   * `AbortError` `DOMException` with the cancel reason as its message, made on first use.
   */
  get abortReason(): DOMException {
    return (this.#reason ??= new DOMException(this.cancelReason, 'AbortError'));
  }

  /** True for the rejection the abort itself causes: its reason, or an `AbortError` such as fetch's. */
  isAbortError(error: unknown): boolean {
    return (error !== undefined && error === this.#reason) || (error instanceof Error && error.name === 'AbortError');
  }

  /** Aborts the run once: records why, then tells the signal (if any) and every waiter. */
  abort(reason: string, source: AbortSource): void {
    if (this.aborted) return;
    this.aborted = true;
    this.cancelReason = reason;
    this.abortSource = source;
    this.#controller?.abort(this.abortReason);
    this.wakeDrive?.();
    this.resume?.();
    this.wakeSleepers?.();
  }

  /** Resolves once the run has ended (see {@link LiveRun.finish}). */
  get done(): Promise<void> {
    if (this.#done === undefined) {
      this.#done = this.#ended
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.#finish = resolve;
          });
    }
    return this.#done;
  }

  /** Marks the run ended: `done` resolves. */
  finish(): void {
    this.#ended = true;
    this.#finish?.();
  }

  nextId(prefix: 's' | 'c'): string {
    const ids = (this.#ids ??= { s: 0, c: 0 });
    return `${prefix}${++ids[prefix]}`;
  }

  toErrorInfo(error: unknown): ErrorInfo {
    return toErrorInfo(error, this.#exposeErrors);
  }
}
