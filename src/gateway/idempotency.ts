/**
 * `Idempotency-Key` for `POST /api/runs`: a retried start with the same key (from the same
 * principal) returns the run the first one started instead of starting another; the same key with
 * a different body is refused (409). Kept in memory, bounded, for `ttlMs`.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { AgentwireError } from '../protocol/errors.js';

interface Entry {
  runId: string;
  bodyHash: string;
  expiresAt: number;
}

/** Remembers which run each idempotency key started. */
export class IdempotencyKeys {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #max: number;

  constructor(ttlMs: number, max = 10_000) {
    this.#ttlMs = ttlMs;
    this.#max = max;
  }

  /** Validates a header value: 1–200 visible ASCII characters. */
  static parse(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    if (!/^[\x21-\x7e]{1,200}$/.test(value)) {
      throw new AgentwireError('AW_BAD_REQUEST', 'Idempotency-Key must be 1 to 200 visible ASCII characters (a UUID is a good choice)');
    }
    return value;
  }

  /** The run an earlier request with this key started, or `undefined`. Throws 409 when the body differs. */
  find(principal: string | undefined, key: string, body: string, now = Date.now()): string | undefined {
    const entry = this.#entries.get(this.#id(principal, key));
    if (!entry || entry.expiresAt < now) return undefined;
    if (entry.bodyHash !== hash(body)) {
      throw new AgentwireError('AW_IDEMPOTENCY_MISMATCH', 'this Idempotency-Key was already used with a different request body');
    }
    return entry.runId;
  }

  /** Records that `key` started `runId`. */
  remember(principal: string | undefined, key: string, body: string, runId: string, now = Date.now()): void {
    const id = this.#id(principal, key);
    this.#entries.delete(id);
    this.#entries.set(id, { runId, bodyHash: hash(body), expiresAt: now + this.#ttlMs });
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
  }

  #id(principal: string | undefined, key: string): string {
    return `${principal ?? ''}\u0000${key}`;
  }
}

function hash(body: string): string {
  return createHash('sha256').update(body).digest('base64url');
}
