import { afterEach, describe, expect, it, vi } from 'vitest';
import { deferred, within } from '../../test/helpers/wait.js';
import { Deadlines } from './deadlines.js';

describe('Deadlines', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('calls each entry back once, in the order added, no earlier than its delay', async () => {
    const due: { entry: string; after: number }[] = [];
    const allDue = deferred();
    const start = performance.now();
    const deadlines = new Deadlines<string>(30, (entry) => {
      due.push({ entry, after: performance.now() - start });
      if (due.length === 3) allDue.resolve();
    });
    deadlines.add('a');
    deadlines.add('b');
    await new Promise((resolve) => setTimeout(resolve, 10));
    deadlines.add('c');
    await within(allDue.promise, 2_000, 'three deadlines');
    expect(due.map(({ entry }) => entry)).toEqual(['a', 'b', 'c']);
    for (const { after } of due.slice(0, 2)) expect(after).toBeGreaterThanOrEqual(29);
    expect(due[2]?.after).toBeGreaterThanOrEqual(39);
  });

  it('forgets a deleted entry, and moves one added again to the back with a new deadline', async () => {
    const due: string[] = [];
    const done = deferred();
    const deadlines = new Deadlines<string>(20, (entry) => {
      due.push(entry);
      if (entry === 'c') done.resolve();
    });
    deadlines.add('a');
    deadlines.add('b');
    deadlines.add('c');
    deadlines.delete('b');
    deadlines.add('a');
    expect(deadlines.has('b')).toBe(false);
    expect(deadlines.has('a')).toBe(true);
    await within(done.promise, 2_000, 'the deadlines');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(due).toEqual(['c', 'a']);
    expect(deadlines.has('a')).toBe(false);
  });

  it('keeps one timer for any number of entries', () => {
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const deadlines = new Deadlines<number>(60_000, () => {});
    for (let entry = 0; entry < 1_000; entry++) deadlines.add(entry);
    for (let entry = 0; entry < 1_000; entry++) deadlines.delete(entry);
    for (let entry = 0; entry < 1_000; entry++) deadlines.add(entry);
    expect(timers).toHaveBeenCalledTimes(1);
  });

  it('an entry added again from its own callback comes due again, a delay later (a grace period armed again)', async () => {
    const seen: number[] = [];
    const twice = deferred();
    const start = performance.now();
    const deadlines = new Deadlines<string>(15, (entry) => {
      seen.push(performance.now() - start);
      if (seen.length === 1) deadlines.add(entry);
      else twice.resolve();
    });
    deadlines.add('run');
    await within(twice.promise, 2_000, 'the second deadline');
    expect(seen[1]).toBeGreaterThanOrEqual(29);
  });
});

describe('Deadlines and a lost timer', () => {
  it('replaces a timer that never fired (fake timers installed, then removed) when an entry is added', async () => {
    const due: string[] = [];
    const fired = deferred();
    const deadlines = new Deadlines<string>(20, (entry) => {
      due.push(entry);
      if (entry === 'after') fired.resolve();
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      deadlines.add('during'); // its timer is a fake one, never run
    } finally {
      vi.useRealTimers();
    }
    // Real time moves on past the lost timer's due time, then another run starts to wait.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    deadlines.add('after');
    await within(fired.promise, 2_000, 'the deadline after the fake timers');
    expect(due).toEqual(['during', 'after']);
  });
});
