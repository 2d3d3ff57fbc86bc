/**
 * What a gateway process keeps alive in Redis besides the log: a lease on each run it produces
 * (renewed in one pipeline for all of them), its subscriber presence per run (so the producing
 * process, maybe another one, knows a run is watched), and the reaper that closes runs whose
 * producer's lease expired with `run.failed` (`producer_lost`).
 *
 * @module
 */
import type { Redis } from 'ioredis';
import type { AgentEvent } from '../protocol/events.js';
import { type StoredEvent, toStoredEvent } from '../store/store.js';
import { closingEvents } from './closing-events.js';
import { type FaultLog, checkReplies } from './fault-log.js';
import type { RunKeys, globalKeys } from './redis-keys.js';

/** What {@link RunLeases} needs from its store. */
export interface LeaseHost {
  readonly redis: Redis;
  readonly gatewayId: string;
  readonly leaseMs: number;
  readonly global: ReturnType<typeof globalKeys>;
  keys(runId: string): RunKeys;
  /** True when Redis has been reachable for at least a lease period (survivors let producers renew first). */
  settled(): boolean;
  /** A cancel request found in a run's cancel key (the fallback of the pub/sub message). */
  deliverCancel(runId: string, reason: string): void;
  read(runId: string, after: number): Promise<StoredEvent[]>;
  /** Appends only while no lease exists on the run (the survivor's fence). */
  appendFenced(runId: string, events: StoredEvent[]): Promise<void>;
  readonly faults: FaultLog;
}

/** Leases, subscriber presence and the reaper of one process. */
export class RunLeases {
  readonly #host: LeaseHost;
  /** Runs this process produces, with their owner (counted against `maxRunsPerOwner`). */
  readonly #owned = new Map<string, string | undefined>();
  /** Local subscriber counts per run. */
  readonly #subscribers = new Map<string, number>();
  readonly #timers: ReturnType<typeof setInterval>[];
  #stopped = false;
  /** The time up to which the last complete reaper pass looked for expired leases (0: none yet). */
  scannedUpTo = 0;

  constructor(host: LeaseHost) {
    this.#host = host;
    this.#timers = [
      setInterval(
        () => void this.#renew().catch((error: unknown) => host.faults.failed('lease', `cannot renew the leases of ${this.#owned.size} run(s); they are closed as producer_lost if this lasts ${host.leaseMs} ms`, error)),
        Math.max(50, Math.floor(host.leaseMs / 3)),
      ),
      setInterval(
        () => void this.#reap().catch((error: unknown) => host.faults.failed('reap', 'cannot look for runs whose producer was lost', error)),
        Math.max(50, Math.floor(host.leaseMs / 2)),
      ),
    ];
    for (const timer of this.#timers) timer.unref?.();
  }

  /** This process now produces `runId` (its lease was set when the run was created). */
  own(runId: string, owner: string | undefined): void {
    this.#owned.set(runId, owner);
  }

  /**
   * This process no longer produces `runId` (it ended, or its producer gave up on it): the lease is
   * no longer renewed, so unless the run ended, a survivor closes it with `producer_lost`.
   */
  disown(runId: string): void {
    this.#owned.delete(runId);
  }

  /** The owner `runId` was counted for, while this process produces it. */
  ownerOf(runId: string): string | undefined {
    return this.#owned.get(runId);
  }

  /** Number of runs this process produces. */
  get size(): number {
    return this.#owned.size;
  }

  owns(runId: string): boolean {
    return this.#owned.has(runId);
  }

  /** Announces a local subscriber of `runId`; returns its release. */
  addSubscriber(runId: string): () => void {
    this.#subscribers.set(runId, (this.#subscribers.get(runId) ?? 0) + 1);
    if (this.#subscribers.get(runId) === 1) void this.#announce([runId]).catch((error: unknown) => this.#presenceFailed(error));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const count = (this.#subscribers.get(runId) ?? 1) - 1;
      if (count > 0) this.#subscribers.set(runId, count);
      else {
        this.#subscribers.delete(runId);
        void this.#host.redis.zrem(this.#host.keys(runId).subscribers, this.#host.gatewayId).catch((error: unknown) => this.#presenceFailed(error));
      }
    };
  }

