import { describe, expect, it } from 'vitest';
import { RunFollowers } from './run-followers.js';
import { WakeScheduler } from './wake-scheduler.js';

/** Resolves in the loop's next check phase (after every microtask queued before it). */
const checkPhase = () => new Promise<void>((resolve) => setImmediate(resolve));

function listened(log: string[], name: string): RunFollowers {
  const followers = new RunFollowers();
  followers.listen({ wake: () => log.push(name) });
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

  it("batches a run's further appends of a turn into one wake-up in the check phase, and all its appends while it keeps bursting", async () => {
    const scheduler = new WakeScheduler();
    const log: string[] = [];
    const followers = listened(log, 'woken');
    /** A fast agent's turn: `count` appends, one after each await. */
    const burst = async (count: number) => {
      for (let index = 0; index < count; index++) {
        scheduler.wake(followers);
        await Promise.resolve();
      }
    };
    await burst(100);
    expect(log).toEqual(['woken']);
    await checkPhase();
    expect(log).toEqual(['woken', 'woken']);
    // Still bursting: the whole turn in one wake-up, in the check phase.
    await burst(100);
    expect(log).toEqual(['woken', 'woken']);
    await checkPhase();
    expect(log).toEqual(['woken', 'woken', 'woken']);
    // One append this turn: still batched (the run burst in its last turn), then paced again.
    await burst(1);
    expect(log).toHaveLength(3);
    await checkPhase();
    expect(log).toHaveLength(4);
    await burst(1);
    expect(log).toHaveLength(5);
    await checkPhase();
    expect(log).toHaveLength(5);
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
