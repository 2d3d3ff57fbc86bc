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
import { forEachBatch, type RunStore, type StoredEvent } from '../../store/store.js';
import type { StreamBody } from '../http-types.js';
import { type Heartbeat, joinHeartbeats } from './heartbeats.js';
import { linkSignals } from './linked-signal.js';
import type { StreamObserver } from '../operations/metrics.js';
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
  format?: StreamFormat;
  /** The format's name, for metrics. @defaultValue 'agentwire' */
  formatName?: string;
  /** Told what the stream does (metrics). */
  observer?: StreamObserver;
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
      const stopped = linkSignals(sink.signal, options.shutdownSignal);
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
        let pendingEvents = 0;
        /**
         * Writes a chunk (the `last` one ends the response too, where the sink can); false when the
         * client's buffer is now full.
         */
        const write = (chunk: string, last = false): boolean => {
          observer?.wrote(pendingEvents, chunk.length);
          pendingEvents = 0;
          if (!last || !sink.end) return sink.write(chunk);
          sink.end(chunk);
          return true;
        };
        /**
         * Waits for the client's buffer to drain, telling the run it is blocked meanwhile; past the
         * stall timeout the heartbeat clock drops the connection, which ends the wait.
         */
        const drained = async () => {
          observer?.waited();
          release?.blocked?.(true);
          heartbeat?.watchStall(options.stallTimeoutMs);
          await sink.ready();
          heartbeat?.watchStall(undefined);
          release?.blocked?.(false);
        };
        const signal = stopped.signal;
        /**
         * Frames one batch into writes cut at CHUNK_SIZE (so a slow client never holds more than
         * that in our buffers). Synchronous while the writes go through, which is every live
         * wake-up; a promise only when a write fills the client's buffer.
         */
        const onBatch = (batch: StoredEvent[]): Promise<void> | undefined => {
          let chunk = '';
          for (let index = 0; index < batch.length; index++) {
            const stored = batch[index] as StoredEvent;
            chunk += format.frame(stored);
            pendingEvents++;
            if (stored.type === 'run.snapshot') observer?.snapshot();
            if (chunk.length >= CHUNK_SIZE) {
              const full = !write(chunk);
              chunk = '';
              if (full) return drainedThen(batch.slice(index + 1));
            }
          }
          if (chunk === '') return undefined;
          // Nothing follows a terminal event: that write ends the response too.
          return write(chunk, isTerminalType((batch[batch.length - 1] as StoredEvent).type)) ? undefined : drained();
        };
        const drainedThen = async (rest: StoredEvent[]) => {
          await drained();
          if (rest.length > 0 && !signal.aborted) await onBatch(rest);
        };
        await forEachBatch(options.store.follow(options.runId, options.after, { signal }), onBatch, signal);
      } finally {
        stopped.dispose();
        heartbeat?.leave();
        release?.();
        observer?.closed(formatName);
      }
    },
  };
}
