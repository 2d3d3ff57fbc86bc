/**
 * Turns a Redis stream entry of the run log back into a {@link StoredEvent}.
 *
 * @module
 */
import type { AgentEvent } from '../protocol/events.js';
import type { StoredEvent } from '../store/store.js';

/** A `[id, [field, value, …]]` entry whose field `j` holds the event's JSON. */
export function parseEntry(entry: [string, string[]]): StoredEvent {
  const fields = entry[1];
  let json = '';
  for (let index = 0; index < fields.length; index += 2) {
    if (fields[index] === 'j') json = fields[index + 1] as string;
  }
  const event = JSON.parse(json) as AgentEvent;
  return { seq: event.seq, type: event.type, event, json };
}
