import { describe, expect, it } from 'vitest';
import { setup } from '../../test/helpers/runner-kit.js';
import { deferred, within } from '../../test/helpers/wait.js';

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
