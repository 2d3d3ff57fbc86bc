/**
 * Timing for asymptotic checks: the best of a few runs of some work, the one least disturbed by
 * other work on a shared machine.
 */

/**
 * The fastest of up to five runs of `work`, in ms. A run slower than `enough` ends it there (so
 * work that is far too slow fails on its first run instead of running five times).
 */
export function bestTime(work: () => void, enough = Number.POSITIVE_INFINITY): number {
  let fastest = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    work();
    const took = performance.now() - started;
    fastest = Math.min(fastest, took);
    if (took > enough) break;
  }
  return fastest;
}
