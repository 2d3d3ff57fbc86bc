/**
 * The iterator behind an in-process store's `follow`: batches after a cursor, then live ones as
 * they are appended, until the terminal event, the end of the run, or an abort. Written as a plain
 * async iterator rather than an async generator: a live subscriber takes one batch per wake-up, and
 * a generator's `yield` costs two extra promise hops per batch, per subscriber.
 *
 * It can also push: {@link Follower.forEachBatch} calls its callback synchronously at each wake-up,
 * with no promise per batch, which is how the gateway's streams read an in-process store.
 *
 * @module
 */
import { isTerminalType } from '../protocol/events.js';
import type { BatchHandler, StoredEvent } from './store.js';

/** What a {@link Follower} reads from. */
export interface FollowSource {
  /** The next batch after `cursor` (empty when there is none yet). */
  read(cursor: number): StoredEvent[];
  /** True once nothing more will ever be appended (the run ended, or the store closed). */
  ended(): boolean;
  /**
   * Calls `wake` after every append (and at close) until the returned function is called. A
   * follower listens from its first wait to its end, not once per wait, so a live subscriber
   * registers nothing per event.
   */
  listen(wake: () => void): () => void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/** See the module comment. */
export class Follower implements AsyncIterableIterator<StoredEvent[]> {
  readonly #source: FollowSource;
  readonly #signal: AbortSignal | undefined;
  #cursor: number;
  #done = false;
  /** The `next()` waiting for an append, or the push loop of `forEachBatch`, if one is. */
  #pending: ((result: IteratorResult<StoredEvent[]>) => void) | undefined;
  /** Stops listening to the source; set from the first wait on. */
  #unlisten: (() => void) | undefined;
  #listening = false;

  constructor(source: FollowSource, after: number, signal?: AbortSignal) {
    this.#source = source;
    this.#cursor = after;
    this.#signal = signal;
  }

  next(): Promise<IteratorResult<StoredEvent[]>> {
    const ready = this.#pull();
    if (ready) return Promise.resolve(ready);
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
      /** Hands one batch over; false when the loop has to wait for the consumer. */
      const deliver = (batch: StoredEvent[]): boolean => {
        let waiting: Promise<void> | undefined;
        try {
          waiting = onBatch(batch);
        } catch (error) {
          this.#finish();
          reject(error);
          return false;
        }
        if (waiting === undefined) return true;
        waiting.then(step, (error: unknown) => {
          this.#finish();
          reject(error);
        });
        return false;
      };
      /** What a wake-up (or the end) calls: carries the loop on from the batch it brings. */
      const woken = (result: IteratorResult<StoredEvent[]>) => {
        if (result.done) resolve();
        else if (deliver(result.value)) step();
      };
      const step = (): void => {
        for (;;) {
          const ready = this.#pull();
          if (!ready) {
            this.#pending = woken;
            this.#wait();
            return;
          }
          if (ready.done) return resolve();
          if (!deliver(ready.value)) return;
        }
      };
      step();
    });
  }

  /** A result available now, or `undefined` when the caller has to wait for an append. */
  #pull(): IteratorResult<StoredEvent[]> | undefined {
    if (this.#done) return DONE;
    // Once listening, an abort reaches `#aborted`; before, it is checked here (one object less to
    // touch per event per subscriber).
    if (!this.#listening && this.#signal?.aborted) {
      this.#finish();
      return DONE;
    }
    const batch = this.#source.read(this.#cursor);
    if (batch.length > 0) {
      const last = batch[batch.length - 1] as StoredEvent;
      this.#cursor = last.seq;
      if (isTerminalType(last.type)) this.#finish();
      return { value: batch, done: false };
    }
    if (this.#source.ended()) {
      this.#finish();
      return DONE;
    }
    return undefined;
  }

  #wait(): void {
    this.#unlisten ??= this.#source.listen(this.#woken);
    if (this.#signal && !this.#listening) {
      // One abort listener for the whole follow, not one per wait.
      this.#listening = true;
      this.#signal.addEventListener('abort', this.#aborted, { once: true });
    }
  }

  /** Called at every append: carries on a `next()` or push loop that waits, if one does. */
  readonly #woken = (): void => {
    const resolve = this.#pending;
    if (!resolve) return;
    const ready = this.#pull();
    if (!ready) return;
    this.#pending = undefined;
    resolve(ready);
  };

  readonly #aborted = (): void => {
    const resolve = this.#pending;
    this.#finish();
    resolve?.(DONE);
  };

  #finish(): void {
    this.#done = true;
    this.#pending = undefined;
    this.#unlisten?.();
    this.#unlisten = undefined;
    if (this.#listening) {
      this.#listening = false;
      this.#signal?.removeEventListener('abort', this.#aborted);
    }
  }
}
