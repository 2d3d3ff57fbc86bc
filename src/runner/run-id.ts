/**
 * Run ids: 128 bits from the platform's CSPRNG, base64url, prefixed `run_` — unguessable, URL-safe.
 *
 * @module
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const CODES = Array.from(ALPHABET, (character) => character.charCodeAt(0));
/** Random bytes drawn 4 KiB at a time (256 ids per CSPRNG call), as Node's `randomUUID` does. */
const pool = new Uint8Array(4096);
let offset = pool.length;
/** The id's character codes, `run_` then 22 base64url digits, reused: the id is made flat in one call. */
const chars: number[] = [...'run_'].map((character) => character.charCodeAt(0));

/** A new unguessable run id, e.g. `run_3q2-7wAbcDEF…` (22 characters after the prefix). */
export function createRunId(): string {
  if (offset + 16 > pool.length) {
    crypto.getRandomValues(pool);
    offset = 0;
  }
  // 16 bytes = five 3-byte groups (4 characters each) and one byte (2 characters), unpadded.
  let at = 4;
  for (let index = offset; index < offset + 15; index += 3) {
    const group = ((pool[index] as number) << 16) | ((pool[index + 1] as number) << 8) | (pool[index + 2] as number);
    chars[at++] = CODES[group >> 18] as number;
    chars[at++] = CODES[(group >> 12) & 63] as number;
    chars[at++] = CODES[(group >> 6) & 63] as number;
    chars[at++] = CODES[group & 63] as number;
  }
  const last = pool[offset + 15] as number;
  chars[at++] = CODES[last >> 2] as number;
  chars[at] = CODES[(last & 3) << 4] as number;
  // Never reuse bytes: wipe what was used.
  pool.fill(0, offset, offset + 16);
  offset += 16;
  // One flat string (concatenating 12 pieces made a rope that every map lookup had to flatten).
  return String.fromCharCode.apply(null, chars);
}

/** True if `value` looks like a run id (cheap check before a store lookup). */
export function isRunIdShape(value: string): boolean {
  return /^[A-Za-z0-9_-]{1,100}$/.test(value);
}
