/**
 * Reads one SSE response body with eventsource-parser, with an idle watchdog.
 *
 * @module
 */
import { type EventSourceMessage, createParser } from 'eventsource-parser';

/** Thrown (as the read's failure) when no byte arrived for `idleTimeoutMs`. */
export class IdleTimeoutError extends Error {
  constructor(idleTimeoutMs: number) {
    super(`no data (not even a heartbeat) for ${idleTimeoutMs} ms`);
    this.name = 'IdleTimeoutError';
  }
}

/** Characters parsed per batch at most (the parser keeps a partial line across slices). */
const FEED_SLICE_CHARS = 16 * 1024;

/** What {@link readSse} reports besides messages. */
export interface ReadSseHandlers {
  /** A `retry:` field, in ms. */
  onRetry?: (ms: number) => void;
  /** Any bytes arrived (events, comments, `retry:`): the stream passes. */
  onBytes?: () => void;
}

/**
 * Yields the messages of an SSE body as they arrive, in batches (all the messages completed by one
 * network read: one async hop per read, not per message, which matters at thousands of events per
 * second); returns when the server ends the body, throws
 * when the connection fails or stays silent for `idleTimeoutMs` (the watchdog cancels the body).
 * The watchdog only runs while waiting for bytes, not while the consumer handles a message, so a
 * slow consumer is never mistaken for a dead server.
 */
export async function* readSse(body: ReadableStream<Uint8Array>, idleTimeoutMs: number, handlers: ReadSseHandlers = {}): AsyncGenerator<EventSourceMessage[]> {
  const pending: EventSourceMessage[] = [];
  const parser = createParser({
    onEvent: (message) => pending.push(message),
    onRetry: (ms) => handlers.onRetry?.(ms),
  });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let idle: IdleTimeoutError | undefined;
  try {
    for (;;) {
      const timer = setTimeout(() => {
        idle = new IdleTimeoutError(idleTimeoutMs);
        void reader.cancel(idle).catch(() => undefined);
      }, idleTimeoutMs);
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw idle ?? error;
      } finally {
        clearTimeout(timer);
      }
      if (idle) throw idle;
      if (chunk.done) {
        parser.feed(decoder.decode());
        if (pending.length > 0) yield pending.splice(0);
        return;
      }
      handlers.onBytes?.();
      const text = decoder.decode(chunk.value, { stream: true });
      // A large read (a backlog replayed at once) is handed on in slices, so a consumer that yields
      // to the event loop between batches is never stuck in one long task parsing it all.
      for (let start = 0; start < text.length; start += FEED_SLICE_CHARS) {
        parser.feed(start === 0 && text.length <= FEED_SLICE_CHARS ? text : text.slice(start, start + FEED_SLICE_CHARS));
        if (pending.length > 0) yield pending.splice(0);
      }
    }
  } finally {
    // Stopping early (a terminal event, the caller's break) must close the connection.
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
