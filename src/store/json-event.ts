/**
 * A {@link StoredEvent} held as its JSON: the event object is parsed on first use (and kept from
 * then on). A log keeps its events this way, one small object and one string each, instead of the
 * event objects the runner built: those die young rather than being copied by the garbage collector
 * and retained, since most subscribers only ever need the JSON.
 *
 * @module
 */
import type { AgentEvent, EventType } from '../protocol/events.js';
import type { StoredEvent } from './store.js';

/** A stored event whose object is parsed from its JSON when first asked for. */
export class JsonEvent implements StoredEvent {
  readonly seq: number;
  readonly type: EventType;
  readonly json: string;
  #event: AgentEvent | undefined;

  constructor(seq: number, type: EventType, json: string) {
    this.seq = seq;
    this.type = type;
    this.json = json;
  }

  get event(): AgentEvent {
    this.#event ??= JSON.parse(this.json) as AgentEvent;
    return this.#event;
  }
}
