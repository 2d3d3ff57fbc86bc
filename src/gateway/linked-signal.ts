/**
 * A signal that aborts when any of several does, for per-stream use. `AbortSignal.any` does the
 * same but registers weak references and a finaliser per call, which costs a busy gateway
 * measurably per connection. Plain `addEventListener` is no better on a signal every stream links
 * to (the gateway's shutdown signal): Node's `EventTarget` walks its whole listener list on every
 * add and remove, so 2,000 streams cost 2,000² steps. Each source here gets one real listener, and
 * the streams linked to it sit in a `Set`.
 *
 * @module
 */

/** The linked signal and the function that detaches it from its sources. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  dispose(): void;
}

/** The callbacks waiting on each source signal, behind that source's one `abort` listener. */
const waiting = new WeakMap<AbortSignal, Set<(reason: unknown) => void>>();

/** Calls `callback` once when `source` aborts; returns the function that cancels it. */
function onAbortOf(source: AbortSignal, callback: (reason: unknown) => void): () => void {
  let callbacks = waiting.get(source);
  if (!callbacks) {
    const created = new Set<(reason: unknown) => void>();
    callbacks = created;
    waiting.set(source, created);
    source.addEventListener(
      'abort',
      () => {
        waiting.delete(source);
        for (const each of [...created]) each(source.reason);
        created.clear();
      },
      { once: true },
    );
  }
  const registered = callbacks;
  registered.add(callback);
  return () => registered.delete(callback);
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
