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
}

/** Leases, subscriber presence and the reaper of one process. */
export class RunLeases {
  readonly #host: LeaseHost;
  /** Runs this process produces. */
  readonly #owned = new Set<string>();
  /** Local subscriber counts per run. */
  readonly #subscribers = new Map<string, number>();
  readonly #timers: ReturnType<typeof setInterval>[];
  #stopped = false;

  constructor(host: LeaseHost) {
    this.#host = host;
    this.#timers = [
      setInterval(() => void this.#renew().catch(() => {}), Math.max(50, Math.floor(host.leaseMs / 3))),
      setInterval(() => void this.#reap().catch(() => {}), Math.max(50, Math.floor(host.leaseMs / 2))),
    ];
    for (const timer of this.#timers) timer.unref?.();
  }

  /** This process now produces `runId` (its lease was set when the run was created). */
  own(runId: string): void {
    this.#owned.add(runId);
  }

  disown(runId: string): void {
    this.#owned.delete(runId);
  }

  owns(runId: string): boolean {
    return this.#owned.has(runId);
  }

  /** Announces a local subscriber of `runId`; returns its release. */
  addSubscriber(runId: string): () => void {
    this.#subscribers.set(runId, (this.#subscribers.get(runId) ?? 0) + 1);
    if (this.#subscribers.get(runId) === 1) void this.#announce([runId]).catch(() => {});
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const count = (this.#subscribers.get(runId) ?? 1) - 1;
      if (count > 0) this.#subscribers.set(runId, count);
      else {
        this.#subscribers.delete(runId);
        void this.#host.redis.zrem(this.#host.keys(runId).subscribers, this.#host.gatewayId).catch(() => {});
      }
    };
  }

  /** True when any process has an unexpired subscriber presence on `runId`. */
  async hasSubscribers(runId: string): Promise<boolean> {
    if ((this.#subscribers.get(runId) ?? 0) > 0) return true;
    return (await this.#host.redis.zcount(this.#host.keys(runId).subscribers, Date.now(), '+inf')) > 0;
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearInterval(timer);
  }

  /** Renews this process's leases, reads pending cancels (in case a pub/sub message was missed) and re-announces presence. */
  async #renew(): Promise<void> {
    const { redis, gatewayId, leaseMs } = this.#host;
    const owned = [...this.#owned];
    if (owned.length > 0) {
      const pipeline = redis.pipeline();
      for (const runId of owned) {
        const keys = this.#host.keys(runId);
        pipeline.set(keys.lease, gatewayId, 'PX', leaseMs, 'XX');
        pipeline.get(keys.cancel);
      }
      const expiry = Date.now() + leaseMs;
      pipeline.zadd(this.#host.global.live, ...owned.flatMap((runId) => [expiry, runId]));
      const replies = (await pipeline.exec()) ?? [];
      owned.forEach((runId, index) => {
        const renewed = replies[index * 2]?.[1];
        const cancel = replies[index * 2 + 1]?.[1];
        // No lease to renew: it expired (this process stalled); take it again unless a survivor
        // has closed the run already (then this process's next append is refused).
        if (renewed === null) void redis.set(this.#host.keys(runId).lease, gatewayId, 'PX', leaseMs, 'NX').catch(() => {});
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
    await pipeline.exec();
  }

  /** Closes runs whose producer's lease expired: `step.finished` for open steps, then `run.failed` (`producer_lost`). */
  async #reap(): Promise<void> {
    if (!this.#host.settled()) return;
    const { redis, global } = this.#host;
    const expired = await redis.zrangebyscore(global.live, '-inf', Date.now(), 'LIMIT', 0, 20);
    for (const runId of expired) {
      if (this.#owned.has(runId) || this.#stopped) continue;
      const keys = this.#host.keys(runId);
      const [status, lease] = await Promise.all([redis.hget(keys.meta, 'status'), redis.exists(keys.lease)]);
      if (status !== 'running') {
        await redis.zrem(global.live, runId);
        continue;
      }
      if (lease === 1) continue;
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
        await redis.zrem(global.live, runId);
      } catch {
        // Another survivor closed it first, or the producer came back: either way the run has one ending.
      }
    }
  }
}
