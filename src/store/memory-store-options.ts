/**
 * The options of the in-memory store, their defaults and their validation.
 *
 * @module
 */
import { AgentwireError } from '../protocol/errors.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Most events kept per run; older ones are evicted into a snapshot. @defaultValue 100000 */
  maxEventsPerRun?: number;
  /**
   * Most bytes of JSON kept per run, the `run.snapshot` of its evicted events included (counted in
   * UTF-16 units: about bytes for typical JSON): a replay from 0 sends at most this much. Beyond its
   * newest 256 events a run's log is packed into one string per batch, so this is about the memory
   * the log takes. The run's state (its snapshot) keeps at most an eighth of it of answer text, an
   * eighth of step log lines and step text, an eighth of steps, an eighth of tool calls and a
   * sixteenth of `data` values (sizes estimated as JSON), the newest: older text and lines are
   * dropped, then the oldest finished steps (with their children and calls), the oldest calls with a
   * result and the `data` names set least recently (open steps and running calls only when they
   * alone pass their share; the newest is always kept), all counted in the state's `truncated`.
   * When the state alone nears the bound (open steps that are parents of each other), the retained
   * events give way down to 1/16 of the bound (and the newest event is always kept), so then the
   * run goes past it by that much. @defaultValue 16777216 (16 MiB)
   */
  maxBytesPerRun?: number;
  /** How long a finished run stays readable, in ms. @defaultValue 600000 (10 min) */
  retentionMs?: number;
  /** Most runs kept in total; the oldest finished runs go first. @defaultValue 10000 */
  maxRuns?: number;
  /**
   * Most bytes all retained runs may take in all (each counted as in `maxBytesPerRun`), checked when
   * a run is created and at every append: past it the oldest finished runs are dropped first (a
   * run that ended stays readable while there is room); when running runs alone still take more,
   * the run whose append passed it is failed (a `run.failed` coded `AW_OVERLOADED`, its later
   * appends refused), and a new run is refused with `AW_OVERLOADED` (503).
   * @defaultValue 268435456 (256 MiB)
   */
  maxRetainedBytes?: number;
}

const DEFAULTS: Readonly<Required<MemoryStoreOptions>> = Object.freeze({
  maxEventsPerRun: 100_000,
  maxBytesPerRun: 16 * 1024 * 1024,
  retentionMs: 10 * 60 * 1000,
  maxRuns: 10_000,
  maxRetainedBytes: 256 * 1024 * 1024,
});

/** The options with their defaults filled in (an `undefined` option takes its default); throws `AW_INVALID_OPTION` on one that is not a positive number. */
export function resolveMemoryStoreOptions(options: MemoryStoreOptions): Required<MemoryStoreOptions> {
  const resolved = { ...DEFAULTS, ...stripUndefined(options) };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value < 1) {
      throw new AgentwireError('AW_INVALID_OPTION', `MemoryStore option ${name} must be a positive number, got ${value}`);
    }
  }
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
