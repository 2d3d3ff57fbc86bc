/**
 * The wire formats a run's event stream can be served in (`?format=`): agentwire's own SSE
 * framing, AG-UI, and the AI SDK UI message stream. Each turns stored events into SSE frames; the
 * stateful ones resume mid-run from the state before the cursor, which the store keeps folded.
 *
 * @module
 */
import { isTerminalType } from '../../protocol/events.js';
import { AgUiEncoder } from '../../protocol/formats/ag-ui.js';
import { AI_SDK_DONE_FRAME, AI_SDK_STREAM_HEADERS, AiSdkEncoder } from '../../protocol/formats/ai-sdk.js';
import { encodeSseDataFrames, encodeSseFrame } from '../../protocol/sse.js';
import { reduceAll } from '../../reducer/reduce.js';
import type { RunState } from '../../protocol/run-state.js';
import type { RunStore, StoredEvent } from '../../store/store.js';
import { SharedFrames } from './shared-frames.js';

/** How one stream writes its events. */
export interface StreamFormat {
  /** Extra response headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Frames sent before the first event (a resumed AG-UI stream's catch-up); may be empty. */
  readonly prelude: string;
  /** The frames of one stored event. */
  frame(stored: StoredEvent): string;
  /**
   * A stateless format's frames of whole batches, as bytes shared by every subscriber of a run
   * (see `shared-frames.ts`); absent for a format whose frames depend on the stream's own state.
   */
  readonly shared?: SharedFrames;
}

/** Makes the format of one stream of `runId` resuming after `after`. */
export type StreamFormatFactory = (context: { store: RunStore; runId: string; after: number }) => Promise<StreamFormat>;

/** An agentwire SSE frame: `id`, `event`, `data`. */
const agentwireFrame = (stored: StoredEvent): string => encodeSseFrame(stored.seq, stored.type, stored.json);

/** agentwire's own framing: `id`, `event`, `data` per event; stateless, so its frames are shared. */
export const AGENTWIRE_FORMAT: StreamFormat = Object.freeze({
  prelude: '',
  frame: agentwireFrame,
  shared: new SharedFrames((batch) => {
    let frames = '';
    for (let index = 0; index < batch.length; index++) frames += agentwireFrame(batch[index] as StoredEvent);
    return frames;
  }),
});

/**
 * The state of everything a client resuming after `after` already has: from the store's folded
 * state when it keeps one (no read, or one checkpoint interval's), else folded from the log.
 * `undefined` when there is nothing before the cursor to resume from (`after` 0, or before the
 * retained events: the stream then starts with the snapshot that stands for them).
 */
async function resumeState(store: RunStore, runId: string, after: number): Promise<RunState | undefined> {
  if (after === 0) return undefined;
  if (store.state) return store.state(runId, after);
  const seen = (await store.read(runId, 0)).filter((stored) => stored.seq <= after);
  return seen.length === 0 ? undefined : reduceAll(seen.map((stored) => stored.event));
}

/** AG-UI: see `protocol/formats/ag-ui.ts` for the mapping. */
export const agUiFormat: StreamFormatFactory = async ({ store, runId, after }) => {
  const state = await resumeState(store, runId, after);
  // Tell a resuming client where things stand (the steps open, the state), then go on from there.
  const encoder = state ? AgUiEncoder.fromState(runId, state) : new AgUiEncoder(runId);
  const prelude = state ? encodeSseDataFrames(encoder.resume(state), after) : '';
  return { prelude, frame: (stored) => encodeSseDataFrames(encoder.encode(stored.event), stored.seq) };
};

/** The AI SDK UI message stream: see `protocol/formats/ai-sdk.ts` for the mapping. */
export const aiSdkFormat: StreamFormatFactory = async ({ store, runId, after }) => {
  const state = await resumeState(store, runId, after);
  const encoder = state ? AiSdkEncoder.fromState(runId, state) : new AiSdkEncoder(runId);
  return {
    headers: AI_SDK_STREAM_HEADERS,
    prelude: '',
    frame: (stored) => encodeSseDataFrames(encoder.encode(stored.event), stored.seq) + (isTerminalType(stored.type) ? AI_SDK_DONE_FRAME : ''),
  };
};

/**
 * The state `GET /api/runs/:id` serves: the store's folded state when it keeps one, else the fold
 * of the whole log.
 */
export async function runState(store: RunStore, runId: string): Promise<RunState> {
  const state = store.state ? await store.state(runId) : undefined;
  return state ?? reduceAll((await store.read(runId, 0)).map((stored) => stored.event));
}

/** The formats served, by `?format=` name. */
export const STREAM_FORMATS: Readonly<Record<string, StreamFormatFactory>> = Object.freeze({
  agentwire: async () => AGENTWIRE_FORMAT,
  'ag-ui': agUiFormat,
  'ai-sdk': aiSdkFormat,
});

/** Each format's extra response headers, for a `HEAD`, which must not build the format (nor read its history). */
export const STREAM_FORMAT_HEADERS: Readonly<Record<keyof typeof STREAM_FORMATS, Readonly<Record<string, string>>>> = Object.freeze({
  agentwire: {},
  'ag-ui': {},
  'ai-sdk': AI_SDK_STREAM_HEADERS,
});
