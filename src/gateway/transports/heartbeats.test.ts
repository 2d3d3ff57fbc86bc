import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { joinHeartbeats } from './heartbeats.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('joinHeartbeats', () => {
  it('pings each stream once per interval from when it joined, on the clock tick nearest its due time (within a tenth of the interval)', () => {
    // Fake timers are the clock: the 1000 ms interval ticks exactly every 200 ms from the first join.
    const start = Date.now();
    const pings = { atTick: [] as number[], betweenTicksEarly: [] as number[], betweenTicksLate: [] as number[] };
    const beats = [joinHeartbeats(1000, () => pings.atTick.push(Date.now() - start))];
    vi.advanceTimersByTime(350);
    beats.push(joinHeartbeats(1000, () => pings.betweenTicksLate.push(Date.now() - start)));
    vi.advanceTimersByTime(100);
    beats.push(joinHeartbeats(1000, () => pings.betweenTicksEarly.push(Date.now() - start)));
    vi.advanceTimersByTime(5000 - 450);
    // Joined on a tick: pinged exactly every interval.
    expect(pings.atTick).toEqual([1000, 2000, 3000, 4000, 5000]);
    // Joined at 350 (due 1350): the tick at 1400, 50 ms late, then every interval from there.
    expect(pings.betweenTicksLate).toEqual([1400, 2400, 3400, 4400]);
    // Joined at 450 (due 1450): the tick at 1400, 50 ms early (half a tick of slack absorbs timer
    // jitter, so a ping is never a whole tick late), then every interval from there.
    expect(pings.betweenTicksEarly).toEqual([1400, 2400, 3400, 4400]);
    for (const beat of beats) beat.leave();
  });

  it('never pings a stream after it left', () => {
    const pings: number[] = [];
    const beat = joinHeartbeats(500, () => pings.push(Date.now()));
    vi.advanceTimersByTime(650);
    expect(pings).toHaveLength(1);
    beat.leave();
    vi.advanceTimersByTime(5000);
    expect(pings).toHaveLength(1);
  });

  it('shares one timer among the streams of an interval, and stops it once none is left', () => {
    const streams = Array.from({ length: 100 }, () => joinHeartbeats(2000, () => {}));
    expect(vi.getTimerCount()).toBe(1);
    for (const stream of streams) stream.leave();
    vi.advanceTimersByTime(400);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('starts a new timer when the clock lost its own (fake timers installed, then removed)', async () => {
    // The fake clock stands 10 s in the past, so once real timers are back the clock's last tick
    // is long ago, as it is for a timer lost with the fake timers; no waiting needed.
    vi.useFakeTimers({ now: Date.now() - 10_000 });
    const lost = joinHeartbeats(50, () => {}); // its interval is a fake timer, never to fire
    vi.useRealTimers();
    const started = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const pinged = await Promise.race([
      new Promise<number>((resolve) => {
        const beat = joinHeartbeats(50, () => {
          beat.leave();
          resolve(Date.now() - started);
        });
      }),
      new Promise<number>((resolve) => (timer = setTimeout(() => resolve(Number.POSITIVE_INFINITY), 2000))),
    ]);
    clearTimeout(timer);
    expect(pinged).toBeLessThan(1000);
    lost.leave();
  });

  it('calls onStall at the first tick past a watched stall, once, and never for a stall unwatched in time', () => {
    const stalls: number[] = [];
    const start = Date.now();
    // An interval no other test uses: its clock is this test's own.
    const beat = joinHeartbeats(1250, () => {}, () => stalls.push(Date.now() - start));
    beat.watchStall(500);
    vi.advanceTimersByTime(400);
    beat.watchStall(undefined); // the stream could write again
    beat.watchStall(700);
    vi.advanceTimersByTime(600);
    expect(stalls).toEqual([]);
    vi.advanceTimersByTime(3000);
    expect(stalls).toHaveLength(1);
    // Not before its deadline (400 + 700), and within a tick (a fifth of the interval) after it.
    expect(stalls[0]).toBeGreaterThanOrEqual(1100);
    expect(stalls[0]).toBeLessThanOrEqual(1100 + 250);
    beat.leave();
  });
});