  /** True when any process has an unexpired subscriber presence on `runId`. */
  async hasSubscribers(runId: string): Promise<boolean> {
    if ((this.#subscribers.get(runId) ?? 0) > 0) return true;
    return (await this.#host.redis.zcount(this.#host.keys(runId).subscribers, Date.now(), '+inf')) > 0;
  }

  /** Presence that could not be written expires or is re-announced at the next renewal: told, not fatal. */
  #presenceFailed(error: unknown): void {
    this.#host.faults.failed('presence', 'cannot update subscriber presence; retried at the next lease renewal', error);
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearInterval(timer);
  }

  /** Renews this process's leases, reads pending cancels (in case a pub/sub message was missed) and re-announces presence. */
  async #renew(): Promise<void> {
    const { redis, gatewayId, leaseMs } = this.#host;
    const owned = [...this.#owned.keys()];
    if (owned.length > 0) {
      const pipeline = redis.pipeline();
      for (const runId of owned) {
        const keys = this.#host.keys(runId);
        pipeline.set(keys.lease, gatewayId, 'PX', leaseMs, 'XX');
        pipeline.get(keys.cancel);
      }
      const expiry = Date.now() + leaseMs;
      pipeline.zadd(this.#host.global.live, ...owned.flatMap((runId) => [expiry, runId]));
      const owners = new Map<string, string[]>();
      for (const runId of owned) {
        const owner = this.#owned.get(runId);
        if (owner !== undefined) owners.set(owner, [...(owners.get(owner) ?? []), runId]);
      }
      for (const [owner, runIds] of owners) {
        const key = this.#host.global.ownerLive(owner);
        pipeline.zadd(key, 'XX', ...runIds.flatMap((runId) => [expiry, runId])).pexpireat(key, expiry);
      }
      const replies = checkReplies(await pipeline.exec(), this.#host.faults, 'lease', 'renewing leases');
      owned.forEach((runId, index) => {
        const renewed = replies[index * 2];
        const cancel = replies[index * 2 + 1];
        // No lease to renew: it expired. Right after Redis came back, that is the outage's doing:
        // survivors wait a lease period before reaping so that producers take their leases back
        // first. Otherwise this process stalled for a whole lease period (or gave the run up) and
        // does not take it back: the run is closed as producer_lost and its next append is refused.
        if (renewed === null && this.#owned.has(runId)) {
          if (!this.#host.settled()) {
            void redis.set(this.#host.keys(runId).lease, gatewayId, 'PX', leaseMs, 'NX').catch((error: unknown) => this.#host.faults.failed('lease', `cannot take back the lease of run ${runId} after Redis came back`, error, runId));
          } else {
            this.#owned.delete(runId);
            this.#host.faults.once('lease_lost', `the lease of run ${runId} expired before it was renewed (this process stalled for ${leaseMs} ms?); the run is closed as producer_lost`, runId);
          }
        }
        if (typeof cancel === 'string') this.#host.deliverCancel(runId, cancel);
      });
    }
    await this.#announce([...this.#subscribers.keys()]);
  }

  async #announce(runIds: string[]): Promise<void> {
    if (runIds.length === 0) return;
    const { redis, gatewayId, leaseMs } = this.#host;
    const until = Date.now() + leaseMs;
    const pipeline = redis.pipeline();
    for (const runId of runIds) {
      const key = this.#host.keys(runId).subscribers;
      pipeline.zadd(key, until, gatewayId);
      pipeline.pexpire(key, leaseMs * 2);
    }
    checkReplies(await pipeline.exec(), this.#host.faults, 'presence', 'announcing subscribers');
  }

  /** Closes runs whose producer's lease expired: `step.finished` for open steps, then `run.failed` (`producer_lost`). */
  async #reap(): Promise<void> {
    if (!this.#host.settled()) return;
    const { redis, global } = this.#host;
    const now = Date.now();
    const expired = await redis.zrangebyscore(global.live, '-inf', now, 'LIMIT', 0, 20);
    let failure: unknown;
    for (const runId of expired) {
      if (this.#owned.has(runId) || this.#stopped) continue;
      // One run that cannot be closed (its log unreadable) must not keep the others open.
      await this.#close(runId).catch((error: unknown) => {
        failure ??= error;
        this.#host.faults.failed('reap', `cannot close run ${runId}, whose producer was lost: ${(error as Error).message}`, error, runId);
      });
    }
    if (failure === undefined) this.#host.faults.succeeded('reap');
    this.scannedUpTo = now;
  }

  async #close(runId: string): Promise<void> {
    const { redis, global } = this.#host;
    const keys = this.#host.keys(runId);
    const [[status, owner], lease] = await Promise.all([redis.hmget(keys.meta, 'status', 'owner'), redis.exists(keys.lease)]);
    if (status !== 'running') {
      await redis.zrem(global.live, runId);
      return;
    }
    if (lease === 1) return;
    const log = await this.#host.read(runId, 0);
    const lastSeq = Number(await redis.hget(keys.meta, 'lastSeq'));
    const bodies = closingEvents(
      log.map((stored) => stored.event),
      'the gateway producing this run stopped renewing its lease (it crashed or lost Redis)',
    );
    const now = Date.now();
    const closing = bodies.map((body, index) => toStoredEvent({ ...body, seq: lastSeq + 1 + index, at: now } as AgentEvent));
    try {
      await this.#host.appendFenced(runId, closing);
    } catch (error) {
      // Another survivor closed it first, or the producer came back: either way the run has one ending.
      if (/AW_(SEQ|ENDED|LEASE_HELD)/.test((error as Error).message)) return;
      throw error;
    }
    await redis.zrem(global.live, runId);
    if (owner !== null && owner !== undefined) await redis.zrem(global.ownerLive(owner), runId);
  }
}
