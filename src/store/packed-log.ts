/**
 * The older part of one run's log, packed for the garbage collector: the JSON of each appended
 * batch joined into one string, with every event's position and type code in typed arrays. It
 * holds one object per batch instead of three or four per event, so a run that retains 100,000
 * events gives the young-generation scavenger and the old-generation marker next to nothing to
 * do; an event becomes an object again only when a reader that is behind asks for it.
 *
 * Events are contiguous in `seq` (`firstSeq`, `firstSeq + 1`, …): appended in batches at the end,
 * dropped from the front; a batch's string is released once all its events are dropped. The JSON is
 * kept as strings, not UTF-8 bytes: encoding it costs more than the garbage collection it saves.
 *
 * @module
 */
import { EVENT_TYPES, type EventType } from '../protocol/events.js';
import { JsonEvent } from './json-event.js';
import type { StoredEvent } from './store.js';

const EMPTY_U32 = new Uint32Array(0);
const EMPTY_U8 = new Uint8Array(0);
const TYPE_CODES: ReadonlyMap<EventType, number> = new Map(EVENT_TYPES.map((type, code) => [type, code]));

/** One run's packed events: see the module comment. */
export class PackedLog {
  /** The joined JSON of each batch still (partly) held; `#chunks[0]` is batch number `#chunkBase`. */
  #chunks: string[] = [];
  #chunkBase = 0;
  /** Per held event, from slot `#head`: its batch number, its start and length in that batch's string, and its type code. */
  #chunkOf = EMPTY_U32;
  #starts = EMPTY_U32;
  #lengths = EMPTY_U32;
  #types = EMPTY_U8;
  #head = 0;
  #count = 0;
  #firstSeq: number;
  #heldLength = 0;

  /** @param firstSeq `seq` the first appended event will have. */
  constructor(firstSeq = 1) {
    this.#firstSeq = firstSeq;
  }

  /** Events held. */
  get length(): number {
    return this.#count;
  }

  /** `seq` of the first held event (of the next appended one when empty). */
  get firstSeq(): number {
    return this.#firstSeq;
  }

  /** Total JSON length of the held events, in UTF-16 code units (about bytes for typical JSON). */
  get jsonLength(): number {
    return this.#heldLength;
  }

  /** Appends a batch; the first event's `seq` must be `firstSeq + length`, the rest follow it. All or nothing. */
  append(events: readonly StoredEvent[]): void {
    if (events.length === 0) return;
    const codes = new Uint8Array(events.length);
    const jsons: string[] = [];
    for (let offset = 0; offset < events.length; offset++) {
      const stored = events[offset] as StoredEvent;
      if (stored.seq !== this.#firstSeq + this.#count + offset) {
        throw new RangeError(`packed log expected seq ${this.#firstSeq + this.#count + offset}, got ${stored.seq}`);
      }
      const code = TYPE_CODES.get(stored.type);
      if (code === undefined) throw new RangeError(`unknown event type ${stored.type}`);
      codes[offset] = code;
      jsons.push(stored.json);
    }
    this.#reserve(events.length);
    const chunk = this.#chunkBase + this.#chunks.length;
    this.#chunks.push(jsons.length === 1 ? (jsons[0] as string) : jsons.join(''));
    let start = 0;
    for (let offset = 0; offset < jsons.length; offset++) {
      const length = (jsons[offset] as string).length;
      const slot = this.#head + this.#count + offset;
      this.#chunkOf[slot] = chunk;
      this.#starts[slot] = start;
      this.#lengths[slot] = length;
      this.#types[slot] = codes[offset] as number;
      start += length;
    }
    this.#count += events.length;
    this.#heldLength += start;
  }

  /** The event at `index` (0: the first held), as a {@link StoredEvent}. */
  at(index: number): StoredEvent {
    const slot = this.#head + index;
    const chunk = this.#chunks[(this.#chunkOf[slot] as number) - this.#chunkBase] as string;
    const start = this.#starts[slot] as number;
    const json = chunk.slice(start, start + (this.#lengths[slot] as number));
    return new JsonEvent(this.#firstSeq + index, EVENT_TYPES[this.#types[slot] as number] as EventType, json);
  }

  /** JSON length of the event at `index`. */
  jsonLengthAt(index: number): number {
    return this.#lengths[this.#head + index] as number;
  }

  /** Drops the first `count` events (all of them when `count` is larger), releasing batches no longer held. */
  dropFirst(count: number): void {
    const dropped = Math.min(count, this.#count);
    if (dropped === 0) return;
    for (let slot = this.#head; slot < this.#head + dropped; slot++) this.#heldLength -= this.#lengths[slot] as number;
    this.#head += dropped;
    this.#count -= dropped;
    this.#firstSeq += dropped;
    const firstChunk = this.#count === 0 ? this.#chunkBase + this.#chunks.length : (this.#chunkOf[this.#head] as number);
    if (firstChunk > this.#chunkBase) {
      this.#chunks.splice(0, firstChunk - this.#chunkBase);
      this.#chunkBase = firstChunk;
    }
    if (this.#count === 0) this.#head = 0;
  }

  /** Makes room for `extra` more slots: moves the held slots to the front, and doubles when still short. */
  #reserve(extra: number): void {
    if (this.#head + this.#count + extra <= this.#types.length) return;
    // Nothing is allocated before the first append: most runs never pack anything.
    let capacity = Math.max(16, this.#types.length);
    while (this.#count + extra > capacity / 2) capacity *= 2;
    const from = this.#head;
    const to = this.#head + this.#count;
    const move = <T extends Uint32Array | Uint8Array>(array: T, make: (size: number) => T): T => {
      const target = capacity === array.length ? array : make(capacity);
      target.set(array.subarray(from, to));
      return target;
    };
    this.#chunkOf = move(this.#chunkOf, (size) => new Uint32Array(size));
    this.#starts = move(this.#starts, (size) => new Uint32Array(size));
    this.#lengths = move(this.#lengths, (size) => new Uint32Array(size));
    this.#types = move(this.#types, (size) => new Uint8Array(size));
    this.#head = 0;
  }
}
