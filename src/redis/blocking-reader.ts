/**
 * The follower's reader on a single Redis server: one blocking `XREAD` over every followed run's
 * stream, on a dedicated connection. A newly followed run cuts the wait short (`CLIENT UNBLOCK`
 * from the command connection) so the next read includes it. Each re-issued read carries the key
 * of every followed run, so the cuts are coalesced: at most one per read, no sooner than
 * {@link reissueDelay} after it started, whatever the number of new runs in between.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import type { Connect } from './connect.js';
import { entryId } from './redis-keys.js';
import { parseEntry } from './parse-entry.js';
import type { RunWatch } from './run-watch.js';
import type { FollowReader, ReadOutcomes } from './stream-follower.js';

/** How long one `XREAD` blocks before it is re-issued anyway, in ms. */
const BLOCK_MS = 10_000;
/** Most entries per stream per `XREAD`. */
const READ_COUNT = 512;
/**
 * Least time between a read's start and its cut for newly followed runs, in ms: 10 ms per 1,000
 * runs in the read, from 10 to 100 ms. A steady trickle of new subscribers then costs at most about
 * 100,000 keys sent per second (not the followed count per subscriber), and a new run's first event
 * from another process waits at most this long for the read that includes it.
 */
export function reissueDelay(keys: number): number {
  return Math.min(100, Math.max(10, keys / 100));
}

/** Reads every followed run with one blocking `XREAD` (see the module comment). */
export class BlockingReader implements FollowReader {
  readonly #blocking: Redis;
  readonly #control: Redis;
  readonly #outcomes: ReadOutcomes;
  /** The followed runs by stream key, to match a reply to its run in O(1). */
  readonly #byKey = new Map<string, RunWatch>();
  #blockingId: number | undefined;
  #reading = false;
  /** A run was added since the current read was issued. */
  #changed = false;
  #issuedAt = 0;
  #issuedKeys = 0;
  #cut: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #idle: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  reads = 0;

  constructor(connect: Connect, control: Redis, outcomes: ReadOutcomes) {
    this.#outcomes = outcomes;
    // The blocked XREAD must fail when the connection drops (not be silently dropped or re-sent
    // with stale ids): the loop then backs off and re-reads from each run's last seq.
    this.#blocking = connect({ maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false });
    this.#blocking.on('error', () => {});
    this.#control = control;
    // A reconnected connection has a new client id.
    this.#blocking.on('ready', () => {
      this.#blockingId = undefined;
    });
  }

  add(watch: RunWatch): void {
    this.#byKey.set(watch.key, watch);
    this.#changed = true;
    this.#idle?.();
    this.#loop ??= this.#run();
    this.#scheduleCut();
  }

  remove(watch: RunWatch): void {
    // The current read may still name the run; its reply is dropped (nothing here follows it).
    if (this.#byKey.get(watch.key) === watch) this.#byKey.delete(watch.key);
  }

  stored(): void {}

  // A blocked XREAD fails by itself when its key stops being a stream.
  refused(): void {}

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#cut);
    this.#idle?.();
    this.#blocking.disconnect();
    // The pending XREAD fails with the closed connection; never let a shutdown wait on it for long.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#loop?.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))]);
    clearTimeout(timer);
  }

  /** Cuts the current read short, once, no sooner than {@link reissueDelay} after it started. */
  #scheduleCut(): void {
    if (!this.#reading || this.#cut !== undefined || this.#closed) return;
    const read = this.reads;
    this.#cut = setTimeout(
      () => {
        this.#cut = undefined;
        // That read ended meanwhile: the one now blocked gets its own delay (if it lacks a new run).
        if (read !== this.reads) this.#scheduleCut();
        else this.#unblock(read);
      },
      Math.max(0, this.#issuedAt + reissueDelay(this.#issuedKeys) - Date.now()),
    );
  }

  /** Cuts read number `read` (and no later one: a retry must not cut the next read before its time). */
  #unblock(read: number): void {
    let tries = 0;
    const attempt = () => {
      const id = this.#blockingId;
      if (!this.#reading || !this.#changed || read !== this.reads || id === undefined || this.#closed) return;
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
      const keys: string[] = [];
      const ids: string[] = [];
      const runIds: string[] = [];
      for (const [key, watch] of this.#byKey) {
        if (watch.ended) continue; // nothing can follow a terminal event
        keys.push(key);
        ids.push(entryId(watch.lastSeq));
        runIds.push(watch.runId);
      }
      if (keys.length === 0) {
        this.#changed = false;
        await new Promise<void>((resolve) => {
          this.#idle = resolve;
        });
        this.#idle = undefined;
        continue;
      }
      try {
        if (this.#blockingId === undefined) {
          this.#blockingId = Number(await this.#blocking.client('ID'));
          continue; // runs may have come or gone while it answered
        }
        this.#changed = false;
        this.#reading = true;
        this.#issuedAt = Date.now();
        this.#issuedKeys = keys.length;
        this.reads++;
        const reply = (await this.#blocking.call('XREAD', ['COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', ...keys, ...ids])) as
          | [string, [string, string[]][]][]
          | null;
        this.#reading = false;
        failures = 0;
        this.#outcomes.succeeded();
        if (!reply) continue;
        for (const [key, entries] of reply) {
          const watch = this.#byKey.get(key);
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
        await this.#outcomes.failed(runIds, error);
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** Math.min(failures, 6))));
      }
    }
  }
}

