/**
 * Frame scheduling that survives hidden tabs: a frame requested just before a tab is hidden never
 * fires, so a timer backs every request.
 *
 * @module
 */

/** Options of {@link nextFrame}. */
export interface NextFrameOptions {
  /** How long to wait for the frame before running anyway, in ms. @defaultValue 100 */
  fallbackMs?: number;
  /** Delay used instead of a frame when the page is hidden or has no frames, in ms. @defaultValue 0 */
  hiddenMs?: number;
}

/**
 * Calls `callback` once: at the next animation frame, or after `fallbackMs` if no frame comes first
 * (hidden tabs get no frames at all); outside a visible page, after `hiddenMs`. Returns a cancel
 * function.
 */
export function nextFrame(callback: () => void, options: NextFrameOptions = {}): () => void {
  if (typeof requestAnimationFrame !== 'function' || typeof document === 'undefined' || document.visibilityState !== 'visible') {
    const timer = setTimeout(callback, options.hiddenMs ?? 0);
    return () => clearTimeout(timer);
  }
  let fired = false;
  const stop = () => {
    fired = true;
    cancelAnimationFrame(frame);
    clearTimeout(timer);
  };
  const run = () => {
    if (fired) return;
    stop();
    callback();
  };
  const frame = requestAnimationFrame(run);
  const timer = setTimeout(run, options.fallbackMs ?? 100);
  return stop;
}
