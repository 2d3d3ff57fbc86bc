/**
 * Parsing of duration flags given in milliseconds (`--duration`, `--connect-timeout`, …).
 *
 * @module
 */
import { InvalidArgumentError } from 'commander';

/** A commander parser for `--<name> <ms>`: a positive whole number, else a usage error (exit 2). */
export function positiveMilliseconds(name: string): (value: string) => number {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed <= 0) throw new InvalidArgumentError(`--${name} must be a positive number of milliseconds.`);
    return parsed;
  };
}
