/**
 * A {@link StoredEvent} held as its JSON: the event object is parsed on first use (and kept from
 * then on). A log keeps its events this way, one small object and one string each, instead of the
 * event objects the runner built: those die young rather than being copied by the garbage collector
 * and retained, since most subscribers only ever need the JSON.
 *
 * `toStoredEvent` builds one holding the event it serialised, so the object the runner appends is
 * the one the log keeps: {@link JsonEvent.kept} lets go of the event object as it is logged.
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

  /** @param event The object `json` is the serialisation of, when at hand (else parsed on first use). */
  constructor(seq: number, type: EventType, json: string, event?: AgentEvent) {
    this.seq = seq;
    this.type = type;
    this.json = json;
    this.#event = event;
  }

  get event(): AgentEvent {
    this.#event ??= JSON.parse(this.json) as AgentEvent;
    return this.#event;
  }

  /**
   * `stored` as a log keeps it: itself when it is a JsonEvent (its event object let go of, to be
   * parsed again if ever asked for), else a JsonEvent of its JSON.
   */
  static kept(stored: StoredEvent): JsonEvent {
    if (!(stored instanceof JsonEvent)) return new JsonEvent(stored.seq, stored.type, stored.json);
    stored.#event = undefined;
    return stored;
  }
}
