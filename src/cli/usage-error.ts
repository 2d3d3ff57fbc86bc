/**
 * An error in how the command was called: reported on one line, exit code 2.
 *
 * @module
 */

/** A bad flag value or argument; the CLI prints the message and exits 2. */
export class UsageError extends Error {
  readonly usage = true;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
