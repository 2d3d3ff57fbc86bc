/**
 * Idempotency keys in process memory (see `RunStore.claimIdempotencyKey`): what the memory store
 * keeps, and what a gateway falls back to over a store that keeps none. Bounded: beyond `max`
 * entries the oldest are forgotten.
 *
 * @module
 */
import type { IdempotencyEntry } from './store.js';

interface Held extends IdempotencyEntry {
  expiresAt: number;
}

/** Idempotency keys held in a `Map`, each until its TTL. */
export class MemoryIdempotency {
  readonly #entries = new Map<string, Held>();
  readonly #max: number;

  constructor(max = 10_000) {
    this.#max = max;
  }

  /** See `RunStore.claimIdempotencyKey`. */
  claim(id: string, bodyHash: string, pendingMs: number, now = Date.now()): IdempotencyEntry | undefined {
    const held = this.#entries.get(id);
    if (held && held.expiresAt >= now) return { bodyHash: held.bodyHash, runId: held.runId };
    this.#set(id, { bodyHash, runId: undefined, expiresAt: now + pendingMs });
    return undefined;
  }

  /** See `RunStore.bindIdempotencyKey`. */
  bind(id: string, bodyHash: string, runId: string, ttlMs: number, now = Date.now()): void {
    this.#set(id, { bodyHash, runId, expiresAt: now + ttlMs });
  }

  /** See `RunStore.releaseIdempotencyKey`. */
  release(id: string): void {
    this.#entries.delete(id);
  }

  #set(id: string, held: Held): void {
    this.#entries.delete(id);
    this.#entries.set(id, held);
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
  }
}
