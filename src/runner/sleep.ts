/**
 * Sleeping: the public {@link sleep}, and `ctx.sleep`, one run's sleeps woken by its abort.
 *
 * @module
 */
import type { LiveRun } from './live-run.js';

/** Resolves after `milliseconds`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(milliseconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface Sleeping {
  timer: ReturnType<typeof setTimeout> | undefined;
  reject: (reason: unknown) => void;
}

/**
 * `ctx.sleep` for one run: the run's abort wakes its sleeps directly (no listener on its signal,
 * which then need not exist). An agent sleeps once at a time almost always: that sleep's settle
 * functions and timer are held in variables, with an executor and a timer callback made once per
 * run, so a paced agent's sleep costs its promise and its timer and nothing more; only sleeps
 * started while another is pending get an entry of their own, in a set.
 */
export function createSleeper(run: LiveRun): (milliseconds: number) => Promise<void> {
  let resolveOnly: (() => void) | undefined;
  let rejectOnly: ((reason: unknown) => void) | undefined;
  let onlyTimer: ReturnType<typeof setTimeout> | undefined;
  let more: Set<Sleeping> | undefined;
  const holdOnly = (resolve: () => void, reject: (reason: unknown) => void): void => {
    resolveOnly = resolve;
    rejectOnly = reject;
  };
  const wakeOnly = (): void => {
    const resolve = resolveOnly;
    resolveOnly = undefined;
    rejectOnly = undefined;
    onlyTimer = undefined;
    resolve?.();
  };
  run.wakeSleepers = () => {
    const reason = run.abortReason;
    if (rejectOnly !== undefined) {
      clearTimeout(onlyTimer);
      const reject = rejectOnly;
      resolveOnly = undefined;
      rejectOnly = undefined;
      onlyTimer = undefined;
      reject(reason);
    }
    const pending = more;
    more = undefined;
    for (const entry of pending ?? []) {
      clearTimeout(entry.timer);
      entry.reject(reason);
    }
  };
  return (milliseconds) => {
    if (run.aborted) return Promise.reject(run.abortReason);
    if (resolveOnly === undefined) {
      const sleeping = new Promise<void>(holdOnly);
      onlyTimer = setTimeout(wakeOnly, milliseconds);
      return sleeping;
    }
    return new Promise<void>((resolve, reject) => {
      const entry: Sleeping = { timer: undefined, reject };
      entry.timer = setTimeout(() => {
        more?.delete(entry);
        resolve();
      }, milliseconds);
      (more ??= new Set()).add(entry);
    });
  };
}
