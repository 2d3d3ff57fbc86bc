import { describe, expect, it } from 'vitest';
import { RunFollowers } from './run-followers.js';
import { WakeScheduler } from './wake-scheduler.js';

/** Resolves in the loop's next check phase (after every microtask queued before it). */
const checkPhase = () => new Promise<void>((resolve) => setImmediate(resolve));

function listened(log: string[], name: string): RunFollowers {
  const followers = new RunFollowers();
  followers.listen(() => log.push(name));
  return followers;
}

describe('WakeScheduler', () => {
  it("wakes a run's followers in a microtask at its first append in a turn, before the check phase", async () => {
    const scheduler = new WakeScheduler();
    const log: string[] = [];
    const followers = listened(log, 'woken');
    scheduler.wake(followers);
    expect(log).toEqual([]);
    await Promise.resolve();
    expect(log).toEqual(['woken']);
    await checkPhase();
    expect(log).toEqual(['woken']);
  });

  it('wakes once for appends made synchronously together', async () => {
    const scheduler = new WakeScheduler();
    const log: string[] = [];
    const followers = listened(log, 'woken');
    for (let index = 0; index < 1000; index++) scheduler.wake(followers);
    await checkPhase();
    expect(log).toEqual(['woken']);
  });

  it("batches a run's further appends of the same turn into one wake-up in the check phase, then wakes at once again the next turn", async () => {
    const scheduler = new WakeScheduler();
    const log: string[] = [];
    const followers = listened(log, 'woken');
    // A fast agent: one append after each await, 100 in one turn.
    for (let index = 0; index < 100; index++) {
      scheduler.wake(followers);
      await Promise.resolve();
    }
    expect(log).toEqual(['woken']);
    await checkPhase();
    expect(log).toEqual(['woken', 'woken']);
    // The next turn's first append wakes in a microtask again.
    scheduler.wake(followers);
    await Promise.resolve();
    expect(log).toEqual(['woken', 'woken', 'woken']);
  });

  it('wakes each run on its own: one run batched does not delay another run’s first append', async () => {
    const scheduler = new WakeScheduler();
    const log: string[] = [];
    const fast = listened(log, 'fast');
    const paced = listened(log, 'paced');
    scheduler.wake(fast);
    await Promise.resolve();
    scheduler.wake(fast);
    scheduler.wake(paced);
    await Promise.resolve();
    expect(log).toEqual(['fast', 'paced']);
    await checkPhase();
    expect(log).toEqual(['fast', 'paced', 'fast']);
  });

  it('does nothing for a run nobody follows', async () => {
    const scheduler = new WakeScheduler();
    const followers = new RunFollowers();
    scheduler.wake(followers);
    expect(followers.wakePending).toBe(false);
  });
});
