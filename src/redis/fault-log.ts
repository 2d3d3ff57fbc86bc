/**
 * The failures a Redis store handles by itself (it backs off and retries): each is told to the
 * store's fault listeners at every occurrence and once when it clears, so the gateway logs the
 * first of an episode with its context and counts them all, instead of retrying in silence. An
 * episode is per operation: a Redis refusing every write is one episode, not one per run.
 *
 * @module
 */
import type { StoreFault } from '../store/store.js';

/** Who hears of faults when no listener is attached: the first of each episode and its recovery, on stderr. */
function logToConsole(fault: StoreFault): void {
  if (fault.state === 'recovered') console.error(`[agentwire] redis: ${fault.operation} works again`);
  else if (fault.occurrence === 1) console.error(`[agentwire] redis: ${fault.message}`, fault.error ?? '');
}

/** The fault episodes of one store and their listeners. */
export class FaultLog {
  readonly #listeners = new Set<(fault: StoreFault) => void>();
  /** Failures so far in the open episode of each operation. */
  readonly #open = new Map<string, number>();

  /** Adds a listener (the console fallback then stays quiet); returns its removal. */
  listen(listener: (fault: StoreFault) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Records a failure of `operation`. */
  failed(operation: string, message: string, error?: unknown, runId?: string): void {
    const occurrence = (this.#open.get(operation) ?? 0) + 1;
    this.#open.set(operation, occurrence);
    this.#tell({ operation, state: 'failing', occurrence, message, ...(runId === undefined ? {} : { runId }), ...(error === undefined ? {} : { error }) });
  }

  /** Records a failure that is an episode of its own (a run's lost lease): told once, with no recovery to follow. */
  once(operation: string, message: string, runId?: string, error?: unknown): void {
    this.#tell({ operation, state: 'failing', occurrence: 1, message, ...(runId === undefined ? {} : { runId }), ...(error === undefined ? {} : { error }) });
  }

  /** Records that `operation` worked: closes its episode, if one is open. */
  succeeded(operation: string): void {
    const failures = this.#open.get(operation);
    if (failures === undefined) return;
    this.#open.delete(operation);
    this.#tell({ operation, state: 'recovered', occurrence: failures, message: `${operation} works again after ${failures} failure(s)` });
  }

  /** True while `operation` fails (its last attempt failed). */
  failing(operation: string): boolean {
    return this.#open.has(operation);
  }

  #tell(fault: StoreFault): void {
    if (this.#listeners.size === 0) return logToConsole(fault);
    for (const listener of [...this.#listeners]) {
      try {
        listener(fault);
      } catch {
        // A listener's failure must not become the store's.
      }
    }
  }
}

/**
 * The replies of a pipeline (`exec()`'s `[error, reply]` pairs), with each command's error told to
 * `faults` as one failure of `operation` (a pipeline does not reject when one of its commands
 * fails). A failed command's reply is `undefined`.
 */
export function checkReplies(results: [Error | null, unknown][] | null, faults: FaultLog, operation: string, what: string): unknown[] {
  const replies: unknown[] = [];
  let failure: Error | undefined;
  for (const [error, reply] of results ?? []) {
    if (error) failure ??= error;
    replies.push(error ? undefined : reply);
  }
  if (failure) faults.failed(operation, `a command failed while ${what}: ${failure.message}`, failure);
  else faults.succeeded(operation);
  return replies;
}

/** True for an error Redis answered (a refusal such as `WRONGTYPE` or `OOM`), as opposed to a lost connection. */
export function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}
