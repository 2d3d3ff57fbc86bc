/**
 * The follower's reader on a Redis Cluster. A blocking `XREAD` cannot name streams of several
 * slots, and runs are spread over all of them, so instead: a process that stores events of a run
 * publishes its last `seq` on the run's `appended` channel; every process following the run is
 * subscribed to that channel and reads the run's stream with a non-blocking `XREAD` when told
 * (at most one read in flight per run; reads issued in one turn are pipelined per node). Classic
 * pub/sub reaches every node, so the subscriber is a plain connection to one node (chosen at
 * random), moved to the next known node when it cannot reconnect. A notice can be lost (the subscriber reconnecting, a
 * producer dying between its append and its publish), so every followed run is also read when the
 * subscriber (re)connects, and every {@link SWEEP_MS} when it was not read meanwhile. A producer
 * whose append Redis refused publishes a notice too, so the followers meet the refusal at once.
 * Every read's outcome goes to the follower ({@link ReadOutcomes}): the follow fault stays open
 * while any run's last read failed.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import type { Connect } from './connect.js';
import { entryId } from './redis-keys.js';
import { parseEntry } from './parse-entry.js';
import type { RunWatch } from './run-watch.js';
import type { FollowReader, ReadOutcomes } from './stream-follower.js';

/** Most entries per `XREAD`; a full page is followed by another read at once. */
const READ_COUNT = 512;
/** How often every followed run is read even without a notice, in ms. */
const SWEEP_MS = 5_000;

/** Reads followed runs when told they changed (see the module comment). */
export class ClusterReader implements FollowReader {
  readonly #commands: Redis;
  readonly #connect: Connect;
  #subscriber: Redis;
  /** Which known node the next subscriber connects to; a random start spreads gateways over the nodes. */
  #subscriberAttempt = Math.floor(Math.random() * 1024);
  readonly #channel: (runId: string) => string;
  readonly #byChannel = new Map<string, RunWatch>();
  /** Runs to read at the next flush. */
  readonly #due = new Set<RunWatch>();
  /** Runs with a read in flight. */
  readonly #inFlight = new Set<RunWatch>();
  /** Runs whose last read failed: the follow fault clears only once none is left. */
  readonly #failing = new Set<RunWatch>();
  readonly #outcomes: ReadOutcomes;
  /** When each run was last read (a run read since the last sweep needs no sweep read). */
  readonly #readAt = new WeakMap<RunWatch, number>();
  readonly #sweep: ReturnType<typeof setInterval>;
  #flushScheduled = false;
  #failures = 0;
  #closed = false;
  reads = 0;

  constructor(connect: Connect, commands: Redis, channel: (runId: string) => string, outcomes: ReadOutcomes) {
    this.#outcomes = outcomes;
    this.#commands = commands;
    this.#connect = connect;
    this.#channel = channel;
    this.#subscriber = this.#openSubscriber();
    this.#sweep = setInterval(() => this.#markAllDue(Date.now() - SWEEP_MS), SWEEP_MS);
    this.#sweep.unref?.();
  }

  add(watch: RunWatch): void {
    this.#byChannel.set(this.#channel(watch.runId), watch);
    this.#subscribe(watch, 0);
  }

  remove(watch: RunWatch): void {
    const name = this.#channel(watch.runId);
    if (this.#byChannel.get(name) !== watch) return;
    this.#byChannel.delete(name);
    this.#due.delete(watch);
    this.#failing.delete(watch);
    this.#subscriber.unsubscribe(name).catch(() => {});
  }

  stored(runId: string, lastSeq: number): void {
    // A lost notice is caught by the sweep; the append itself has succeeded.
    this.#commands.publish(this.#channel(runId), String(lastSeq)).catch(() => {});
  }

  refused(runId: string): void {
    // No notice of an append will come: without this one, followers would meet the refusal at a sweep.
    this.#commands.publish(this.#channel(runId), '').catch(() => {});
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweep);
    this.#subscriber.disconnect();
  }

