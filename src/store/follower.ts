/**
 * The iterator behind an in-process store's `follow`: batches after a cursor, then live ones as
 * they are appended, until the terminal event, the end of the run, or an abort. Written as a plain
 * async iterator rather than an async generator: a live subscriber takes one batch per wake-up, and
 * a generator's `yield` costs two extra promise hops per batch, per subscriber.
 *
 * It can also push: {@link Follower.forEachBatch} calls its callback synchronously at each wake-up,
 * with no promise per batch, which is how the gateway's streams read an in-process store.
 *
 * A live wake-up touches, per subscriber, the follower and what it reads, and nothing else of its
 * own: the follower is its own listener (no closure per follow), its push loop's state is in its
 * fields (no closures over a context), and a caught-up read of a source that can tell returns a
 * shared empty batch. With thousands of runs each woken once per event, every separate object a
 * wake-up touches is a likely cache miss, which is most of what a live event costs.
 *
 * @module
 */
import { isTerminalType } from '../protocol/events.js';
import type { BatchHandler, StoredEvent } from './store.js';

/** What a source wakes after every append: see {@link FollowSource.listen}. */
export interface WakeListener {
  wake(): void;
}

/** What a {@link Follower} reads from. */
export interface FollowSource {
  /** The next batch after `cursor` (empty when there is none yet). */
  read(cursor: number): readonly StoredEvent[];
  /** True once nothing more will ever be appended (the run ended, or the store closed). */
  ended(): boolean;
  /**
   * Calls `listener.wake()` after every append (and at close) until the returned function is
   * called. A follower listens from its first wait to its end, not once per wait, so a live
   * subscriber registers nothing per event.
   */
  listen(listener: WakeListener): () => void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/** See the module comment. */
export class Follower implements AsyncIterableIterator<StoredEvent[]>, WakeListener {
  readonly #source: FollowSource;
  readonly #signal: AbortSignal | undefined;
  #cursor: number;
  #done = false;
  /** The `next()` waiting for an append, if one is. */
  #pending: ((result: IteratorResult<StoredEvent[]>) => void) | undefined;
  /** The push loop of `forEachBatch`, once started: its callback and how its promise settles. */
  #onBatch: BatchHandler | undefined;
  #resolve: (() => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  /** True while the push loop waits for an append (not for its consumer). */
  #pushWaiting = false;
  /** Stops listening to the source; set from the first wait on. */
  #unlisten: (() => void) | undefined;
  #listening = false;

  constructor(source: FollowSource, after: number, signal?: AbortSignal) {
    this.#source = source;
    this.#cursor = after;
    this.#signal = signal;
  }

  next(): Promise<IteratorResult<StoredEvent[]>> {
    const batch = this.#read();
    if (batch !== undefined) return Promise.resolve(batch === null ? DONE : { value: batch, done: false });
    return new Promise((resolve) => {
      this.#pending = resolve;
      this.#wait();
    });
  }

  /** Called when a `for await` loop is left early: stops waiting and lets go of the source. */
  return(): Promise<IteratorResult<StoredEvent[]>> {
    const pending = this.#pending;
    this.#finish();
    pending?.(DONE);
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * Calls `onBatch` with each batch, synchronously when it is appended (no promise per batch), until
   * the follow ends; resolves then. When `onBatch` returns a promise (its consumer is full), the next
   * batch waits for it. Rejects with what `onBatch` throws or rejects with. Use instead of iterating,
   * not as well.
   */
  forEachBatch(onBatch: BatchHandler): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#onBatch = onBatch;
      this.#resolve = resolve;
      this.#reject = reject;
      this.#step();
    });
  }

  /** Called by the source at every append: carries on a `next()` or push loop that waits, if one does. */
  wake(): void {
    if (this.#pushWaiting) {
      const batch = this.#read();
      if (batch === undefined) return;
      this.#pushWaiting = false;
      if (batch === null) (this.#resolve as () => void)();
      else if (this.#deliver(batch)) this.#step();
      return;
    }
    const resolve = this.#pending;
    if (!resolve) return;
    const batch = this.#read();
    if (batch === undefined) return;
    this.#pending = undefined;
    resolve(batch === null ? DONE : { value: batch, done: false });
  }

  /** The push loop: hands over batches until it has to wait for an append, its consumer, or the end. */
  #step(): void {
    for (;;) {
      const batch = this.#read();
      if (batch === undefined) {
        this.#pushWaiting = true;
        this.#wait();
        return;
      }
      if (batch === null) return (this.#resolve as () => void)();
      if (!this.#deliver(batch)) return;
    }
  }

  /** Hands one batch to the push loop's callback; false when the loop has to wait for it (or it failed). */
  #deliver(batch: StoredEvent[]): boolean {
    let waiting: Promise<void> | undefined;
    try {
      waiting = (this.#onBatch as BatchHandler)(batch);
    } catch (error) {
      this.#fail(error);
      return false;
    }
    if (waiting === undefined) return true;
    waiting.then(this.#consumed, this.#failed);
    return false;
  }

  /** The consumer took a batch it made the loop wait for: carry on. Bound once, used only under backpressure. */
  readonly #consumed = (): void => this.#step();
  readonly #failed = (error: unknown): void => this.#fail(error);

  #fail(error: unknown): void {
    this.#finish();
    (this.#reject as (error: unknown) => void)(error);
  }

  /**
   * A batch available now; `null` when the follow is over (the terminal event was handed over, the
   * run or the store ended, or it was aborted); `undefined` when the caller has to wait for an append.
   */
  #read(): StoredEvent[] | null | undefined {
    if (this.#done) return null;
    // Once listening, an abort reaches `#aborted`; before, it is checked here (one object less to
    // touch per event per subscriber).
    if (!this.#listening && this.#signal?.aborted) {
      this.#finish();
      return null;
    }
    const batch = this.#source.read(this.#cursor);
    if (batch.length > 0) {
      const last = batch[batch.length - 1] as StoredEvent;
      this.#cursor = last.seq;
      if (isTerminalType(last.type)) this.#finish();
      // A source's batches are the caller's own (only an empty one is shared).
      return batch as StoredEvent[];
    }
    if (this.#source.ended()) {
      this.#finish();
      return null;
    }
    return undefined;
  }

  #wait(): void {
    this.#unlisten ??= this.#source.listen(this);
    if (this.#signal && !this.#listening) {
      // One abort listener for the whole follow, not one per wait.
      this.#listening = true;
      this.#signal.addEventListener('abort', this.#aborted, { once: true });
    }
  }

  readonly #aborted = (): void => {
    const pending = this.#pending;
    const pushWaiting = this.#pushWaiting;
    this.#finish();
    pending?.(DONE);
    // A push loop waiting for its consumer sees the end when the consumer is done.
    if (pushWaiting) (this.#resolve as () => void)();
  };

  #finish(): void {
    this.#done = true;
    this.#pending = undefined;
    this.#pushWaiting = false;
    this.#unlisten?.();
    this.#unlisten = undefined;
    if (this.#listening) {
      this.#listening = false;
      this.#signal?.removeEventListener('abort', this.#aborted);
    }
  }
}
