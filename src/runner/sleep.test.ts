import { afterEach, describe, expect, it, vi } from 'vitest';
import { setup } from '../../test/helpers/runner-kit.js';
import { deferred, within } from '../../test/helpers/wait.js';
import type { LiveRun } from './live-run.js';
import { createSleeper } from './sleep.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** What `createSleeper` reads of a run, for a run that is not driven. */
function idleRun(): LiveRun & { abortNow(): void } {
  const run = {
    aborted: false,
    abortReason: new DOMException('cancelled', 'AbortError'),
    wakeSleepers: undefined as (() => void) | undefined,
    abortNow() {
      run.aborted = true;
      run.wakeSleepers?.();
    },
  };
  return run as unknown as LiveRun & { abortNow(): void };
}

describe('ctx.sleep', () => {
  it('resolves one sleep after another, and sleeps that overlap, each after its own time', async () => {
    const order = deferred<string[]>();
    const { runner } = setup({
      a: async function* (ctx) {
        const seen: string[] = [];
        for (let index = 0; index < 3; index++) {
          await ctx.sleep(2);
          seen.push(`one ${index}`);
        }
        const long = ctx.sleep(40).then(() => seen.push('long'));
        const short = ctx.sleep(5).then(() => seen.push('short'));
        const middle = ctx.sleep(20).then(() => seen.push('middle'));
        await Promise.all([long, short, middle]);
        await ctx.sleep(1);
        seen.push('after');
        order.resolve(seen);
        yield 'done';
      },
    });
    await runner.start({ input: null });
    expect(await within(order.promise, 5_000, 'the sleeps to end')).toEqual(['one 0', 'one 1', 'one 2', 'short', 'middle', 'long', 'after']);
  });

  it('adds one abort listener per run however many sleeps are pending; a cancel rejects them all and any later sleep', async () => {
    const { EventEmitter } = await import('node:events');
    const getEventListeners = (target: EventTarget, type: string) => EventEmitter.getEventListeners(target, type);
    const counts = deferred<{ before: number; during: number }>();
    const rejected = deferred<{ pending: number; later: string }>();
    const { runner } = setup({
      a: async function* (ctx) {
        yield 'sleeping';
        const before = getEventListeners(ctx.signal, 'abort').length;
        const sleeps = Array.from({ length: 20 }, () => ctx.sleep(60_000));
        counts.resolve({ before, during: getEventListeners(ctx.signal, 'abort').length });
        const results = await Promise.allSettled(sleeps);
        const later = await ctx.sleep(10).then(
          () => 'resolved',
          () => 'rejected',
        );
        rejected.resolve({ pending: results.filter((result) => result.status === 'rejected').length, later });
      },
    });
    const record = await runner.start({ input: null });
    const { before, during } = await within(counts.promise, 2_000, 'the sleeps to start');
    expect(during - before).toBeLessThanOrEqual(1); // not one per sleep
    await runner.cancel(record.id);
    // Every pending sleep rejects, and a sleep after the cancel rejects at once.
    expect(await within(rejected.promise, 2_000, 'the pending sleeps to reject')).toEqual({ pending: 20, later: 'rejected' });
  });
});

describe('ctx.sleep timers', () => {
  it('shares one timer among the sleeps of many runs that end in the same millisecond, waking each in order, not early', async () => {
    const setTimer = vi.spyOn(globalThis, 'setTimeout');
    const runs = Array.from({ length: 200 }, idleRun);
    const woken: number[] = [];
    const startedAt = performance.now();
    const sleeps = runs.map((run, index) => createSleeper(run)(30).then(() => woken.push(index)));
    const begun = performance.now() - startedAt;
    await Promise.all(sleeps);
    // A timer per 16 sleeps that end in the same millisecond (and one more per millisecond the 200
    // took to begin, however loaded the machine), not one each.
    expect(setTimer.mock.calls.length).toBeGreaterThanOrEqual(13);
    expect(setTimer.mock.calls.length).toBeLessThanOrEqual(14 + Math.ceil(begun));
    expect(setTimer.mock.calls.length).toBeLessThan(200);
    expect(woken).toEqual(runs.map((_, index) => index));
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(29);
  });

  it('rejects an aborted run’s sleeps at once and wakes the others of their slot; a slot left empty stops its timer', async () => {
    const clearTimer = vi.spyOn(globalThis, 'clearTimeout');
    const [kept, aborted] = [idleRun(), idleRun()];
    const keptSleep = createSleeper(kept)(20);
    const abortedSleep = createSleeper(aborted);
    const outcomes = Promise.allSettled([abortedSleep(20), abortedSleep(20)]);
    aborted.abortNow();
    const settled = await outcomes;
    expect(settled.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(clearTimer).not.toHaveBeenCalled(); // the kept run's sleep still needs the slot's timer
    await expect(keptSleep).resolves.toBeUndefined();
    const lone = idleRun();
    const loneSleep = createSleeper(lone)(60_000);
    lone.abortNow();
    await expect(loneSleep).rejects.toThrow('cancelled');
    expect(clearTimer).toHaveBeenCalledTimes(1);
  });
});

describe('ctx.sleep timers and fake timers', () => {
  it('does not join a sleep begun after fake timers were removed to a slot a fake timer holds', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const faked = idleRun();
    const stuck = createSleeper(faked)(25);
    vi.useRealTimers();
    // Ends in the same millisecond as the fake one, most likely: it must still wake on the real clock.
    await within(createSleeper(idleRun())(25), 2_000, 'a real sleep to end');
    faked.abortNow();
    await expect(stuck).rejects.toThrow('cancelled');
  });
});
