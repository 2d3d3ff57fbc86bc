/**
 * The run log interface. A store keeps, per run, its metadata and its ordered events, and lets
 * any number of subscribers read after a `seq` and follow live appends. Small and async so a
 * Redis implementation fits behind it.
 *
 * @module
 */
import type { AgentEvent, ErrorInfo, EventType } from '../protocol/events.js';
import type { RunState } from '../protocol/run-state.js';
import { JsonEvent } from './json-event.js';

/** An event as the store keeps it: the object and its JSON, serialised once for every subscriber. */
export interface StoredEvent {
  readonly seq: number;
  readonly type: EventType;
  readonly event: AgentEvent;
  /** `JSON.stringify(event)`. */
  readonly json: string;
}

/** Where a run is in its life, as the store records it. */
export type RunRecordStatus = 'running' | 'finished' | 'failed' | 'cancelled';

/** A run's metadata. */
export interface RunRecord {
  id: string;
  agent: string;
  /** Who started the run (the auth principal); `undefined` without auth. */
  owner: string | undefined;
  createdAt: number;
  status: RunRecordStatus;
  endedAt: number | undefined;
  /** `seq` of the last event appended. */
  lastSeq: number;
}

/**
 * What a stream does with one batch of a follow: `undefined` when it is done with it, or a promise
 * when its consumer is full and the next batch has to wait.
 */
export type BatchHandler = (batch: StoredEvent[]) => Promise<void> | undefined;

/** A follow that can also push its batches (an in-process store's): see `Follower.forEachBatch`. */
interface PushingFollow {
  forEachBatch(onBatch: BatchHandler): Promise<void>;
}

/**
 * Runs `onBatch` on every batch of `follow` until it ends (or `signal`, the follow's own, aborts).
 * An in-process store's follow pushes (no promise per batch); any other is iterated, awaiting
 * `onBatch` only when it returns a promise.
 */
export async function forEachBatch(follow: AsyncIterable<StoredEvent[]>, onBatch: BatchHandler, signal?: AbortSignal): Promise<void> {
  const pushing = follow as Partial<PushingFollow>;
  if (typeof pushing.forEachBatch === 'function') return pushing.forEachBatch(onBatch);
  for await (const batch of follow) {
    const waiting = onBatch(batch);
    if (waiting !== undefined) await waiting;
    if (signal?.aborted) break;
  }
}

/** Options for {@link RunStore.follow}. */
export interface FollowOptions {
  /** Stops following (the iterator returns) when aborted. */
  signal?: AbortSignal;
  /** Most events per batch. @defaultValue 512 */
  maxBatch?: number;
  /** Most bytes of event JSON per batch (at least one event is always returned). @defaultValue 262144 */
  maxBatchBytes?: number;
}

/**
 * The run log. Implementations: {@link MemoryStore} (default). Every method is async so a networked
 * store fits; `follow` yields batches so a fast subscriber pays one wake-up per batch, not per event.
 */
