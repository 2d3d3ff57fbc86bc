import { afterEach, describe, expect, it, vi } from 'vitest';
import { currentTurn, turnPassed } from './loop-turns.js';

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe('loop turns', () => {
  it('stays the same within a task and its microtasks, and changes once the loop has gone round', async () => {
    const first = currentTurn();
    await Promise.resolve();
    expect(currentTurn()).toBe(first);
    await immediate();
    expect(currentTurn()).toBeGreaterThan(first);
  });

  it('heals when its scheduled immediate never ran (fake timers installed, then removed)', async () => {
    await immediate();
    vi.useFakeTimers();
    const stuck = currentTurn(); // schedules a fake immediate that never runs
    vi.useRealTimers();
    await immediate();
    expect(currentTurn()).toBe(stuck); // still stuck: nothing moved the count on
    turnPassed();
    const healed = currentTurn();
    expect(healed).toBeGreaterThan(stuck);
    await immediate();
    expect(currentTurn()).toBeGreaterThan(healed);
  });
});
