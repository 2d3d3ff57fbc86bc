/**
 * `Idempotency-Key` for `POST /api/runs`: a retried start with the same key (from the same
 * principal) returns the run the first one started instead of starting another; the same key with
 * a different body is refused (409). The key lives in the run store, so on a store shared by
 * several gateways (Redis) a retry that lands on another gateway finds it too; the first request
 * claims the key atomically before it starts its run, so two concurrent requests start one run.
 * Over a store that keeps no keys, they are kept in this process's memory.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { AgentwireError } from '../../protocol/errors.js';
import { MemoryIdempotency } from '../../store/memory-idempotency.js';
import type { IdempotencyEntry, RunRecord, RunStore } from '../../store/store.js';

/** Options of {@link IdempotencyKeys}. Times in ms. */
export interface IdempotencyOptions {
  /** How long a key is remembered after its run started. @defaultValue 86400000 (24 h) */
  ttlMs?: number;
  /** How long a claim lasts while its run is being started (a gateway that dies meanwhile frees it then). @defaultValue 30000 */
  pendingMs?: number;
  /** How long a request waits for a concurrent one with the same key to start its run, before a 409. @defaultValue 10000 */
  waitMs?: number;
  /**
   * Called when the store fails to bind a started run to its key (a retry after `pendingMs` then
   * starts another run) or to release the key of a start that failed (a retry gets 409 until
   * `pendingMs`). The request is answered all the same. @defaultValue logs to `console.error`
   */
  onError?: (error: unknown, failure: IdempotencyFailure) => void;
}

/** What {@link IdempotencyOptions.onError} is told: which step failed, and the run it was for. */
export interface IdempotencyFailure {
  step: 'bind' | 'release';
  /** The run started (bind only). */
  runId?: string;
}

/** The one-line summary of an {@link IdempotencyFailure}, as logged. */
export function describeIdempotencyFailure(failure: IdempotencyFailure): string {
  return failure.step === 'bind'
    ? `could not bind an Idempotency-Key to run ${failure.runId}: a retry after its claim expires starts another run`
    : 'could not release the Idempotency-Key of a failed start: retries get 409 until its claim expires';
}

const DEFAULTS = Object.freeze({ ttlMs: 24 * 60 * 60 * 1000, pendingMs: 30_000, waitMs: 10_000 });

/** What {@link IdempotencyKeys} keeps keys in: the store's methods, or memory. */
interface KeyBackend {
  claim(id: string, bodyHash: string, pendingMs: number): Promise<IdempotencyEntry | undefined>;
  bind(id: string, bodyHash: string, runId: string, ttlMs: number): Promise<void>;
  release(id: string): Promise<void>;
}

/** Starts runs at most once per idempotency key. */
export class IdempotencyKeys {
  readonly #backend: KeyBackend;
  readonly #ttlMs: number;
  readonly #pendingMs: number;
  readonly #waitMs: number;
  readonly #onError: (error: unknown, failure: IdempotencyFailure) => void;

  constructor(store: RunStore, options: IdempotencyOptions = {}) {
    this.#onError = options.onError ?? ((error, failure) => console.error(`[agentwire] ${describeIdempotencyFailure(failure)}:`, error));
    this.#ttlMs = options.ttlMs ?? DEFAULTS.ttlMs;
    this.#pendingMs = options.pendingMs ?? DEFAULTS.pendingMs;
    this.#waitMs = options.waitMs ?? DEFAULTS.waitMs;
    this.#backend = backendOf(store);
  }

  /** Validates a header value: 1–200 visible ASCII characters. */
  static parse(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    if (!/^[\x21-\x7e]{1,200}$/.test(value)) {
      throw new AgentwireError('AW_BAD_REQUEST', 'Idempotency-Key must be 1 to 200 visible ASCII characters (a UUID is a good choice)');
    }
    return value;
  }

  /**
   * Starts a run for a request with `key` (none: just starts it): `start` runs only for the first
   * request with the key; a repeat gets that request's run from `find` (`replayed: true`). Throws 409
   * `AW_IDEMPOTENCY_MISMATCH` when the key was used with another body, and 409
   * `AW_IDEMPOTENCY_IN_PROGRESS` when the first request is still starting its run after `waitMs`.
   */
  async start(
    principal: string | undefined,
    key: string | undefined,
    body: string,
    start: () => Promise<RunRecord>,
    find: (runId: string) => Promise<RunRecord>,
  ): Promise<{ record: RunRecord; replayed: boolean }> {
    if (key === undefined) return { record: await start(), replayed: false };
    const id = hash(`${principal ?? ''}\u0000${key}`);
    const bodyHash = hash(body);
    const deadline = Date.now() + this.#waitMs;
    for (let attempt = 0; ; attempt++) {
      const used = await this.#backend.claim(id, bodyHash, this.#pendingMs);
      if (used === undefined) return { record: await this.#startClaimed(id, bodyHash, start), replayed: false };
      if (used.bodyHash !== bodyHash) {
        throw new AgentwireError('AW_IDEMPOTENCY_MISMATCH', 'this Idempotency-Key was already used with a different request body');
      }
      if (used.runId !== undefined) return { record: await find(used.runId), replayed: true };
      if (Date.now() >= deadline) {
        throw new AgentwireError('AW_IDEMPOTENCY_IN_PROGRESS', 'a request with this Idempotency-Key is still starting its run; retry shortly', {
          details: { retryAfterSeconds: 1 },
        });
      }
      // Another request (maybe on another gateway) holds the claim: a start takes milliseconds.
      await new Promise((resolve) => setTimeout(resolve, Math.min(250, 10 * 2 ** attempt)));
    }
  }

  async #startClaimed(id: string, bodyHash: string, start: () => Promise<RunRecord>): Promise<RunRecord> {
    let record: RunRecord;
    try {
      record = await start();
    } catch (error) {
      // Nothing was started (a 429, an unknown agent): a retry with the key may try again.
      await this.#backend.release(id).catch((cause: unknown) => this.#report(cause, { step: 'release' }));
      throw error;
    }
    // The run has started: answer with it even if the key cannot be bound now. A retry meanwhile
    // finds the claim pending (409 until it expires) rather than starting a second run at once.
    await this.#backend.bind(id, bodyHash, record.id, this.#ttlMs).catch((cause: unknown) => this.#report(cause, { step: 'bind', runId: record.id }));
    return record;
  }

  #report(error: unknown, failure: IdempotencyFailure): void {
    try {
      this.#onError(error, failure);
    } catch {
      // A throwing reporter must not fail a request that was answered.
    }
  }
}

/** The store's key methods when it has all three; process memory otherwise. */
function backendOf(store: RunStore): KeyBackend {
  const { claimIdempotencyKey, bindIdempotencyKey, releaseIdempotencyKey } = store;
  if (claimIdempotencyKey && bindIdempotencyKey && releaseIdempotencyKey) {
    return {
      claim: (id, bodyHash, pendingMs) => claimIdempotencyKey.call(store, id, bodyHash, pendingMs),
      bind: (id, bodyHash, runId, ttlMs) => bindIdempotencyKey.call(store, id, bodyHash, runId, ttlMs),
      release: (id) => releaseIdempotencyKey.call(store, id),
    };
  }
  const memory = new MemoryIdempotency();
  return {
    claim: async (id, bodyHash, pendingMs) => memory.claim(id, bodyHash, pendingMs),
    bind: async (id, bodyHash, runId, ttlMs) => memory.bind(id, bodyHash, runId, ttlMs),
    release: async (id) => memory.release(id),
  };
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}
