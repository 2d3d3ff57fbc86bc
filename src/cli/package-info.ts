/**
 * The package's own metadata, read at run time from its package.json.
 *
 * @module
 */
import { readFileSync } from 'node:fs';

/** The installed agentwire version. */
export function readPackageVersion(): string {
  const path = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}
