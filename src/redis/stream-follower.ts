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
import { type FaultLog, isReplyError } from './fault-log.js';
import type { RunKeys } from './redis-keys.js';
import { RunWatch } from './run-watch.js';

/** How a follower learns of events stored by any process. */
export interface FollowReader {
  /** `watch` is followed from now on: read it from its `lastSeq`. */
  add(watch: RunWatch): void;
  /** `watch` is no longer followed. */
  remove(watch: RunWatch): void;
  /** This process stored events of `runId` up to `lastSeq`. */
  stored(runId: string, lastSeq: number): void;
  /** Redis refused this process's append to `runId`: its followers should read it now, to meet the refusal too. */
  refused(runId: string): void;
  /** Reads issued so far (for tests and metrics). */
  readonly reads: number;
  /** Stops reading; resolves within about a second. */
  close(): Promise<void>;
}

/** What a {@link FollowReader} tells of its reads: every outcome, so a failure's episode can close. */
export interface ReadOutcomes {
  /** A read succeeded (a reader reading runs separately tells it once none of their reads fails). */
  succeeded(): void;
  /**
   * A read of `runIds` failed with `error`; resolves once the runs it shows cannot be read were
   * ended, so the retry that follows skips them. Never rejects.
   */
  failed(runIds: readonly string[], error: unknown): Promise<void>;
}

/** What a {@link StreamFollower} is built from. */
export interface FollowerOptions {
  /** The store's command connection (a cluster client when the store runs on a cluster). */
  readonly commands: Redis;
  /** Opens the reader's own connections. */
  readonly connect: Connect;
  readonly keys: (runId: string) => RunKeys;
  /** Hears of failed reads (operation `follow`). */
  readonly faults?: FaultLog;
  /**
   * Given the runs of a read Redis refused (say `WRONGTYPE`: a run's key is not a stream), to end
   * those that cannot be read (with {@link StreamFollower.end}) before the read is retried.
   */
  readonly onReplyError?: (runIds: string[]) => Promise<void>;
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
    const { faults, onReplyError } = options;
    const outcomes: ReadOutcomes = {
      succeeded: () => faults?.succeeded('follow'),
      failed: async (runIds, error) => {
        faults?.failed('follow', `reading ${runIds.length} followed run(s) failed (${(error as Error).message}); retrying with backoff`, error);
        if (isReplyError(error)) await onReplyError?.([...runIds]).catch(() => {});
      },
    };
    this.#reader = options.commands.isCluster
      ? new ClusterReader(options.connect, options.commands, (runId) => options.keys(runId).appended, outcomes)
      : new BlockingReader(options.connect, options.commands, outcomes);
  }

  /** Number of runs followed. */
  get size(): number {
    return this.#watches.size;
  }

  /** Reads issued to Redis for followed runs (for tests and metrics). */
  get reads(): number {
    return this.#reader.reads;
  }

  /** The runs followed. */
  runIds(): string[] {
    return [...this.#watches.keys()];
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

  /**
   * Ends a followed run whose log cannot be read any more with `terminal` (made for the `seq` after
   * the last one read), delivered to its subscribers here only: there is no log left to store it in.
   * The reader reads an ended run no more.
   */
  end(runId: string, terminal: (seq: number) => StoredEvent): void {
    const watch = this.#watches.get(runId);
    if (!watch || watch.ended) return;
    watch.push([terminal(watch.lastSeq + 1)]);
    watch.wake();
  }

  /**
   * This process's append to `runId` was refused (its log is gone or is no stream): the reader
   * tells every follower of the run to read it, so each ends it now rather than at a later sweep.
   */
  refused(runId: string): void {
    this.#reader.refused(runId);
  }

  /** Ends the reader and wakes every waiting subscriber. */
  async close(): Promise<void> {
    const closing = this.#reader.close();
    for (const watch of this.#watches.values()) watch.wake();
    await closing;
  }
}