  /** A subscriber on the next known node; when it cannot reconnect there, the one after takes over. */
  #openSubscriber(): Redis {
    const options = { maxRetriesPerRequest: null, retryStrategy: (times: number) => (times > 3 ? null : 100 * times) };
    const subscriber = this.#connect.node?.(this.#subscriberAttempt++, options) ?? this.#connect(options);
    subscriber.on('error', () => {});
    subscriber.on('message', (name: string) => {
      const watch = this.#byChannel.get(name);
      if (watch) this.#markDue(watch);
    });
    // ioredis subscribes again by itself after a reconnect; notices sent meanwhile are lost.
    subscriber.on('ready', () => this.#markAllDue());
    subscriber.once('end', () => {
      if (this.#closed) return;
      this.#subscriber = this.#openSubscriber();
      for (const watch of this.#byChannel.values()) this.#subscribe(watch, 0);
    });
    return subscriber;
  }

  /** Subscribes to the run's channel (again, with a bounded backoff, while it fails), then reads the run. */
  #subscribe(watch: RunWatch, failures: number): void {
    const name = this.#channel(watch.runId);
    this.#subscriber.subscribe(name).then(
      // Events stored before the subscription took effect had no notice here.
      () => this.#markDue(watch),
      () => {
        this.#markDue(watch);
        const retry = () => {
          if (!this.#closed && this.#byChannel.get(name) === watch) this.#subscribe(watch, failures + 1);
        };
        setTimeout(retry, Math.min(2000, 50 * 2 ** Math.min(failures, 6))).unref?.();
      },
    );
  }

  /** Marks every followed run due (with `readBefore`, only those not read since then). */
  #markAllDue(readBefore = Number.POSITIVE_INFINITY): void {
    for (const watch of this.#byChannel.values()) if ((this.#readAt.get(watch) ?? 0) < readBefore) this.#markDue(watch);
  }

  #markDue(watch: RunWatch): void {
    if (this.#closed || watch.ended || this.#byChannel.get(this.#channel(watch.runId)) !== watch) return;
    this.#due.add(watch);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    for (const watch of this.#due) {
      if (this.#inFlight.has(watch)) continue; // stays due: read again when this read is back
      this.#due.delete(watch);
      if (watch.ended) continue; // ended (its log lost) while its last read was in flight
      this.#read(watch);
    }
  }

  #read(watch: RunWatch): void {
    this.#inFlight.add(watch);
    this.#readAt.set(watch, Date.now());
    this.reads++;
    this.#commands.call('XREAD', ['COUNT', READ_COUNT, 'STREAMS', watch.key, entryId(watch.lastSeq)]).then(
      (reply) => {
        this.#failures = 0;
        this.#inFlight.delete(watch);
        this.#failing.delete(watch);
        if (this.#failing.size === 0) this.#outcomes.succeeded();
        const entries = (reply as [string, [string, string[]][]][] | null)?.[0]?.[1] ?? [];
        if (entries.length > 0) {
          watch.push(entries.map(parseEntry));
          watch.wake();
        }
        if (entries.length >= READ_COUNT || this.#due.has(watch)) this.#markDue(watch);
      },
      async (error: unknown) => {
        if (this.#closed) return; // a read cut by the close is no fault
        this.#failures++;
        this.#failing.add(watch);
        // A refusal of this run's read (its key is not a stream) ends it here before any retry; the
        // run stays in flight meanwhile, so no second read of it starts.
        await this.#outcomes.failed([watch.runId], error);
        this.#inFlight.delete(watch);
        if (watch.ended) this.#failing.delete(watch);
        // Back off (bounded); the read resumes from the run's last seq, so nothing is lost.
        setTimeout(() => this.#markDue(watch), Math.min(2000, 50 * 2 ** Math.min(this.#failures, 6))).unref?.();
      },
    );
  }
}
