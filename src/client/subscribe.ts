/**
 * `subscribe(runId)`: attach to a run's event stream, with automatic resume.
 *
 * @module
 */
import type { AgentEvent } from '../protocol/events.js';
import { followRun } from './follow-run.js';
import type { ConnectOptions } from './types.js';

/** Options of {@link subscribe}. */
export interface SubscribeOptions extends ConnectOptions {
  /** Start after this `seq` (events up to it are already known). @defaultValue 0 (from the start) */
  after?: number;
}

/**
 * Attaches to a run and yields its events, each exactly once and in `seq` order, until the
 * terminal event. Attaching is idempotent, so a dropped connection is retried automatically
 * (exponential backoff with full jitter, honouring the server's `retry:`), resuming with
 * `Last-Event-ID`; a silent connection (no byte for 2.5 heartbeats) is replaced. Ends without
 * error on the terminal event or a `204`; throws a {@link RunStreamError} on `404`.
 *
 * @example
 * ```ts
 * import { subscribe } from 'agentwire/client';
 * for await (const event of subscribe(runId, { onStatus: (s) => console.log(s.state) })) {
 *   if (event.type === 'text.delta' && !event.stepId) process.stdout.write(event.text);
 * }
 * ```
 */
export function subscribe(runId: string, options: SubscribeOptions = {}): AsyncGenerator<AgentEvent> {
  return followRun({ runId, after: options.after ?? 0 }, options);
}
