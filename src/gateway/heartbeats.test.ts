import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { joinHeartbeats } from './heartbeats.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('joinHeartbeats', () => {
  it('pings each stream once per interval, counted from when it joined, never early and at most a fifth late', () => {
    const start = Date.now();
    const first: number[] = [];
    const second: number[] = [];
    const firstBeat = joinHeartbeats(1000, () => first.push(Date.now() - start));
    vi.advanceTimersByTime(400);
    const secondBeat = joinHeartbeats(1000, () => second.push(Date.now() - start));
    vi.advanceTimersByTime(4600);
    expect(first).toHaveLength(5);
    first.forEach((at, index) => {
      expect(at).toBeGreaterThanOrEqual((index + 1) * 1000 - 100);
      expect(at).toBeLessThanOrEqual((index + 1) * 1000 + 200);
    });
    expect(second).toHaveLength(4);
    second.forEach((at, index) => {
      expect(at).toBeGreaterThanOrEqual(400 + (index + 1) * 1000 - 100);
      expect(at).toBeLessThanOrEqual(400 + (index + 1) * 1000 + 200);
    });
    firstBeat.leave();
    secondBeat.leave();
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
    const lost = joinHeartbeats(50, () => {}); // its interval is a fake timer
    vi.useRealTimers();
    await new Promise((resolve) => setTimeout(resolve, 250));
    const pinged = new Promise<number>((resolve) => {
      const started = Date.now();
      const beat = joinHeartbeats(50, () => {
        beat.leave();
        resolve(Date.now() - started);
      });
    });
    const noPing = new Promise<number>((resolve) => setTimeout(() => resolve(Number.POSITIVE_INFINITY), 2000));
    expect(await Promise.race([pinged, noPing])).toBeLessThan(1000);
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
