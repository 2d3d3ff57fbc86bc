/**
 * One follower loop per process: a single blocking `XREAD` over every run stream that this
 * process's subscribers follow, on one dedicated connection, re-issued when the set of runs
 * changes (`CLIENT UNBLOCK` from the command connection cuts the wait short). Each event read is
 * parsed once and kept in a small per-run window that every local subscriber reads from, so 1,000
 * browsers on one run cost one Redis read per batch, not 1,000.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import { isTerminalType } from '../protocol/events.js';
import type { StoredEvent } from '../store/store.js';
import { entryId } from './redis-keys.js';
import { parseEntry } from './parse-entry.js';
import { type FaultLog, isReplyError } from './fault-log.js';

/** Events kept per followed run for local subscribers; a subscriber further behind reads Redis. */
const WINDOW = 2048;
/** How long one `XREAD` blocks before it is re-issued anyway, in ms. */
const BLOCK_MS = 10_000;
/** Most entries per stream per `XREAD`. */
const READ_COUNT = 512;

/** What the loop knows of one followed run. */
export class RunWatch {
  readonly runId: string;
  /** Highest `seq` the loop has read. */
  lastSeq: number;
  /** The window: contiguous events ending at `lastSeq`. */
  recent: StoredEvent[] = [];
  /** True once the terminal event was read. */
  ended = false;
  refs = 0;
  readonly #waiters = new Set<() => void>();

  constructor(runId: string, lastSeq: number) {
    this.runId = runId;
    this.lastSeq = lastSeq;
  }

  /** `seq` of the window's first event (`lastSeq + 1` when the window is empty). */
  get recentStart(): number {
    return this.recent[0]?.seq ?? this.lastSeq + 1;
  }

  /** Events after `after` from the window, or `undefined` when `after` is outside it. */
  slice(after: number, max: number, maxBytes: number): StoredEvent[] | undefined {
    const start = after - this.recentStart + 1;
    if (start < 0 || after >= this.lastSeq) return undefined;
    const end = Math.min(this.recent.length, start + max);
    let bytes = 0;
    for (let index = start; index < end; index++) {
      bytes += (this.recent[index] as StoredEvent).json.length;
      if (bytes > maxBytes && index > start) return this.recent.slice(start, index);
    }
    return this.recent.slice(start, end);
  }

