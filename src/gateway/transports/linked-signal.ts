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

/** What waits on a shared signal: a {@link Link}, or a {@link whenAborted} callback. */
interface AbortWaiter {
  abortWith(reason: unknown): void;
}

/** The links waiting on each shared signal, behind that signal's one `abort` listener. */
const waiting = new WeakMap<AbortSignal, Set<AbortWaiter>>();

/** Marks `signal` as one that many streams link to (see the module comment). Idempotent. */
export function shareSignal(signal: AbortSignal): void {
  if (waiting.has(signal) || signal.aborted) return;
  const links = new Set<AbortWaiter>();
  waiting.set(signal, links);
  signal.addEventListener(
    'abort',
    () => {
      for (const link of [...links]) link.abortWith(signal.reason);
      links.clear();
    },
    { once: true },
  );
}

const NO_SOURCES: readonly AbortSignal[] = [];

/**
 * One linked signal: its own controller, and itself as the listener on each source (an
 * `EventListener` object), so a stream's link is one object, not a closure and a context per source.
 */
class Link implements LinkedSignal, EventListenerObject {
  readonly #controller = new AbortController();
  #sources: readonly (AbortSignal | undefined)[];

  constructor(sources: readonly (AbortSignal | undefined)[]) {
    this.#sources = sources;
    for (const source of sources) {
      if (source === undefined) continue;
      const shared = waiting.get(source);
      if (shared) shared.add(this);
      else source.addEventListener('abort', this, { once: true });
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** An unshared source aborted. */
  handleEvent(event: Event): void {
    this.abortWith((event.target as AbortSignal).reason);
  }

  /** Detaches from every source, then aborts with `reason`. */
  abortWith(reason: unknown): void {
    this.dispose();
    this.#controller.abort(reason);
  }

  dispose(): void {
    for (const source of this.#sources) {
      if (source === undefined) continue;
      const shared = waiting.get(source);
      if (shared) shared.delete(this);
      else source.removeEventListener('abort', this);
    }
    this.#sources = NO_SOURCES;
  }
}

const NOTHING_TO_DISPOSE = (): void => {};

/**
 * Calls `callback` once when `source` aborts, at once if it has; returns the function that cancels
 * it. For a stream that makes its own controller and stops it from several places.
 */
export function whenAborted(source: AbortSignal, callback: (reason: unknown) => void): () => void {
  if (source.aborted) {
    callback(source.reason);
    return NOTHING_TO_DISPOSE;
  }
  const shared = waiting.get(source);
  if (shared) {
    const waiter: AbortWaiter = { abortWith: callback };
    shared.add(waiter);
    return () => shared.delete(waiter);
  }
  const listener = () => callback(source.reason);
  source.addEventListener('abort', listener, { once: true });
  return () => source.removeEventListener('abort', listener);
}

/** Links `sources` (undefined entries are skipped) into one signal; call `dispose` when done. */
export function linkSignals(...sources: (AbortSignal | undefined)[]): LinkedSignal {
  for (const source of sources) {
    if (source?.aborted) {
      const controller = new AbortController();
      controller.abort(source.reason);
      return { signal: controller.signal, dispose: NOTHING_TO_DISPOSE };
    }
  }
  return new Link(sources);
}
