/**
 * The wire formats a run's event stream can be served in (`?format=`): agentwire's own SSE
 * framing, and AG-UI. Each turns stored events into SSE frames; AG-UI also needs the history
 * before the cursor to resume mid-run.
 *
 * @module
 */
import { AgUiEncoder, encodeAgUiFrames } from '../protocol/formats/ag-ui.js';
import { encodeSseFrame } from '../protocol/sse.js';
import { reduceAll } from '../reducer/reduce.js';
import type { RunStore, StoredEvent } from '../store/store.js';

/** How one stream writes its events. */
export interface StreamFormat {
  /** Frames sent before the first event (a resumed AG-UI stream's catch-up); may be empty. */
  readonly prelude: string;
  /** The frames of one stored event. */
  frame(stored: StoredEvent): string;
}

/** Makes the format of one stream of `runId` resuming after `after`. */
export type StreamFormatFactory = (context: { store: RunStore; runId: string; after: number }) => Promise<StreamFormat>;

/** agentwire's own framing: `id`, `event`, `data` per event. */
export const AGENTWIRE_FORMAT: StreamFormat = Object.freeze({
  prelude: '',
  frame: (stored: StoredEvent) => encodeSseFrame(stored.seq, stored.type, stored.json),
});

/** The formats served, by `?format=` name. */
export const STREAM_FORMATS: Readonly<Record<string, StreamFormatFactory>> = Object.freeze({
  agentwire: async () => AGENTWIRE_FORMAT,
  'ag-ui': async ({ store, runId, after }) => {
    const encoder = new AgUiEncoder(runId);
    let prelude = '';
    if (after > 0) {
      // Replay what the client already has through the encoder (output discarded) so open steps
      // and messages are known, then tell the client where things stand.
      const history = (await store.read(runId, 0)).filter((stored) => stored.seq <= after).map((stored) => stored.event);
      for (const event of history) encoder.encode(event);
      prelude = encodeAgUiFrames(encoder.resume(reduceAll(history)), after);
    }
    return { prelude, frame: (stored) => encodeAgUiFrames(encoder.encode(stored.event), stored.seq) };
  },
});
