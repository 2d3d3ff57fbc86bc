/**
 * A signal that aborts when any of several does, for per-stream use. `AbortSignal.any` does the
 * same but registers weak references and a finaliser per call, a cost per connection. Plain
 * `addEventListener` is no better on a signal every stream links to (the gateway's shutdown
 * signal): Node's `EventTarget` walks its whole listener list on every add and remove, quadratic in
 * the streams open. A signal marked {@link shareSignal} gets one
 * real listener, with the streams linked to it in a `Set`; any other (a request's own) gets a plain
 * listener, which costs less than an entry in a weak map per request.
 *
 * @module
 */

/** The linked signal and the function that detaches it from its sources. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  dispose(): void;
}

/** The callbacks waiting on each shared signal, behind that signal's one `abort` listener. */
const waiting = new WeakMap<AbortSignal, Set<(reason: unknown) => void>>();

/** Marks `signal` as one that many streams link to (see the module comment). Idempotent. */
export function shareSignal(signal: AbortSignal): void {
  if (waiting.has(signal) || signal.aborted) return;
  const callbacks = new Set<(reason: unknown) => void>();
  waiting.set(signal, callbacks);
  signal.addEventListener(
    'abort',
    () => {
      for (const each of [...callbacks]) each(signal.reason);
      callbacks.clear();
    },
    { once: true },
  );
}

/** Calls `callback` once when `source` aborts; returns the function that cancels it. */
function onAbortOf(source: AbortSignal, callback: (reason: unknown) => void): () => void {
  const shared = waiting.get(source);
  if (shared) {
    shared.add(callback);
    return () => shared.delete(callback);
  }
  const listener = () => callback(source.reason);
  source.addEventListener('abort', listener, { once: true });
  return () => source.removeEventListener('abort', listener);
}

/**
 * Calls `callback` once when `source` aborts, at once if it has; returns the function that cancels
 * it. For a stream that makes its own controller and stops it from several places.
 */
export function whenAborted(source: AbortSignal, callback: (reason: unknown) => void): () => void {
  if (!source.aborted) return onAbortOf(source, callback);
  callback(source.reason);
  return () => {};
}

/** Links `sources` (undefined entries are skipped) into one signal; call `dispose` when done. */
export function linkSignals(...sources: (AbortSignal | undefined)[]): LinkedSignal {
  const controller = new AbortController();
  for (const source of sources) {
    if (source?.aborted) {
      controller.abort(source.reason);
      return { signal: controller.signal, dispose: () => {} };
    }
  }
  const cancels: (() => void)[] = [];
  const dispose = () => {
    for (const cancel of cancels) cancel();
    cancels.length = 0;
  };
  const onAbort = (reason: unknown) => {
    dispose();
    controller.abort(reason);
  };
  for (const source of sources) if (source) cancels.push(onAbortOf(source, onAbort));
  return { signal: controller.signal, dispose };
}
