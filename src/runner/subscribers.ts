/**
 * The disconnect policy: who watches each run, how long a run with no subscriber keeps going (the
 * grace period; the attach window for its first subscriber and for a returning long-poll), and
 * backpressure that pauses an agent while every subscriber's connection is full.
 *
 * @module
 */
import type { RunStore } from '../store/store.js';
import { Deadlines } from './deadlines.js';
import type { LiveRun } from './live-run.js';
import type { RunnerOptions } from './options.js';
import type { Runner } from './runner.js';

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

const NO_SUBSCRIBER_REASON = 'no subscriber reconnected within the grace period';
const NOT_LIVE: Attachment = Object.assign(() => {}, { blocked: () => {} });

/** Applies the disconnect policy to a runner's live runs. */
export class SubscriberPolicy {
  readonly #store: RunStore;
  readonly #live: ReadonlyMap<string, LiveRun>;
  readonly #continue: boolean;
  readonly #graceMs: number;
  /** The waits for a subscriber: one for the grace period, one for the attach window (`undefined` with `'continue'`). */
  readonly #grace: Deadlines<LiveRun> | undefined;
  readonly #window: Deadlines<LiveRun> | undefined;

  /** `firstAttachMs`: the wait for a run's first subscriber, the larger of `graceMs` and the attach window. */
  constructor(store: RunStore, live: ReadonlyMap<string, LiveRun>, graceMs: number | 'continue', firstAttachMs: number) {
    this.#store = store;
    this.#live = live;
    this.#continue = graceMs === 'continue';
    this.#graceMs = graceMs === 'continue' ? 0 : graceMs;
    if (graceMs !== 'continue') {
      this.#grace = new Deadlines(graceMs, this.#onDue);
      this.#window = firstAttachMs === graceMs ? this.#grace : new Deadlines(firstAttachMs, this.#onDue);
    }
  }

  /** A run has started: it waits for its first subscriber. */
  started(run: LiveRun): void {
    this.#wait(run, this.#window);
  }

  /** A run has ended: it waits for no one. */
  ended(run: LiveRun): void {
    this.#stopWaiting(run);
  }

  /** Registers a subscriber of `runId` (see `Runner.attach`). */
  attach(runId: string): Attachment {
    // A store shared by several processes learns of the subscriber too, so the process producing
    // the run (maybe another one) does not cancel it while it is watched from here.
    const releaseShared = this.#store.addSubscriber?.(runId);
    const run = this.#live.get(runId);
    if (!run) return releaseShared === undefined ? NOT_LIVE : Object.assign(() => releaseShared(), { blocked: NOT_LIVE.blocked });
    run.subscribers++;
    this.#stopWaiting(run);
    // Backpressure pauses an agent only when this process sees every subscriber (a shared store
    // may have fast ones elsewhere) and the run is tied to its watchers (not a background run).
    const pausable = releaseShared === undefined && !this.#continue;
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
        if (returning) this.#wait(run, this.#window);
        else if (!this.#continue && this.#graceMs === 0 && run.subscribers === 0) void this.#expired(run);
        else this.#wait(run, this.#grace);
      },
      { blocked: setBlocked },
    );
  }

  /** Starts the run's wait for a subscriber in `queue` (replacing any other wait). */
  #wait(run: LiveRun, queue: Deadlines<LiveRun> | undefined): void {
    // A run that has ended needs no wait: its last subscriber leaves after the terminal event, and
    // a deadline then would keep the run's objects alive for the whole grace period.
    if (queue === undefined || run.subscribers > 0 || run.aborted || !this.#live.has(run.id)) return;
    if (run.grace !== queue) run.grace?.delete(run);
    queue.add(run);
    run.grace = queue;
  }

  #stopWaiting(run: LiveRun): void {
    run.grace?.delete(run);
    run.grace = undefined;
  }

  readonly #onDue = (run: LiveRun): void => {
    run.grace = undefined;
    if (run.subscribers === 0) void this.#expired(run);
  };

  /** Cancels a run left without subscribers, unless another process sharing the store has one (then waits another grace period). */
  async #expired(run: LiveRun): Promise<void> {
    // When the shared store cannot answer, assume a subscriber elsewhere rather than cancel a watched run.
    const elsewhere = this.#store.hasSubscribers ? await this.#store.hasSubscribers(run.id).catch(() => true) : false;
    if (run.subscribers > 0 || run.aborted || !this.#live.has(run.id)) return;
    if (elsewhere) this.#wait(run, this.#grace);
    else run.abort(NO_SUBSCRIBER_REASON, 'disconnect');
  }
}