export interface RunStore {
  /**
   * Records a new run. Throws if the id exists, and `AW_TOO_MANY_RUNS` when `options.maxRunsPerOwner`
   * is given and the run's owner already has that many runs running in the store: the check and the
   * record are one atomic step, so a burst of starts cannot pass the limit, across every process
   * sharing the store. A store that cannot count leaves the limit to its caller.
   */
  createRun(record: RunRecord, options?: CreateRunOptions): Promise<void>;
  /** A run's metadata, or `undefined` when unknown (or expired). */
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** Recent runs, newest first. */
  listRuns(filter?: { owner?: string | undefined; limit?: number }): Promise<RunRecord[]>;
  /**
   * Appends events (their `seq` must continue the run's sequence with no gap). A terminal event
   * ends the run: its status and end time are recorded and followers finish after it.
   */
  append(runId: string, events: readonly StoredEvent[]): Promise<void>;
  /**
   * Every retained event after `after`. When events after `after` were evicted, the first
   * element is a `run.snapshot` standing for them.
   */
  read(runId: string, after: number): Promise<StoredEvent[]>;
  /**
   * Events after `after`, then live ones as they are appended, in batches, with no gap and no
   * duplicate; ends after the terminal event, when the signal aborts, or at once for an unknown run.
   */
  follow(runId: string, after: number, options?: FollowOptions): AsyncIterable<StoredEvent[]>;
  /** Asks the run's producer to cancel. Resolves `false` when the run is unknown or already ended. */
  requestCancel(runId: string, reason: string): Promise<boolean>;
  /** Calls `listener` when a cancel is requested for `runId`. Returns an unsubscribe function. */
  onCancel(runId: string, listener: (reason: string) => void): () => void;
  /** Releases timers and connections. */
  close(): Promise<void>;
  /**
   * Optional, for stores shared by several processes: records that this process has a subscriber
   * of `runId` (so the producing process, maybe another one, does not cancel the run for lack of
   * subscribers). Returns the function that removes it.
   */
  addSubscriber?(runId: string): () => void;
  /** Optional: true when any process (this one included) has a subscriber of `runId`. */
  hasSubscribers?(runId: string): Promise<boolean>;
  /**
   * Optional, for in-process stores: a synchronous appender of one event, bound to one run (no
   * lookup of the run per event), with the checks of {@link append} (it throws instead of
   * rejecting). The runner takes one per run when present, so a fast agent pays no await per
   * event; without it, the runner awaits {@link append}.
   */
  openAppender?(runId: string): (event: StoredEvent) => void;
  /**
   * Optional: records a run as failed without its terminal event, so its followers end (they end
   * after the last event logged) and its record says `failed`. The runner's last resort when the
   * log refused the run's `run.failed` too (see `AW_STORE_ERROR`). Does nothing to an ended run.
   */
  endRun?(runId: string, error: ErrorInfo): Promise<void>;
  /** Optional: the backend's health, shown by `/healthz` (`ok: false` answers 503). */
  health?(): StoreHealth;
  /**
   * Optional: the run's state, the fold of all its events (`reduceAll` of a `read` from 0), or with
   * `at` of its events up to `at`; `undefined` for an unknown run, or when `at` is past its last
   * event or before its retained ones. An in-process store keeps it as events are appended, so a
   * read costs no parse. The gateway serves `GET /api/runs/:id` and the resume of its stateful
   * formats from it when present.
   */
  state?(runId: string, at?: number): Promise<RunState | undefined>;
  /**
   * Optional: calls `listener` with each failure the store handles by itself (retrying with a
   * backoff) and when it clears, so the gateway can log and count them. Returns the unsubscribe.
   */
  onFault?(listener: (fault: StoreFault) => void): () => void;
  /**
   * Optional, with {@link bindIdempotencyKey} and {@link releaseIdempotencyKey}: claims the
   * idempotency key `id` for a request whose body hashes to `bodyHash`, atomically, for `pendingMs`.
   * Resolves `undefined` when the caller now holds the claim (it starts the run, then binds or
   * releases it), or the entry of whoever used the key first (its `runId` is `undefined` while that
   * request is still starting its run). A store shared by several processes makes a key work
   * across them.
   */
  claimIdempotencyKey?(id: string, bodyHash: string, pendingMs: number): Promise<IdempotencyEntry | undefined>;
  /** Records that the claim on `id` (for `bodyHash`) started `runId`; the entry lives `ttlMs`. */
  bindIdempotencyKey?(id: string, bodyHash: string, runId: string, ttlMs: number): Promise<void>;
  /** Drops a claim whose run could not be started, so a retry may start one. */
  releaseIdempotencyKey?(id: string): Promise<void>;
}

/** Options of {@link RunStore.createRun}. */
export interface CreateRunOptions {
  /** Most runs the record's owner may have running at once (ignored without an owner). @defaultValue unlimited */
  maxRunsPerOwner?: number;
}

/** What a store keeps per idempotency key (see {@link RunStore.claimIdempotencyKey}). */
export interface IdempotencyEntry {
  /** Hash of the body of the request that used the key first. */
  readonly bodyHash: string;
  /** The run that request started; `undefined` while it is still starting it. */
  readonly runId: string | undefined;
}

/**
 * A failure a store met and handles by itself (it backs off and retries), told at each occurrence
 * (`state: 'failing'`, `occurrence` counting from 1 in this episode: log the first, count all) and
 * once when the operation works again (`state: 'recovered'`).
 */
export interface StoreFault {
  /** What failed: e.g. `follow` (live reads), `lease` (lease renewal), `write` (a command of a pipeline). */
  readonly operation: string;
  readonly state: 'failing' | 'recovered';
  readonly occurrence: number;
  /** What happened and what it affects, for a log line. */
  readonly message: string;
  /** The run concerned, when one is. */
  readonly runId?: string;
  readonly error?: unknown;
}

/** What {@link RunStore.health} reports: `ok` and details such as `{ redis: 'up' }`. */
export interface StoreHealth {
  ok: boolean;
  [detail: string]: unknown;
}

/**
 * Builds a {@link StoredEvent}, serialising the event once. An in-process store keeps the object it
 * returns as it is (no copy), letting go of `event` (it is parsed again from the JSON if asked for).
 */
export function toStoredEvent(event: AgentEvent): StoredEvent {
  return new JsonEvent(event.seq, event.type, JSON.stringify(event), event);
}
