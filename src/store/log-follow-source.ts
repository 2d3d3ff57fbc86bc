/**
 * One run's log as the source of a {@link Follower} in the in-memory store: one object with the
 * log and the batch bounds in its fields, so a live wake-up reads through it without a closure.
 *
 * @module
 */
import type { FollowSource, WakeListener } from './follower.js';
import type { RunLog } from './run-log.js';
import type { StoredEvent } from './store.js';

/** Whether the store closed, shared by every source of one store. */
export interface StoreStatus {
  closed: boolean;
}

/** Shared by every caught-up read: a follower never keeps or edits an empty batch. */
const NONE: readonly StoredEvent[] = Object.freeze([]);

/** See the module comment. */
export class LogFollowSource implements FollowSource {
  readonly #log: RunLog;
  readonly #maxBatch: number;
  readonly #maxBatchBytes: number;
  readonly #status: StoreStatus;

  constructor(log: RunLog, maxBatch: number, maxBatchBytes: number, status: StoreStatus) {
    this.#log = log;
    this.#maxBatch = maxBatch;
    this.#maxBatchBytes = maxBatchBytes;
    this.#status = status;
  }

  read(cursor: number): readonly StoredEvent[] {
    // Caught up (every push loop's second read of a wake-up): nothing to slice or allocate.
    if (cursor >= this.#log.lastSeq) return NONE;
    return this.#log.read(cursor, this.#maxBatch, this.#maxBatchBytes);
  }

  ended(): boolean {
    return this.#log.ended || this.#status.closed;
  }

  listen(listener: WakeListener): () => void {
    return this.#log.listen(listener);
  }
}
