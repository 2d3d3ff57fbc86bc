/**
 * `createRunStore()`: a run's reduced state, live, as a framework-free external store
 * (`subscribe` / `getSnapshot`, what React's `useSyncExternalStore` wants).
 *
 * @module
 */
import type { AgentEvent } from '../protocol/events.js';
import { isTerminalType } from '../protocol/events.js';
import { reduceAll } from '../reducer/reduce.js';
import { type RunState, initialRunState } from '../protocol/run-state.js';
import { cancelRun } from './cancel-run.js';
import { followRunBatches } from './follow-run.js';
import { nextFrame } from './next-frame.js';
import { startRunBatches } from './start-run.js';
import type { ConnectOptions, ConnectionStatus } from './types.js';

/** What a {@link RunStore} holds. A new object after every update, the same one in between. */
export interface RunSnapshot {
  /** The run id once known. */
  runId: string | undefined;
  /** The reduced state (see `agentwire/reducer`). */
  state: RunState;
  /** The connection, as reported by the client. */
  connection: ConnectionStatus;
  /** Why the store gave up, if it did (a {@link RunStreamError} usually). */
  error: unknown;
  /** Answer `text.delta` events received (a token estimate when the agent reports no usage). */
  answerDeltas: number;
  /** Events folded in since the store was created. */
  eventCount: number;
}

/** Schedules a flush; returns nothing. The default uses `requestAnimationFrame` in a visible page, a timer elsewhere. */
export type FlushScheduler = (flush: () => void) => void;

/** Options of {@link createRunStore}: which run, and how to connect. */
export type CreateRunStoreOptions = ConnectOptions & {
  /** Called with the run id as soon as it is known. */
  onRunId?: (runId: string) => void;
  /** How bursts of events are coalesced into one update. @defaultValue one update per animation frame */
  schedule?: FlushScheduler;
} & ({ runId: string; after?: number; start?: never } | { start: { agent?: string; input: unknown }; runId?: never });

/** A live run as an external store. */
export interface RunStore {
  /** Registers a listener called after each (coalesced) update; returns its removal. */
  subscribe(listener: () => void): () => void;
  /** The current snapshot (stable between updates). */
  getSnapshot(): RunSnapshot;
  /** Asks the gateway to cancel the run (works on a resumed subscription too). */
  cancel(reason?: string): Promise<'cancelled' | 'ended'>;
  /** Stops following the run (the run itself goes on). */
  close(): void;
  /** Settles when the stream has ended (terminal event, error or close). */
  readonly done: Promise<void>;
}

/**
 * One update per animation frame while the page is visible; a short timer otherwise (hidden tabs,
 * Node). A frame requested just before the tab was hidden never comes (browsers run no frames in
 * hidden tabs), so a timer backs every frame request: updates keep flowing in the background and
 * the answer is complete when the tab is shown again.
 */
export const defaultScheduler: FlushScheduler = (flush) => {
  nextFrame(flush, { hiddenMs: 16 });
};

/** Milliseconds of event handling before the store lets the event loop run (a frame, input). */
const SLICE_MS = 8;

const now = () => (typeof performance === 'undefined' ? Date.now() : performance.now());

/** Resolves in a new task (not a microtask): `scheduler.yield()` where it exists, else a message or a timer. */
function yieldToEventLoop(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (typeof scheduler?.yield === 'function') return scheduler.yield();
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Follows a run (or starts one) and folds its events with the reducer. Listeners are called at most
 * once per animation frame however fast events arrive (5,000 tokens/s → ~60 updates/s), and at
 * once on the terminal event and on connection changes, so the end of a run is never late.
 *
 * @example
 * ```ts
 * const store = createRunStore({ start: { agent: 'demo', input: 'Hi' } });
 * store.subscribe(() => render(store.getSnapshot().state));
 * ```
 */
export function createRunStore(options: CreateRunStoreOptions): RunStore {
  const controller = new AbortController();
  const listeners = new Set<() => void>();
  const schedule = options.schedule ?? defaultScheduler;
  let snapshot: RunSnapshot = {
    runId: options.runId,
    state: initialRunState(),
    connection: { state: 'connecting' },
    error: undefined,
    answerDeltas: 0,
    eventCount: 0,
  };
  let draft = snapshot;
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    if (draft === snapshot) return;
    snapshot = draft;
    for (const listener of [...listeners]) listener();
  };
  const update = (next: Partial<RunSnapshot>, immediate: boolean) => {
    draft = { ...draft, ...next };
    if (immediate) flush();
    else if (!scheduled) {
      scheduled = true;
      schedule(flush);
    }
  };

  const connect: ConnectOptions = {
    ...options,
    signal: options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal,
    onStatus: (connection) => {
      options.onStatus?.(connection);
      update({ connection }, true);
    },
  };
  const onRunId = (runId: string) => {
    update({ runId }, true);
    options.onRunId?.(runId);
  };
  // Batches (one per network read), so a burst costs one async hop and one draft update, not one per event.
  const batches: AsyncGenerator<AgentEvent[]> = options.start
    ? startRunBatches({ ...connect, ...options.start, onRunId })
    : followRunBatches({ runId: options.runId, after: options.after ?? 0 }, connect);

  const done = (async () => {
    try {
      // Batches arrive back to back in microtasks when a backlog is read; after a slice of work the
      // loop yields to the event loop so frames (and input) get their turn: no long task, whatever the backlog.
      // (After a wait for the network the check may yield needlessly: that costs one task hop.)
      let sliceStart = now();
      for await (const batch of batches) {
        if (now() - sliceStart > SLICE_MS) {
          await yieldToEventLoop();
          sliceStart = now();
        }
        let { answerDeltas } = draft;
        let urgent = false;
        for (const event of batch) {
          if (event.type === 'text.delta' && event.stepId === undefined) answerDeltas++;
          if (isTerminalType(event.type) || event.type === 'run.started') urgent = true;
        }
        // One fold per batch: a burst of tokens costs one state copy (see reduceAll).
        update({ state: reduceAll(batch, draft.state), answerDeltas, eventCount: draft.eventCount + batch.length }, urgent);
      }
    } catch (error) {
      update({ error }, true);
    } finally {
      flush();
    }
  })();

  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getSnapshot: () => snapshot,
    cancel(reason) {
      const runId = draft.runId;
      if (runId === undefined) return Promise.reject(new Error('the run id is not known yet'));
      const cancelOptions: Parameters<typeof cancelRun>[1] = {};
      if (options.baseUrl !== undefined) cancelOptions.baseUrl = options.baseUrl;
      if (options.headers !== undefined) cancelOptions.headers = options.headers;
      if (options.fetch !== undefined) cancelOptions.fetch = options.fetch;
      if (reason !== undefined) cancelOptions.reason = reason;
      return cancelRun(runId, cancelOptions);
    },
    close: () => controller.abort(),
    done,
  };
}
