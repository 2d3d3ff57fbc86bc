/**
 * Long-polling, for networks where no stream passes: `GET /api/runs/:id/poll?after=N&wait=S`
 * answers at once when events after N exist, otherwise when the next ones arrive or after S
 * seconds (at most 30): `{ events, next, done }`. Call again with `after=next` until `done`.
 *
 * @module
 */
import { AgentwireError } from '../../protocol/errors.js';
import { isTerminalType } from '../../protocol/events.js';
import { parseCursor } from '../../protocol/validate.js';
import { linkSignals } from './linked-signal.js';
import type { Router } from '../router.js';
import { findOwnedRun, resumeCursor } from '../policy/run-lookup.js';
import type { RunStreamContext } from './stream-context.js';

/** Longest a poll waits, in seconds. */
export const MAX_POLL_WAIT_SECONDS = 30;

/** Registers the long-poll route. */
export function registerPollRoutes(router: Router, context: RunStreamContext): void {
  router.on(
    'GET',
    '/api/runs/:id/poll',
    async (request, params) => {
      const record = await findOwnedRun(context, params.id, request.principal);
      const after = resumeCursor(request);
      if (after > record.lastSeq) throw new AgentwireError('AW_BAD_CURSOR', `cursor ${after} is beyond the run's last event (${record.lastSeq})`);
      const wait = parseCursor(request.url.searchParams.get('wait'));
      if (wait === null) throw new AgentwireError('AW_BAD_REQUEST', `wait must be a whole number of seconds (0 to ${MAX_POLL_WAIT_SECONDS})`);
      const waitMs = Math.min(wait ?? 25, MAX_POLL_WAIT_SECONDS) * 1000;
      if (record.status !== 'running' && after >= record.lastSeq) {
        return { kind: 'json', status: 200, body: { events: [], next: record.lastSeq, done: true } };
      }
      const release = context.limits.acquire(request.principal, record.id);
      const detach = context.runner.attach(record.id);
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), waitMs);
      const linked = linkSignals(stop.signal, request.signal);
      const { signal } = linked;
      try {
        for await (const batch of context.store.follow(record.id, after, { signal })) {
          const last = batch[batch.length - 1];
          return {
            kind: 'json',
            status: 200,
            headers: { 'x-agentwire-run-id': record.id },
            body: { events: batch.map((stored) => stored.event), next: last?.seq ?? after, done: last !== undefined && isTerminalType(last.type) },
          };
        }
        // Nothing new within the wait (or the run ended with nothing after the cursor).
        const now = await context.store.getRun(record.id);
        return { kind: 'json', status: 200, body: { events: [], next: after, done: now !== undefined && now.status !== 'running' && after >= now.lastSeq } };
      } finally {
        clearTimeout(timer);
        linked.dispose();
        // A poller comes back for the next page within a round trip, unless it went away.
        detach(!request.signal.aborted);
        release();
      }
    },
    { streamToken: true },
  );
}
