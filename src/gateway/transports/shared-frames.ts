/**
 * A run's batches framed once per format and shared as bytes by every subscriber handed them.
 * The subscribers of a run that are caught up are woken one after the other by the same append
 * and each read the same batch (the same stored events, from the same first to the same last):
 * the first frames it, and the second finds that frame (the last one made) and keeps its UTF-8
 * bytes, keyed on the batch's last event, for itself and every one after: fan-out to 1,000
 * subscribers frames and encodes each batch once, not 1,000 times, and a lone subscriber pays
 * nothing for it.
 *
 * Memory stays bounded by what the store holds: an entry lives only as long as its last event
 * object does (a `WeakMap` key: the store's live tail, or a batch a subscriber has in hand), it is
 * never replaced, and the text of the last batch framed is the only other frame held. Batches with
 * an event of more than {@link MAX_SHARED_JSON} of JSON, or of more than `MAX_SHARED_BYTES`
 * in all, are not kept (those are framed per subscriber, as any batch of a stateful format is).
 * Caught-up subscribers' batches do not overlap, so what is kept is about the size of the tail.
 *
 * @module
 */
import type { StoredEvent } from '../../store/store.js';

/** Events with more JSON than this (UTF-16 code units) are never in a kept frame: they must not be pinned. */
export const MAX_SHARED_JSON = 8 * 1024;
/** Most bytes of one kept frame (about the JSON of the batch plus its framing). */
const MAX_SHARED_BYTES = 64 * 1024;
/** Framing allowed per event when a batch is sized before it is framed. */
const FRAMING_PER_EVENT = 64;

/** Frames a batch of one run's events as one string. */
export type BatchFramer = (batch: readonly StoredEvent[], runId: string) => string;

interface Kept {
  readonly first: StoredEvent;
  readonly count: number;
  readonly bytes: Uint8Array;
}

const utf8 = new TextEncoder();

/** One stateless format's shared frames: see the module comment. */
export class SharedFrames {
  readonly #byLast = new WeakMap<StoredEvent, Kept>();
  // The batch framed last, as text, until a second subscriber asks for the same one: held in
  // fields, not an object per batch (a lone subscriber frames every batch it reads).
  #framedFirst: StoredEvent | undefined;
  #framedLast: StoredEvent | undefined;
  #framedCount = 0;
  #framedText = '';
  /** Frames a batch, as a string (for a batch that is not kept). */
  readonly frame: BatchFramer;

  constructor(frame: BatchFramer) {
    this.frame = frame;
  }

  /**
   * The frame of `batch` (of run `runId`): as text for the first subscriber handed it (a lone
   * subscriber, the usual start-and-stream, pays for no sharing), as bytes shared with every other
   * subscriber from the second on; `undefined` when the batch is not one to keep (too large, or
   * another batch ending at the same event is kept): frame it with {@link frame} then.
   */
  frames(batch: readonly StoredEvent[], runId: string): string | Uint8Array | undefined {
    const first = batch[0];
    const last = batch[batch.length - 1];
    if (first === undefined || last === undefined) return undefined;
    const kept = this.#byLast.get(last);
    if (kept !== undefined) return kept.first === first && kept.count === batch.length ? kept.bytes : undefined;
    if (this.#framedLast === last && this.#framedFirst === first && this.#framedCount === batch.length) {
      const text = this.#framedText;
      this.#forgetFramed();
      // A Buffer over its own memory: Node's sockets take it without a conversion per write, and
      // no pool slab is pinned by it.
      const encoded = utf8.encode(text);
      const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
      this.#byLast.set(last, { first, count: batch.length, bytes });
      return bytes;
    }
    let size = 0;
    for (let index = 0; index < batch.length; index++) {
      const length = (batch[index] as StoredEvent).json.length;
      if (length > MAX_SHARED_JSON) return undefined;
      size += length + FRAMING_PER_EVENT;
    }
    if (size > MAX_SHARED_BYTES) return undefined;
    const frame = this.frame(batch, runId);
    this.#framedFirst = first;
    this.#framedLast = last;
    this.#framedCount = batch.length;
    this.#framedText = frame;
    return frame;
  }

  #forgetFramed(): void {
    this.#framedFirst = undefined;
    this.#framedLast = undefined;
    this.#framedCount = 0;
    this.#framedText = '';
  }
}
