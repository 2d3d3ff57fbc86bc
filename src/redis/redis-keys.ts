/**
 * The Redis key layout of a run log. Every key of one run shares the hash tag `{run:<id>}`, so a
 * run lives in one Redis Cluster slot and its Lua scripts and transactions touch one node. The few
 * cross-run keys (the run indexes and the lease board) each hold their own slot and are used by
 * single-key commands, never inside a script, so nothing ever spans two slots.
 *
 * @module
 */

/** The keys of one run. */
export interface RunKeys {
  /** Hash: id, agent, owner?, createdAt, status, endedAt?, lastSeq. */
  readonly meta: string;
  /** Stream of events; entry id `0-<seq>`, one field `j` holding the event's JSON. */
  readonly events: string;
  /** Hash: seq → JSON `{ seq, state }`, checkpoints of the folded state (see `state-checkpoints.ts`). */
  readonly state: string;
  /** String with a TTL: the id of the gateway producing the run, renewed while it lives. */
  readonly lease: string;
  /** String with a TTL: a pending cancel request's reason (the fallback of the pub/sub message). */
  readonly cancel: string;
  /** Sorted set: gateway id → epoch ms until which it has a subscriber of the run. */
  readonly subscribers: string;
  /** String: JSON `{ seq, state }`, the reduced state of events 1…seq (what trimmed events stand for). */
  readonly snapshot: string;
  /**
   * Pub/sub channel, used on a Redis Cluster only: a process that stored events publishes the last
   * `seq`, so the processes following the run read it (a blocking `XREAD` cannot span slots there).
   */
  readonly appended: string;
}

/** The keys of run `runId` under `prefix`. */
export function runKeys(prefix: string, runId: string): RunKeys {
  const base = `${prefix}{run:${runId}}`;
  return {
    meta: `${base}:meta`,
    events: `${base}:events`,
    state: `${base}:state`,
    lease: `${base}:lease`,
    cancel: `${base}:cancel`,
    subscribers: `${base}:subs`,
    snapshot: `${base}:snapshot`,
    appended: `${base}:appended`,
  };
}

/** The cross-run keys under `prefix`. */
export function globalKeys(prefix: string): {
  runs: string;
  ownerRuns: (owner: string) => string;
  live: string;
  ownerLive: (owner: string) => string;
  idempotency: (id: string) => string;
  cancelChannel: string;
} {
  return {
    /** Sorted set: run id → createdAt (for `listRuns`). */
    runs: `${prefix}runs`,
    /** Sorted set per owner: run id → createdAt. */
    ownerRuns: (owner: string) => `${prefix}runs:owner:${owner}`,
    /** Sorted set: running run id → epoch ms its lease expires (what survivors scan). */
    live: `${prefix}live`,
    /** Sorted set per owner: running run id → epoch ms its lease expires (the `maxRunsPerOwner` count). */
    ownerLive: (owner: string) => `${prefix}live:owner:${owner}`,
    /** String with a TTL per idempotency key (`id` is a hash): JSON `{ h: bodyHash, r?: runId }`. */
    idempotency: (id: string) => `${prefix}idem:${id}`,
    /** Pub/sub channel of cancel requests: JSON `{ runId, reason }`. */
    cancelChannel: `${prefix}cancel`,
  };
}

/** The stream entry id of event `seq`. Explicit ids make Redis itself refuse a non-increasing seq. */
export function entryId(seq: number): string {
  return `0-${seq}`;
}
