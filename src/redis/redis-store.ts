/**
 * The Redis run log: a {@link RunStore} on Redis Streams, shared by any number of gateway
 * processes. A run's events are one stream (entry id `0-<seq>`, so Redis refuses a
 * non-increasing seq) appended by a Lua script that also checks the sequence, so two writers
 * cannot leave a gap or a duplicate. Live events reach this process's subscribers through one
 * multiplexed `XREAD` loop ({@link StreamFollower}); cancel requests travel over pub/sub (with a
 * key as fallback); the producing process holds a lease per run, and a survivor closes a run whose
 * lease expired with `run.failed` (`producer_lost`). The producer also folds what it appends and
 * stores checkpoints of the run's state, so a read of the state on any process costs the events
 * since the newest checkpoint, not the whole log ({@link StateCheckpoints}).
 *
 * Connections per process: three (commands, the follower's, pub/sub), whatever the number of runs
 * and subscribers; on a Redis Cluster (a `redis-cluster://` URL) the command and pub/sub ones are
 * cluster clients (a connection per node they talk to), the follower's a pub/sub connection to one node.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { ChainableCommander, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { AgentwireError } from '../protocol/errors.js';
import { isTerminalType } from '../protocol/events.js';
import { reduceAll } from '../reducer/reduce.js';
import type { RunState } from '../protocol/run-state.js';
import {
  type CreateRunOptions,
  type FollowOptions,
  type IdempotencyEntry,
  type RunRecord,
  type RunStore,
  type StoreFault,
  type StoreHealth,
  type StoredEvent,
} from '../store/store.js';
import { PRODUCER_LOST } from './closing-events.js';
import { connectionFactory, redactUrl } from './connect.js';
import { FaultLog, checkReplies, isReplyError } from './fault-log.js';
import { LOG_LOST, logLostEvent, runsWithBrokenLog, runsWithoutRecord } from './lost-logs.js';
import { parseEntry } from './parse-entry.js';
import { type RunKeys, entryId, globalKeys, runKeys } from './redis-keys.js';
import { APPEND, CLAIM_KEY, CREATE_RUN, RESERVE_RUN, SET_SNAPSHOT } from './redis-scripts.js';
import { readStream } from './read-stream.js';
import { RunSnapshots } from './run-snapshots.js';
import { RunLeases } from './run-leases.js';
import { type Checkpoint, type StateReadStats, StateCheckpoints } from './state-checkpoints.js';
import { StreamFollower } from './stream-follower.js';

/** Options of {@link createRedisStore}. Times in ms. */
export interface RedisStoreOptions {
  /**
   * `redis://[user:password@]host:port[/db]` (`rediss://` for TLS), or a Redis Cluster:
   * `redis-cluster://[user:password@]host:port[,host:port…]` (`rediss-cluster://` for TLS) naming
   * one or more of its nodes (the others are discovered). @defaultValue `redis://127.0.0.1:6379`
   */
  url?: string;
  /**
   * With a `redis-cluster://` URL: more options of the ioredis `Cluster` (`natMap`, `dnsLookup`,
   * `redisOptions.tls` …), merged over the store's own. @defaultValue none
   */
  clusterOptions?: ClusterOptions;
  /** Prefix of every key. @defaultValue `'aw:'` */
  keyPrefix?: string;
  /**
   * Most events kept per run stream; older ones are trimmed once a snapshot stands for them, and a
   * reader that is behind starts from a `run.snapshot`. @defaultValue 100000
   */
  maxEventsPerRun?: number;
  /**
   * The producing process writes a checkpoint of a run's folded state once this many events (and at
   * least as many bytes of event JSON as the last checkpoint) were appended since the last one, and
   * at the run's end; `state()` (`GET /api/runs/:id`, the AG-UI and AI SDK resume) reads the newest
   * checkpoint and folds only the events after it. @defaultValue 256
   */
  stateCheckpointEvents?: number;
  /** How long an ended run's keys live (TTL). @defaultValue 600000 (10 min) */
  retentionMs?: number;
  /**
   * Lease of a producing process on its runs; renewed every third of it. A run whose lease
   * expired is closed by a survivor with `run.failed` (`producer_lost`). @defaultValue 10000
   */
  leaseMs?: number;
  /** How long an append keeps retrying while Redis is unreachable before it fails. @defaultValue 60000 */
  appendRetryMs?: number;
  /** How long {@link createRedisStore} waits for Redis before failing. @defaultValue 5000 */
  connectTimeoutMs?: number;
  /** This process's id in leases and subscriber presence. @defaultValue random */
  gatewayId?: string;
  /** Called when Redis goes down or comes back. @defaultValue logs to `console.error` */
  onConnectionChange?: (state: 'up' | 'down', error?: unknown) => void;
}

