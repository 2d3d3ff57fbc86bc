/**
 * Run ids: 128 bits from the platform's CSPRNG, base64url, prefixed `run_` — unguessable, URL-safe.
 *
 * @module
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Random bytes drawn 4 KiB at a time (256 ids per CSPRNG call), as Node's `randomUUID` does. */
const pool = new Uint8Array(4096);
let offset = pool.length;

/** A new unguessable run id, e.g. `run_3q2-7wAbcDEF…` (22 characters after the prefix). */
export function createRunId(): string {
  if (offset + 16 > pool.length) {
    crypto.getRandomValues(pool);
    offset = 0;
  }
  let id = 'run_';
  // 16 bytes = five 3-byte groups (4 characters each) and one byte (2 characters), unpadded.
  for (let index = offset; index < offset + 15; index += 3) {
    const group = ((pool[index] as number) << 16) | ((pool[index + 1] as number) << 8) | (pool[index + 2] as number);
    id += ALPHABET.charAt(group >> 18) + ALPHABET.charAt((group >> 12) & 63) + ALPHABET.charAt((group >> 6) & 63) + ALPHABET.charAt(group & 63);
  }
  const last = pool[offset + 15] as number;
  id += ALPHABET.charAt(last >> 2) + ALPHABET.charAt((last & 3) << 4);
  // Never reuse bytes: wipe what was used.
  pool.fill(0, offset, offset + 16);
  offset += 16;
  return id;
}

/** True if `value` looks like a run id (cheap check before a store lookup). */
export function isRunIdShape(value: string): boolean {
  return /^[A-Za-z0-9_-]{1,100}$/.test(value);
}
