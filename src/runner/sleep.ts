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
 * which then need not exist). An agent sleeps once at a time almost always: that sleep is held in
 * a variable, and only sleeps started while another is pending go into a set, so a paced agent
 * pays no set operation per event.
 */
export function createSleeper(run: LiveRun): (milliseconds: number) => Promise<void> {
  let only: Sleeping | undefined;
  let more: Set<Sleeping> | undefined;
  run.wakeSleepers = () => {
    const all = more ? [...more] : [];
    if (only) all.push(only);
    only = undefined;
    more = undefined;
    for (const entry of all) {
      clearTimeout(entry.timer);
      entry.reject(run.abortReason);
    }
  };
  return (milliseconds) =>
    new Promise<void>((resolve, reject) => {
      if (run.aborted) return reject(run.abortReason);
      const entry: Sleeping = { timer: undefined, reject };
      entry.timer = setTimeout(() => {
        if (only === entry) only = undefined;
        else more?.delete(entry);
        resolve();
      }, milliseconds);
      if (only === undefined) only = entry;
      else (more ??= new Set()).add(entry);
    });
}