const DEFAULTS = Object.freeze({
  url: 'redis://127.0.0.1:6379',
  keyPrefix: 'aw:',
  maxEventsPerRun: 100_000,
  stateCheckpointEvents: 256,
  retentionMs: 10 * 60 * 1000,
  leaseMs: 10_000,
  appendRetryMs: 60_000,
  connectTimeoutMs: 5_000,
});

type ResolvedOptions = Required<Omit<RedisStoreOptions, 'gatewayId' | 'onConnectionChange' | 'clusterOptions'>>;

type ScriptedRedis = Redis & {
  awCreateRun(...args: (string | number)[]): Promise<number>;
  awAppend(...args: (string | number)[]): Promise<number>;
  awReserveRun(...args: (string | number)[]): Promise<number>;
  awClaimKey(...args: (string | number)[]): Promise<string | null>;
};

/**
 * Connects to Redis and returns a {@link RedisStore}. Throws `AW_STORE_UNAVAILABLE` when Redis
 * cannot be reached within `connectTimeoutMs`.
 *
 * @example
 * ```ts
 * import { createGateway } from 'agentwire/gateway';
 * import { createRedisStore } from 'agentwire/redis';
 *
 * const store = await createRedisStore({ url: 'redis://127.0.0.1:6379' });
 * const gateway = createGateway({ agents, store });
 * ```
 */
