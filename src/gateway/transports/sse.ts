/**
 * The SSE stream of one run: `retry:` first, then every event after the cursor from the run log,
 * live, with a heartbeat comment every interval. Each write waits while the client's buffer is full
 * (so a client that stops reading costs bounded memory), the connection of a client that reads
 * nothing for the stall timeout is dropped (so it cannot hold its run paused), and the stream stops
 * as soon as the client goes away.
 *
 * @module
 */
import { isTerminalType } from '../../protocol/events.js';
import { SSE_HEARTBEAT, encodeSseRetry } from '../../protocol/sse.js';
import { type BatchHandler, forEachBatch, type RunStore, type StoredEvent } from '../../store/store.js';
import type { StreamBody, StreamSink } from '../http-types.js';
import { countSnapshots, type StreamObserver } from '../operations/metrics.js';
import { type DrainWatch, writeOrWait } from './backpressure.js';
import { type Heartbeat, joinHeartbeats } from './heartbeats.js';
import { whenAborted } from './linked-signal.js';
import { AGENTWIRE_FORMAT, type StreamFormat } from './stream-formats.js';

/** Response headers of every SSE stream. No `Connection` header: it is forbidden on HTTP/2. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
});

/** Largest chunk written at once, in UTF-16 code units (about bytes for typical JSON). */
const CHUNK_SIZE = 64 * 1024;

/** What {@link createSseStream} needs. */
export interface SseStreamOptions {
  store: RunStore;
  runId: string;
  /** Send events with `seq` greater than this. */
  after: number;
  heartbeatMs: number;
  /** Longest the stream waits for the client to read before it drops the connection, in ms. */
  stallTimeoutMs: number;
  retryMs: number;
  /** How events become frames. @defaultValue agentwire's own framing */
  format?: StreamFormat | undefined;
  /** The format's name, for metrics. @defaultValue 'agentwire' */
  formatName?: string;
  /** Told what the stream does (metrics). */
  observer?: StreamObserver | undefined;
  /** Ends the stream (without a terminal event, so the client reconnects) when it aborts. */
  shutdownSignal?: AbortSignal;
  /**
   * Called when the stream starts; returns the function called when it ends, which may have a
   * `blocked(full)` method told when the client's connection fills up and drains.
   */
  onSubscribe?: () => (() => void) & { blocked?(full: boolean): void };
}

/** A {@link StreamBody} that streams one run's events as SSE. */
export function createSseStream(options: SseStreamOptions): StreamBody {
  return {
    async pump(sink) {
      const release = options.onSubscribe?.();
      const { observer } = options;
      const formatName = options.formatName ?? 'agentwire';
      observer?.opened(formatName, options.after > 0);
      // One controller, for the follow: the client's close and the shutdown stop it.
      const stopped = new AbortController();
      const stop = () => stopped.abort();
      sink.onClose(stop);
      const leaveShutdown = options.shutdownSignal ? whenAborted(options.shutdownSignal, stop) : undefined;
      let heartbeat: Heartbeat | undefined;
      try {
        const format = options.format ?? AGENTWIRE_FORMAT;
        // The first write waits for the end of this turn of the loop: the headers, `retry:` and what
        // the run has by then (a start-and-stream request's run.started and the agent's first
        // events, its end too for a short run) leave in one write, not one write each.
        await new Promise<void>((resolve) => setImmediate(resolve));
        sink.write(encodeSseRetry(options.retryMs) + format.prelude);
        heartbeat = joinHeartbeats(
          options.heartbeatMs,
          () => sink.write(SSE_HEARTBEAT),
          () => {
            observer?.dropped('stalled');
            sink.destroy();
          },
        );
        const signal = stopped.signal;
        const onBatch = batchWriter(sink, format, options.runId, observer, signal, {
          observer,
          subscriber: release,
          stall: heartbeat,
          stallTimeoutMs: options.stallTimeoutMs,
        });
        await forEachBatch(options.store.follow(options.runId, options.after, { signal }), onBatch, signal);
      } finally {
        sink.onClose(undefined);
        leaveShutdown?.();
        heartbeat?.leave();
        release?.();
        observer?.closed(formatName);
      }
    },
  };
}

/**
 * What a stream does with each batch of its follow: writes it. Its own function, so
 * everything a live wake-up reads is in one closure context (a block inside `pump` would be a
 * second context to reach, and with thousands of streams each object touched per event is a likely
 * cache miss).
 */
function batchWriter(sink: StreamSink, format: StreamFormat, runId: string, observer: StreamObserver | undefined, signal: AbortSignal, watch: DrainWatch): BatchHandler {
  /** Writes a chunk of `events` events; the `last` one ends the response too, where the sink can. */
  const write = (chunk: string | Uint8Array, events: number, last: boolean): Promise<void> | undefined => {
    observer?.wrote(events, typeof chunk === 'string' ? chunk.length : chunk.byteLength);
    if (!last || !sink.end) return writeOrWait(sink, chunk, watch);
    sink.end(chunk);
    return undefined;
  };
  /**
   * Frames `batch` from `from` on in writes cut at CHUNK_SIZE (so a slow client never holds
   * more than that in our buffers), going on after a wait from where it stopped: the batch
   * is counted and offered to the shared frames once, by `onBatch`.
   */
  const writeFrames = (batch: StoredEvent[], from: number, ends: boolean): Promise<void> | undefined => {
    let chunk = '';
    let events = 0;
    for (let index = from; index < batch.length; index++) {
      chunk += format.frame(batch[index] as StoredEvent);
      events++;
      if (chunk.length >= CHUNK_SIZE && index < batch.length - 1) {
        const waiting = write(chunk, events, false);
        chunk = '';
        events = 0;
        if (waiting) return writeFramesAfter(waiting, batch, index + 1, ends);
      }
    }
    return write(chunk, events, ends);
  };
  const writeFramesAfter = async (waiting: Promise<void>, batch: StoredEvent[], from: number, ends: boolean) => {
    await waiting;
    if (!signal.aborted) await writeFrames(batch, from, ends);
  };
  /**
   * Writes one batch: the format's shared bytes when it has them, else its frames (see
   * `writeFrames`). Synchronous while the writes go through, which is every live wake-up; a
   * promise only when a write fills the client's buffer. Nothing follows a terminal event:
   * the write of the batch that ends with one ends the response too.
   */
  return (batch) => {
    if (observer) countSnapshots(batch, observer);
    const ends = isTerminalType((batch[batch.length - 1] as StoredEvent).type);
    const shared = format.shared?.frames(batch, runId);
    if (shared !== undefined) return write(shared, batch.length, ends);
    return writeFrames(batch, 0, ends);
  };
}
