/**
 * Number and duration formatting for the run view, in tabular figures.
 *
 * @module
 */

/** `420 ms`, `1.2 s`, `2 min 05 s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
}

// One formatter, built once: `toLocaleString` builds a new one per call, which shows in profiles.
const COUNT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** `1,850` with thousands separators (en). */
export function formatCount(value: number): string {
  return COUNT.format(Math.round(value));
}

/** Pretty JSON for tool arguments and results; strings stay text. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}
