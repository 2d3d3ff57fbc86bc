/**
 * One follower per process: the runs this process's subscribers follow, each a {@link RunWatch}
 * shared by all local subscribers of the run, fed by one reader for the whole process. On a single
 * Redis server the reader is one blocking `XREAD` over every followed run
 * ({@link BlockingReader}); on a Redis Cluster, where a blocking read cannot span slots, it reads
 * each run when told that events were stored ({@link ClusterReader}). Events this process stored
 * itself reach its subscribers at once, ahead of either reader.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import type { StoredEvent } from '../store/store.js';
import { BlockingReader } from './blocking-reader.js';
import { ClusterReader } from './cluster-reader.js';
import type { Connect } from './connect.js';
import type { RunKeys } from './redis-keys.js';
import { RunWatch } from './run-watch.js';

export { RunWatch };

/** How a follower learns of events stored by any process. */
export interface FollowReader {
  /** `watch` is followed from now on: read it from its `lastSeq`. */
  add(watch: RunWatch): void;
  /** `watch` is no longer followed. */
  remove(watch: RunWatch): void;
  /** This process stored events of `runId` up to `lastSeq`. */
  stored(runId: string, lastSeq: number): void;
  /** Reads issued so far (for tests and metrics). */
  readonly reads: number;
  /** Stops reading; resolves within about a second. */
  close(): Promise<void>;
}

/** What a {@link StreamFollower} is built from. */
export interface FollowerOptions {
  /** The store's command connection (a cluster client when the store runs on a cluster). */
  readonly commands: Redis;
  /** Opens the reader's own connections. */
  readonly connect: Connect;
  readonly keys: (runId: string) => RunKeys;
}

/** The followed runs of a {@link RedisStore} and the reader that feeds them. */
export class StreamFollower {
  readonly #reader: FollowReader;
  readonly #keys: (runId: string) => RunKeys;
  readonly #watches = new Map<string, RunWatch>();
  readonly #pendingWake = new Set<RunWatch>();
  #wakeScheduled = false;

  constructor(options: FollowerOptions) {
    this.#keys = options.keys;
    this.#reader = options.commands.isCluster
      ? new ClusterReader(options.connect, options.commands, (runId) => options.keys(runId).appended)
      : new BlockingReader(options.connect, options.commands);
  }

  /** Number of runs followed. */
  get size(): number {
    return this.#watches.size;
  }

  /** Reads issued to Redis for followed runs (for tests and metrics). */
  get reads(): number {
    return this.#reader.reads;
  }

  /** Starts following `runId` (from `lastSeq`, when no one here follows it yet). Pair with {@link release}. */
  acquire(runId: string, lastSeq: number): RunWatch {
    let watch = this.#watches.get(runId);
    if (!watch) {
      watch = new RunWatch(runId, this.#keys(runId).events, lastSeq);
      this.#watches.set(runId, watch);
      this.#reader.add(watch);
    }
    watch.refs++;
    return watch;
  }

  release(watch: RunWatch): void {
    watch.refs--;
    if (watch.refs > 0 || this.#watches.get(watch.runId) !== watch) return;
    this.#watches.delete(watch.runId);
    this.#reader.remove(watch);
  }

  /**
   * Hands events this process has just stored to its subscribers of the run, ahead of the reader
   * (which skips them when it reads them again), and tells the reader they were stored. A gap
   * restarts the window; subscribers behind it read Redis, so nothing is missed.
   */
  deliver(runId: string, events: readonly StoredEvent[]): void {
    const last = events[events.length - 1];
    if (!last) return;
    this.#reader.stored(runId, last.seq);
    const watch = this.#watches.get(runId);
    if (!watch) return;
    watch.push(events);
    // One wake per turn of the event loop, as in the memory store: a burst is read as one batch.
    this.#pendingWake.add(watch);
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      const pending = [...this.#pendingWake];
      this.#pendingWake.clear();
      for (const waiting of pending) waiting.wake();
    });
  }

  /** Ends the reader and wakes every waiting subscriber. */
  async close(): Promise<void> {
    const closing = this.#reader.close();
    for (const watch of this.#watches.values()) watch.wake();
    await closing;
  }
}
