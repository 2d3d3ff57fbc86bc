/**
 * A signal that aborts when any of several does, for per-stream use. `AbortSignal.any` does the
 * same but registers weak references and a finaliser per call, which costs a busy gateway
 * measurably per connection; this uses plain listeners and removes them when the stream ends.
 *
 * @module
 */

/** The linked signal and the function that detaches it from its sources. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  dispose(): void;
}

/** Links `sources` (undefined entries are skipped) into one signal; call `dispose` when done. */
export function linkSignals(...sources: (AbortSignal | undefined)[]): LinkedSignal {
  const controller = new AbortController();
  const present = sources.filter((source): source is AbortSignal => source !== undefined);
  const aborted = present.find((source) => source.aborted);
  if (aborted) {
    controller.abort(aborted.reason);
    return { signal: controller.signal, dispose: () => {} };
  }
  const onAbort = function (this: AbortSignal) {
    dispose();
    controller.abort(this.reason);
  };
  const dispose = () => {
    for (const source of present) source.removeEventListener('abort', onAbort);
  };
  for (const source of present) source.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, dispose };
}
