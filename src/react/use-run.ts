/**
 * React hooks over `agentwire/client`'s run store: thin `useSyncExternalStore` wrappers.
 *
 * @module
 */
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { type ConnectOptions, type RunSnapshot, type RunStore, createRunStore } from '../client/index.js';
import { initialRunState } from '../protocol/run-state.js';

/** The snapshot before any store exists. */
const IDLE: RunSnapshot = Object.freeze({
  runId: undefined,
  state: initialRunState(),
  connection: { state: 'closed', reason: 'aborted' },
  error: undefined,
  answerDeltas: 0,
  eventCount: 0,
}) as RunSnapshot;

const noStore = {
  subscribe: () => () => undefined,
  getSnapshot: () => IDLE,
};

/** Subscribes a component to a {@link RunStore} (or to nothing, when `store` is undefined). */
export function useRunStore(store: RunStore | undefined): RunSnapshot {
  const source = store ?? noStore;
  return useSyncExternalStore(source.subscribe, source.getSnapshot, source.getSnapshot);
}

/** What {@link useRun} returns. */
export interface UseRunResult extends RunSnapshot {
  /** Asks the gateway to cancel the run. */
  cancel: (reason?: string) => Promise<'cancelled' | 'ended'>;
  /** The underlying store. */
  store: RunStore | undefined;
}

/**
 * Follows the run `runId` (replaying it from its log, then live) and re-renders at most once per
 * animation frame. Changing `runId` closes the old subscription; unmounting closes it too.
 *
 * @example
 * ```tsx
 * const run = useRun(runId);
 * return <RunView snapshot={run} onStop={run.cancel} />;
 * ```
 */
export function useRun(runId: string | undefined, options: ConnectOptions = {}): UseRunResult {
  const [store, setStore] = useState<RunStore | undefined>(undefined);
  // Options are read when the subscription opens; pass a new runId to reconnect with new ones.
  // biome-ignore lint/correctness/useExhaustiveDependencies: see above
  useEffect(() => {
    if (runId === undefined) return setStore(undefined);
    const created = createRunStore({ ...options, runId });
    setStore(created);
    return () => created.close();
  }, [runId]);
  const snapshot = useRunStore(store);
  const cancel = useCallback((reason?: string) => (store ? store.cancel(reason) : Promise.reject(new Error('no run'))), [store]);
  return { ...snapshot, cancel, store };
}

/** What {@link useStartRun} returns. */
export interface UseStartRunResult extends UseRunResult {
  /** Starts a run (streamed in the same request); a previous one is detached, not cancelled. */
  start: (input: unknown, agent?: string) => void;
}

/**
 * Starts runs and follows the latest: `start(input, agent)` posts it with `Accept:
 * text/event-stream` and streams it in the same response (never retried blindly; see `startRun`).
 */
export function useStartRun(options: ConnectOptions & { onRunId?: (runId: string) => void } = {}): UseStartRunResult {
  const [store, setStore] = useState<RunStore | undefined>(undefined);
  useEffect(() => () => store?.close(), [store]);
  const start = useCallback(
    (input: unknown, agent?: string) => {
      setStore(createRunStore({ ...options, start: agent === undefined ? { input } : { input, agent } }));
    },
    // biome-ignore lint/correctness/useExhaustiveDependencies: options are read at start time
    [],
  );
  const snapshot = useRunStore(store);
  const cancel = useCallback((reason?: string) => (store ? store.cancel(reason) : Promise.reject(new Error('no run'))), [store]);
  return { ...snapshot, cancel, store, start };
}
