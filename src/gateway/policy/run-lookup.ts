/**
 * Finding the run a request names, as its caller may see it, and the resume cursor it asks for.
 *
 * @module
 */
import { AgentwireError } from '../../protocol/errors.js';
import { parseCursor } from '../../protocol/validate.js';
import type { RunRecord, RunStore } from '../../store/store.js';
import type { GatewayRequest } from '../http-types.js';

/**
 * The run `id`, if it exists and belongs to `principal` (when auth is on); another principal's run
 * is "not found", so its existence does not leak. Throws `AW_RUN_NOT_FOUND`.
 */
export async function findOwnedRun(context: { store: RunStore; authEnabled: boolean }, id: string | undefined, principal: string | undefined): Promise<RunRecord> {
  const record = id === undefined ? undefined : await context.store.getRun(id);
  if (!record || (context.authEnabled && record.owner !== principal)) {
    throw new AgentwireError('AW_RUN_NOT_FOUND', `no run with id "${id}" (it may have expired)`);
  }
  return record;
}

/**
 * The resume cursor: the `Last-Event-ID` header (sent by `EventSource` on reconnect, so it wins over
 * the URL's), else `?after=`, else `?lastEventId=`; 0 when none. Malformed: `AW_BAD_CURSOR`.
 */
export function resumeCursor(request: GatewayRequest): number {
  // Most streams start at 0 with no query: the URL's search parameters are not made for them.
  const query = request.url.search === '' ? undefined : request.url.searchParams;
  return (
    cursorFrom('the Last-Event-ID header', request.header('last-event-id')) ??
    cursorFrom('?after', query?.get('after')) ??
    cursorFrom('?lastEventId', query?.get('lastEventId')) ??
    0
  );
}

/** The cursor in `raw` (`undefined` when absent or empty); `AW_BAD_CURSOR` when malformed. */
function cursorFrom(name: string, raw: string | null | undefined): number | undefined {
  const cursor = parseCursor(raw);
  if (cursor === null) throw new AgentwireError('AW_BAD_CURSOR', `${name} must be a non-negative integer (an event's seq), got ${JSON.stringify(raw && raw.length > 40 ? `${raw.slice(0, 40)}…` : raw)}`);
  return cursor;
}