  /** Resolves at the next push, a release or `signal`'s abort. */
  next(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  push(events: readonly StoredEvent[]): void {
    for (const stored of events) {
      if (stored.seq <= this.lastSeq) continue;
      // A gap means Redis trimmed entries the loop had not read yet: restart the window there.
      if (stored.seq !== this.lastSeq + 1) this.recent = [];
      this.recent.push(stored);
      this.lastSeq = stored.seq;
      if (isTerminalType(stored.type)) this.ended = true;
    }
    if (this.recent.length > WINDOW * 2) this.recent = this.recent.slice(-WINDOW);
  }

  wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

/** The multiplexing `XREAD` loop of a {@link RedisStore}. */
export class StreamFollower {
  readonly #blocking: Redis;
  readonly #control: Redis;
  readonly #streamKey: (runId: string) => string;
  readonly #watches = new Map<string, RunWatch>();
  #blockingId: number | undefined;
  #reading = false;
  #changed = false;
  #closed = false;
  #idle: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  readonly #pendingWake = new Set<RunWatch>();
  #wakeScheduled = false;
  /** `XREAD` calls issued (for tests and metrics). */
  reads = 0;

  readonly #faults: FaultLog | undefined;
  readonly #onReplyError: ((runIds: string[]) => Promise<void>) | undefined;

  /**
   * `faults` hears of failed reads; `onReplyError` is given the runs of a read Redis refused (say
   * `WRONGTYPE`: one run's key is not a stream), to end those that cannot be read, before the retry.
   */
  constructor(blocking: Redis, control: Redis, streamKey: (runId: string) => string, faults?: FaultLog, onReplyError?: (runIds: string[]) => Promise<void>) {
    this.#faults = faults;
    this.#onReplyError = onReplyError;
    this.#blocking = blocking;
    this.#control = control;
    this.#streamKey = streamKey;
    // A reconnected connection has a new client id.
    blocking.on('ready', () => {
      this.#blockingId = undefined;
    });
  }

  /** Number of runs followed. */
  get size(): number {
    return this.#watches.size;
  }

  /** The runs followed. */
  runIds(): string[] {
    return [...this.#watches.keys()];
  }

  /**
   * Ends a followed run whose log cannot be read any more with `terminal` (made for the `seq` after
   * the last one read), delivered to its subscribers here only: there is no log left to store it in.
   */
  end(runId: string, terminal: (seq: number) => StoredEvent): void {
    const watch = this.#watches.get(runId);
    if (!watch || watch.ended) return;
    watch.push([terminal(watch.lastSeq + 1)]);
    watch.wake();
  }

  /** Starts following `runId` (from `lastSeq`, when no one here follows it yet). Pair with {@link release}. */
  acquire(runId: string, lastSeq: number): RunWatch {
    let watch = this.#watches.get(runId);
    if (!watch) {
      watch = new RunWatch(runId, lastSeq);
      this.#watches.set(runId, watch);
      this.#interrupt();
    }
    watch.refs++;
    this.#loop ??= this.#run();
    return watch;
  }

  release(watch: RunWatch): void {
    watch.refs--;
    if (watch.refs <= 0 && this.#watches.get(watch.runId) === watch) this.#watches.delete(watch.runId);
  }

  /**
   * Hands events this process has just stored to its subscribers of the run, ahead of the loop
   * (which skips them when it reads them again). A gap restarts the window; subscribers behind it
   * read Redis, so nothing is missed.
   */
  deliver(runId: string, events: readonly StoredEvent[]): void {
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

  /** Ends the loop and wakes every waiting subscriber. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#idle?.();
    for (const watch of this.#watches.values()) watch.wake();
    this.#blocking.disconnect();
    // The pending XREAD fails with the closed connection; never let a shutdown wait on it for long.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#loop?.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))]);
    clearTimeout(timer);
  }

  /** Makes a blocked `XREAD` return now, so the next one includes a newly followed run. */
  #interrupt(): void {
    this.#changed = true;
    this.#idle?.();
    if (!this.#reading) return;
    let tries = 0;
    const attempt = () => {
      const id = this.#blockingId;
      if (!this.#reading || !this.#changed || id === undefined || this.#closed) return;
      this.#control.client('UNBLOCK', id).then(
        (unblocked) => {
          // 0: the XREAD was sent but not yet blocked on the server; try again shortly (bounded).
          if (Number(unblocked) === 0 && ++tries < 50) setTimeout(attempt, 2);
        },
        () => {},
      );
    };
    attempt();
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#closed) {
      if (this.#watches.size === 0) {
        await new Promise<void>((resolve) => {
          this.#idle = resolve;
        });
        this.#idle = undefined;
        continue;
      }
      try {
        if (this.#blockingId === undefined) this.#blockingId = Number(await this.#blocking.client('ID'));
        const watches = [...this.#watches.values()];
        const keys = watches.map((watch) => this.#streamKey(watch.runId));
        const ids = watches.map((watch) => entryId(watch.lastSeq));
        this.#changed = false;
        this.#reading = true;
        this.reads++;
        const reply = (await this.#blocking.call('XREAD', 'COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', ...keys, ...ids)) as
          | [string, [string, string[]][]][]
          | null;
        this.#reading = false;
        failures = 0;
        this.#faults?.succeeded('follow');
        if (!reply) continue;
        for (const [key, entries] of reply) {
          const watch = watches[keys.indexOf(key)];
          if (!watch) continue;
          watch.push(entries.map(parseEntry));
          watch.wake();
        }
      } catch (error) {
        this.#reading = false;
        if (this.#closed) return;
        // Redis is away or refused the read: back off (bounded) and read again from each run's last
        // seq; nothing is lost. A refusal may come from one run's key: those runs are ended first.
        failures++;
        const runIds = [...this.#watches.keys()];
        this.#faults?.failed('follow', `reading ${runIds.length} followed run(s) failed (${(error as Error).message}); retrying with backoff`, error);
        if (isReplyError(error)) await this.#onReplyError?.(runIds).catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** Math.min(failures, 6))));
      }
    }
  }
}
