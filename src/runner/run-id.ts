/**
 * Run ids: 128 bits from the platform's CSPRNG, base64url, prefixed `run_` — unguessable, URL-safe.
 *
 * @module
 */

/** A new unguessable run id, e.g. `run_3q2-7wAbcDEF…` (22 characters after the prefix). */
export function createRunId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `run_${btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

/** True if `value` looks like a run id (cheap check before a store lookup). */
export function isRunIdShape(value: string): boolean {
  return /^[A-Za-z0-9_-]{1,100}$/.test(value);
}