export async function createRedisStore(options: RedisStoreOptions = {}): Promise<RedisStore> {
  const store = new RedisStore(options);
  try {
    await store.ready();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/** The Redis {@link RunStore}. Create it with {@link createRedisStore}. */
export class RedisStore implements RunStore {
  /** This process's id in leases and subscriber presence. */
  readonly gatewayId: string;
  readonly #options: ResolvedOptions;
  readonly #redis: ScriptedRedis;
  readonly #subscriber: Redis;
  /** The cancel channel's subscription, settled (never rejects): a close waits for it. */
  readonly #cancelSubscription: Promise<void>;
  readonly #follower: StreamFollower;
  readonly #snapshots: RunSnapshots;
  readonly #checkpoints: StateCheckpoints;
  readonly #global: ReturnType<typeof globalKeys>;
  readonly #onConnectionChange: (state: 'up' | 'down', error?: unknown) => void;
  readonly #leases: RunLeases;
  readonly #cancelListeners = new Map<string, Set<(reason: string) => void>>();
  readonly #cancelsDelivered = new Set<string>();
  #up = false;
  /** When Redis last came up: survivors wait a lease period after it before reaping (producers renew first). */
  #upSince = 0;
  #lastConnectionError: unknown;
  #wentDown = false;
  #closed = false;
  readonly #faults = new FaultLog();
  readonly #verifyTimer: ReturnType<typeof setInterval>;

  constructor(options: RedisStoreOptions = {}) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as RedisStoreOptions;
    this.#options = { ...DEFAULTS, ...defined } as ResolvedOptions;
    for (const name of ['maxEventsPerRun', 'stateCheckpointEvents', 'retentionMs', 'leaseMs', 'appendRetryMs', 'connectTimeoutMs'] as const) {
      const value = this.#options[name];
      if (!Number.isFinite(value) || value < 1) throw new AgentwireError('AW_INVALID_OPTION', `RedisStore option ${name} must be a positive number, got ${value}`);
    }
    this.gatewayId = options.gatewayId ?? `gw_${randomBytes(6).toString('hex')}`;
    this.#global = globalKeys(this.#options.keyPrefix);
    this.#onConnectionChange =
      options.onConnectionChange ??
      ((state, error) => {
        if (state === 'down') console.error(`[agentwire] redis: connection lost (${describe(error)}); retrying with backoff`);
        else console.error('[agentwire] redis: connection restored');
      });
    const base: RedisOptions = {
      lazyConnect: false,
      connectTimeout: this.#options.connectTimeoutMs,
      // Reconnect forever with a bounded backoff: the gateway recovers whenever Redis returns.
      retryStrategy: (attempt) => Math.min(2000, 50 * 2 ** Math.min(attempt, 6)),
    };
    const connect = connectionFactory(this.#options.url, base, options.clusterOptions);
    this.#redis = connect({ maxRetriesPerRequest: 2 }) as ScriptedRedis;
    this.#redis.defineCommand('awCreateRun', { numberOfKeys: 2, lua: CREATE_RUN });
    this.#redis.defineCommand('awAppend', { numberOfKeys: 6, lua: APPEND });
    this.#redis.defineCommand('awSetSnapshot', { numberOfKeys: 2, lua: SET_SNAPSHOT });
    this.#redis.defineCommand('awReserveRun', { numberOfKeys: 1, lua: RESERVE_RUN });
    this.#redis.defineCommand('awClaimKey', { numberOfKeys: 1, lua: CLAIM_KEY });
    this.#snapshots = new RunSnapshots(this.#redis, this.#options.maxEventsPerRun, this.#faults);
    this.#checkpoints = new StateCheckpoints(this.#redis, this.#options.stateCheckpointEvents);
    this.#redis.on('ready', () => this.#setUp(true));
    this.#redis.on('error', (error) => {
      this.#lastConnectionError = error;
      this.#setUp(false, error);
    });
    this.#redis.on('close', () => this.#setUp(false, new Error('connection closed')));
    this.#follower = new StreamFollower({
      commands: this.#redis,
      connect,
      keys: (runId) => this.#keys(runId),
      faults: this.#faults,
      onReplyError: (runIds) => this.#endBrokenRuns(runIds),
    });
    this.#subscriber = connect({ maxRetriesPerRequest: null });
    this.#subscriber.on('error', () => {});
    this.#subscriber.on('message', (_channel: string, message: string) => this.#onCancelMessage(message));
    // Without the channel, cancels still arrive through the cancel key, a lease period late.
    // A close can come first (a cluster client subscribes only once it knows the slots): not a fault.
    this.#cancelSubscription = this.#subscriber.subscribe(this.#global.cancelChannel).then(
      () => this.#faults.succeeded('cancel'),
      (error: unknown) => {
        if (!this.#closed) this.#faults.failed('cancel', 'cannot subscribe to the cancel channel; cancels are read from their key at each lease renewal instead', error);
      },
    );
    this.#leases = new RunLeases({
      redis: this.#redis,
      gatewayId: this.gatewayId,
      leaseMs: this.#options.leaseMs,
      global: this.#global,
      keys: (runId) => this.#keys(runId),
      settled: () => this.#up && Date.now() - this.#upSince >= this.#options.leaseMs,
      deliverCancel: (runId, reason) => this.#deliverCancel(runId, reason),
      read: (runId, after) => this.read(runId, after),
      appendFenced: (runId, events) => this.#appendWithRetry(runId, events, true).then(() => this.#follower.deliver(runId, events)),
      faults: this.#faults,
    });
    // A log can vanish with no error anywhere (a restart without persistence, an eviction): look
    // for followed runs without one every lease period, and at once when Redis comes back.
    this.#verifyTimer = setInterval(() => void this.#endLostRuns(), this.#options.leaseMs);
    this.#verifyTimer.unref?.();
  }

  /** Resolves once Redis answers; rejects with `AW_STORE_UNAVAILABLE` after `connectTimeoutMs`. */
  async ready(): Promise<void> {
    const deadline = Date.now() + this.#options.connectTimeoutMs;
    let lastError: unknown;
    while (Date.now() < deadline && !this.#closed) {
      try {
        await Promise.race([this.#redis.ping(), rejectAfter(deadline - Date.now())]);
        return;
      } catch (error) {
        lastError = error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    lastError = this.#lastConnectionError ?? lastError;
    throw new AgentwireError('AW_STORE_UNAVAILABLE', `cannot reach Redis at ${redactUrl(this.#options.url)} (${describe(lastError)}). Is redis-server running there?`, {
      cause: lastError,
    });
  }

  /**
   * `ok: false` while Redis is unreachable, or reachable but refusing the live reads or the lease
   * renewals this gateway cannot serve without (then `failing` names them).
   */
  health(): StoreHealth {
    // Only while there is something to read or renew: a failure left from before cannot be retried without it.
    const failing = [
      ...(this.#faults.failing('follow') && this.#follower.size > 0 ? ['follow'] : []),
      ...(this.#faults.failing('lease') && this.#leases.size > 0 ? ['lease'] : []),
    ];
    if (!this.#up) return { ok: false, redis: 'down' };
    return failing.length === 0 ? { ok: true, redis: 'up' } : { ok: false, redis: 'up', failing };
  }

  onFault(listener: (fault: StoreFault) => void): () => void {
    return this.#faults.listen(listener);
  }

  /** Runs followed by this process's follower loop, and its `XREAD` count (for tests and metrics). */
  get followerStats(): { runs: number; reads: number } {
    return { runs: this.#follower.size, reads: this.#follower.reads };
  }

  /** Up to when (epoch ms) this process's reaper last looked for runs whose lease expired (for tests). */
  get reaperStats(): { scannedUpTo: number } {
    return { scannedUpTo: this.#leases.scannedUpTo };
  }

  async createRun(record: RunRecord, options: CreateRunOptions = {}): Promise<void> {
    const keys = this.#keys(record.id);
    const { owner } = record;
    const limit = options.maxRunsPerOwner;
    const counted = record.status === 'running' && owner !== undefined && limit !== undefined && Number.isFinite(limit);
    if (counted) await this.#reserveRun(record.id, owner, limit);
    try {
      await this.#redis.awCreateRun(
        keys.meta,
        keys.lease,
        record.id,
        record.agent,
        record.createdAt,
        record.status,
        record.lastSeq,
        record.owner === undefined ? '0' : '1',
        record.owner ?? '',
        record.endedAt ?? '',
        record.status === 'running' ? this.gatewayId : '',
        this.#options.leaseMs,
      );
    } catch (error) {
      if (counted) await this.#redis.zrem(this.#global.ownerLive(owner), record.id).catch(() => {});
      throw toStoreError(error, record.id);
    }
    if (record.status === 'running') this.#leases.own(record.id, counted ? owner : undefined);
    // The run indexes forget runs created more than a day before the retention window.
    const forgetBefore = Date.now() - this.#options.retentionMs - 24 * 60 * 60 * 1000;
    const pipeline = this.#redis.pipeline().zadd(this.#global.runs, record.createdAt, record.id).zremrangebyscore(this.#global.runs, '-inf', forgetBefore);
    if (record.owner !== undefined) {
      const ownerIndex = this.#global.ownerRuns(record.owner);
      pipeline.zadd(ownerIndex, record.createdAt, record.id).zremrangebyscore(ownerIndex, '-inf', forgetBefore);
    }
    if (record.status === 'running') pipeline.zadd(this.#global.live, Date.now() + this.#options.leaseMs, record.id);
    // The run is recorded; an index that could not be updated only hides it from lists (and from the reaper).
    checkReplies(await pipeline.exec(), this.#faults, 'write', `indexing run ${record.id}`);
  }

  /** Counts `runId` against `owner`'s running runs, or throws `AW_TOO_MANY_RUNS` at `limit`. */
  async #reserveRun(runId: string, owner: string, limit: number): Promise<void> {
    const now = Date.now();
    const before = await unavailableAs503(this.#redis.awReserveRun(this.#global.ownerLive(owner), runId, limit, now, now + this.#options.leaseMs), runId);
    if (before < 0) {
      throw new AgentwireError('AW_TOO_MANY_RUNS', `you have ${limit} runs running, the maximum; wait for one to end or cancel one`, { details: { retryAfterSeconds: 5 } });
    }
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return toRecord(await unavailableAs503(this.#redis.hgetall(this.#keys(runId).meta), runId));
  }

  async listRuns(filter: { owner?: string | undefined; limit?: number } = {}): Promise<RunRecord[]> {
    const limit = filter.limit ?? 50;
    const index = filter.owner === undefined ? this.#global.runs : this.#global.ownerRuns(filter.owner);
    // Ended runs expire on their own; their index entries are dropped lazily here.
    const ids = await unavailableAs503(this.#redis.zrevrange(index, 0, limit * 2 + 10), 'listRuns');
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.#keys(id).meta);
    const results = (await pipeline.exec()) ?? [];
    const replies = checkReplies(results, this.#faults, 'read', 'listing runs');
    const records: RunRecord[] = [];
    const gone: string[] = [];
    ids.forEach((id, position) => {
      const record = toRecord(replies[position] as Record<string, string> | undefined);
      if (record) records.push(record);
      // Only a run whose metadata is really gone leaves the index (not one whose read failed).
      else if (results[position]?.[0] === null) gone.push(id);
    });
    if (gone.length > 0) await this.#redis.zrem(index, ...gone);
    records.sort((left, right) => right.createdAt - left.createdAt);
    return records.slice(0, limit);
  }

  async append(runId: string, events: readonly StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    const last = events[events.length - 1] as StoredEvent;
    const terminal = isTerminalType(last.type);
    try {
      await this.#appendWithRetry(runId, events, false, this.#checkpoints.fold(runId, events, terminal));
    } catch (error) {
      this.#checkpoints.drop(runId);
      // The producer gives up on a run whose append was refused (or timed out): its lease must not
      // outlive it, or the run would stay `running` forever. A survivor closes it as producer_lost.
      this.#leases.disown(runId);
      this.#follower.refused(runId);
      throw error;
    }
    // Stored: this process's own subscribers get the events now, without waiting for the XREAD loop.
    this.#follower.deliver(runId, events);
    this.#snapshots.afterAppend(runId, this.#keys(runId), (events[0] as StoredEvent).seq - 1, last.seq, terminal, this.#checkpoints.stateOf(runId));
    if (terminal) {
      this.#checkpoints.drop(runId);
      await this.#ended(runId);
    }
  }

  async read(runId: string, after: number): Promise<StoredEvent[]> {
    const events = await unavailableAs503(readStream(this.#redis, this.#keys(runId).events, after), runId);
    return this.#withSnapshot(runId, after, events, Number.POSITIVE_INFINITY);
  }

  /**
   * The run's state: the newest checkpoint the producer stored (at or before `at`, when given)
   * and the events after it, so a read parses at most about `stateCheckpointEvents` events however
   * long the run. Without such a checkpoint (a short run, or `at` older than every one kept) it is
   * folded from the run's snapshot and stream instead.
   */
  async state(runId: string, at?: number): Promise<RunState | undefined> {
    const keys = this.#keys(runId);
    const { meta, state } = await unavailableAs503(this.#checkpoints.read(keys, at), runId);
    const record = toRecord(meta);
    if (!record || (at !== undefined && at > record.lastSeq)) return undefined;
    if (state) return state;
    const events = await this.read(runId, 0);
    this.#checkpoints.stats.parsedEvents += events.length;
    const first = events[0];
    if (at !== undefined && first?.type === 'run.snapshot' && first.seq > at) return undefined;
    return reduceAll(events.filter((stored) => at === undefined || stored.seq <= at).map((stored) => stored.event));
  }

  /** What `state()` calls cost so far, cumulated: round trips, stream entries parsed, folds of the whole log (for tests and metrics). */
  get stateStats(): Readonly<StateReadStats> {
    return { ...this.#checkpoints.stats };
  }

  /** Resolves when the snapshots of long runs scheduled so far are written (for tests). */
  snapshotsSettled(): Promise<void> {
    return this.#snapshots.settled();
  }

  /**
   * `events` (read after `after`), or, when the events right after `after` were trimmed, the run's
   * snapshot followed by the events after it (at most `max` in all).
   */
  async #withSnapshot(runId: string, after: number, events: StoredEvent[], max: number): Promise<StoredEvent[]> {
    const first = events[0];
    if (!first || first.seq <= after + 1) return events;
    const snapshot = await this.#snapshots.read(this.#keys(runId));
    if (!snapshot) return events;
    return [snapshot, ...events.filter((stored) => stored.seq > snapshot.seq)].slice(0, max);
  }

  async *follow(runId: string, after: number, options: FollowOptions = {}): AsyncIterable<StoredEvent[]> {
    const { signal } = options;
    const maxBatch = options.maxBatch ?? 512;
    const maxBatchBytes = options.maxBatchBytes ?? 256 * 1024;
    const record = await this.getRun(runId);
    if (!record || signal?.aborted) return;
    if (record.status !== 'running') {
      // An ended run: page through its stream; nothing more can come.
      let cursor = after;
      while (!signal?.aborted && !this.#closed && cursor < record.lastSeq) {
        const batch = await this.#range(runId, cursor, maxBatch, maxBatchBytes, signal);
        if (batch.length === 0) return;
        cursor = (batch[batch.length - 1] as StoredEvent).seq;
        yield batch;
      }
      return;
    }
    const watch = this.#follower.acquire(runId, record.lastSeq);
    try {
      let cursor = after;
      while (!signal?.aborted && !this.#closed) {
        let batch = watch.slice(cursor, maxBatch, maxBatchBytes);
        if (!batch && cursor < watch.recentStart - 1) batch = await this.#range(runId, cursor, maxBatch, maxBatchBytes, signal);
        if (!batch) {
          if (watch.ended) return;
          await watch.next(signal);
          continue;
        }
        if (batch.length === 0) return; // the run's stream expired under us
        const last = batch[batch.length - 1] as StoredEvent;
        cursor = last.seq;
        yield batch;
        if (isTerminalType(last.type)) return;
      }
    } finally {
      this.#follower.release(watch);
    }
  }

  async requestCancel(runId: string, reason: string): Promise<boolean> {
    const keys = this.#keys(runId);
    if ((await unavailableAs503(this.#redis.hget(keys.meta, 'status'), runId)) !== 'running') return false;
    const results = await unavailableAs503(
      this.#redis
        .multi()
        .set(keys.cancel, reason, 'PX', this.#options.leaseMs * 3)
        .publish(this.#global.cancelChannel, JSON.stringify({ runId, reason }))
        .exec(),
      runId,
    );
    const [stored] = checkReplies(results, this.#faults, 'write', `requesting the cancel of run ${runId}`);
    // Neither kept nor sent: the producer would never hear of it.
    if (stored === undefined) throw new AgentwireError('AW_STORE_UNAVAILABLE', `run ${runId}: Redis refused the cancel request; try again shortly`);
    return true;
  }

  onCancel(runId: string, listener: (reason: string) => void): () => void {
    let listeners = this.#cancelListeners.get(runId);
    if (!listeners) this.#cancelListeners.set(runId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#cancelListeners.get(runId) === listeners) this.#cancelListeners.delete(runId);
    };
  }

  async claimIdempotencyKey(id: string, bodyHash: string, pendingMs: number): Promise<IdempotencyEntry | undefined> {
    const used = await unavailableAs503(this.#redis.awClaimKey(this.#global.idempotency(id), JSON.stringify({ h: bodyHash }), pendingMs), 'Idempotency-Key');
    if (used === null) return undefined;
    const entry = JSON.parse(used) as { h: string; r?: string };
    return { bodyHash: entry.h, runId: entry.r };
  }

  async bindIdempotencyKey(id: string, bodyHash: string, runId: string, ttlMs: number): Promise<void> {
    await unavailableAs503(this.#redis.set(this.#global.idempotency(id), JSON.stringify({ h: bodyHash, r: runId }), 'PX', ttlMs), 'Idempotency-Key');
  }

  async releaseIdempotencyKey(id: string): Promise<void> {
    await unavailableAs503(this.#redis.del(this.#global.idempotency(id)), 'Idempotency-Key');
  }

  addSubscriber(runId: string): () => void {
    return this.#leases.addSubscriber(runId);
  }

  hasSubscribers(runId: string): Promise<boolean> {
    return this.#leases.hasSubscribers(runId);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#verifyTimer);
    this.#checkpoints.clear();
    this.#leases.stop();
    await this.#follower.close();
    this.#subscriber.disconnect();
    await Promise.race([this.#cancelSubscription, rejectAfter(1000)]).catch(() => {});
    try {
      await Promise.race([this.#redis.quit(), rejectAfter(1000)]);
    } catch {
      this.#redis.disconnect();
    }
  }

  #keys(runId: string): RunKeys {
    return runKeys(this.#options.keyPrefix, runId);
  }

  #setUp(up: boolean, error?: unknown): void {
    if (this.#up === up || this.#closed) return;
    // Report a loss only after Redis was up once (startup failures are reported by `ready`), and a
    // recovery only after a loss.
    if (!up && !this.#up) return;
    this.#up = up;
    if (up) this.#upSince = Date.now();
    if (!up) this.#wentDown = true;
    if (!up || this.#wentDown) this.#onConnectionChange(up ? 'up' : 'down', error);
    if (up && this.#wentDown) void this.#endLostRuns();
  }

  /** Ends, for their subscribers here, the followed runs whose log Redis no longer has. */
  async #endLostRuns(): Promise<void> {
    if (!this.#up || this.#closed) return;
    try {
      const lost = await runsWithoutRecord(this.#redis, this.#follower.runIds(), (runId) => this.#keys(runId).meta, this.#faults);
      for (const runId of lost) this.#endLost(runId, 'the run log is gone from Redis (it restarted without persistence, or the run was deleted or evicted); the run cannot be resumed');
    } catch (error) {
      this.#faults.failed('verify', 'cannot check that followed runs still exist', error);
    }
  }

  /** After Redis refused a read: ends the followed runs whose event key is not a stream. */
  async #endBrokenRuns(runIds: string[]): Promise<void> {
    for (const { runId, type } of await runsWithBrokenLog(this.#redis, runIds, (id) => this.#keys(id).events, this.#faults)) {
      this.#endLost(runId, `the run log in Redis holds a ${type} where its event stream should be; the run cannot be read`);
    }
  }

  #endLost(runId: string, message: string): void {
    this.#leases.disown(runId);
    this.#checkpoints.drop(runId);
    this.#faults.once('log_lost', `run ${runId}: ${message} (its streams end with ${LOG_LOST})`, runId);
    this.#follower.end(runId, logLostEvent(message));
  }

  /**
   * Appends with the script, retried while Redis is unreachable. With a checkpoint, or a terminal
   * event (whose TTL the run's checkpoints take), the checkpoint's write goes in the same pipeline.
   */
  async #appendWithRetry(runId: string, events: readonly StoredEvent[], requireNoLease: boolean, checkpoint?: Checkpoint): Promise<void> {
    const keys = this.#keys(runId);
    const args: (string | number)[] = [keys.meta, keys.events, keys.lease, keys.cancel, keys.subscribers, keys.snapshot];
    args.push(this.#options.maxEventsPerRun, this.#options.retentionMs, requireNoLease ? '1' : '0', events.length);
    for (const stored of events) args.push(stored.seq, stored.type, stored.json, stored.event.at);
    const withCheckpoint = checkpoint !== undefined || isTerminalType((events[events.length - 1] as StoredEvent).type);
    const deadline = Date.now() + this.#options.appendRetryMs;
    for (let attempt = 1; ; attempt++) {
      try {
        if (!withCheckpoint) {
          await this.#redis.awAppend(...args);
          return;
        }
        const pipeline = (this.#redis.pipeline() as ChainableCommander & { awAppend(...args: (string | number)[]): ChainableCommander }).awAppend(...args);
        this.#checkpoints.queue(pipeline, keys, checkpoint);
        const results = ((await pipeline.exec()) ?? []) as [Error | null, unknown][];
        const appendError = results.length === 0 ? new Error('the pipeline was not run') : results[0]?.[0];
        if (appendError) throw appendError;
        const checkpointError = results[1]?.[0];
        // The events are stored: a checkpoint not written only makes reads fold from an older one.
        if (checkpointError) this.#faults.failed('checkpoint', `could not store the state checkpoint of run ${runId} at seq ${checkpoint?.seq ?? '-'}; reads of its state fold from an older one`, checkpointError, runId);
        else this.#faults.succeeded('checkpoint');
        return;
      } catch (error) {
        // A refused append (seq, ended, unknown run) is final; a lost connection is retried: the
        // script recognises events it already stored, so a retry never duplicates.
        if (isReplyError(error) || this.#closed || Date.now() > deadline) throw toStoreError(error, runId);
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** Math.min(attempt, 6))));
      }
    }
  }

  async #ended(runId: string): Promise<void> {
    const owner = this.#leases.ownerOf(runId);
    this.#leases.disown(runId);
    this.#cancelsDelivered.delete(runId);
    this.#cancelListeners.delete(runId);
    const pipeline = this.#redis.pipeline().zrem(this.#global.live, runId);
    if (owner !== undefined) pipeline.zrem(this.#global.ownerLive(owner), runId);
    // Left behind on failure, the entries expire with the lease they stand for.
    await pipeline.exec().then(
      (results) => checkReplies(results, this.#faults, 'write', `unlisting ended run ${runId}`),
      (error: unknown) => this.#faults.failed('write', `cannot unlist ended run ${runId}`, error, runId),
    );
  }

  /** Events after `cursor` straight from Redis (a subscriber behind the loop's window), retried while Redis is away. */
  async #range(runId: string, cursor: number, max: number, maxBytes: number, signal: AbortSignal | undefined): Promise<StoredEvent[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const entries = (await this.#redis.call('XRANGE', this.#keys(runId).events, entryId(cursor + 1), '+', 'COUNT', max)) as [string, string[]][];
        const batch: StoredEvent[] = [];
        let bytes = 0;
        for (const stored of await this.#withSnapshot(runId, cursor, entries.map(parseEntry), max)) {
          bytes += stored.json.length;
          if (bytes > maxBytes && batch.length > 0) break;
          batch.push(stored);
        }
        return batch;
      } catch (error) {
        if (isReplyError(error) || this.#closed || signal?.aborted) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** Math.min(attempt, 6))));
      }
    }
  }

  #onCancelMessage(message: string): void {
    let parsed: { runId?: unknown; reason?: unknown };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      return;
    }
    if (typeof parsed.runId === 'string' && typeof parsed.reason === 'string') this.#deliverCancel(parsed.runId, parsed.reason);
  }

  #deliverCancel(runId: string, reason: string): void {
    const listeners = this.#cancelListeners.get(runId);
    if (!listeners || this.#cancelsDelivered.has(runId)) return;
    if (this.#leases.owns(runId)) this.#cancelsDelivered.add(runId);
    for (const listener of [...listeners]) listener(reason);
  }
}

export { LOG_LOST, PRODUCER_LOST };

function toRecord(hash: Record<string, string> | undefined | null): RunRecord | undefined {
  if (!hash || hash.id === undefined) return undefined;
  return {
    id: hash.id,
    agent: hash.agent ?? '',
    owner: hash.owner,
    createdAt: Number(hash.createdAt),
    status: hash.status as RunRecord['status'],
    endedAt: hash.endedAt === undefined ? undefined : Number(hash.endedAt),
    lastSeq: Number(hash.lastSeq),
  };
}

function toStoreError(error: unknown, runId: string): Error {
  if (!isReplyError(error)) {
    return new AgentwireError('AW_STORE_UNAVAILABLE', `${runId}: Redis is unreachable (${describe(error)}); try again shortly`, { cause: error });
  }
  const message = (error as Error).message;
  const code = message.startsWith('AW_RUN_NOT_FOUND') ? 'AW_RUN_NOT_FOUND' : 'AW_INTERNAL';
  return new AgentwireError(code, `run ${runId}: ${message}`, { cause: error });
}

/** `promise`, with a lost connection turned into `AW_STORE_UNAVAILABLE` (HTTP 503) instead of a bare 500. */
async function unavailableAs503<T>(promise: Promise<T>, what: string): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw isReplyError(error) ? error : toStoreError(error, what);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}

function rejectAfter(ms: number): Promise<never> {
  return new Promise((_, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${Math.max(0, ms)} ms`)), Math.max(0, ms));
    timer.unref?.();
  });
}
