import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { joinHeartbeats } from './heartbeats.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('joinHeartbeats', () => {
  it('pings a quiet stream once per interval, and a stream that writes not at all', () => {
    const quiet: number[] = [];
    const busy: number[] = [];
    const start = Date.now();
    const quietBeat = joinHeartbeats(1000, () => quiet.push(Date.now() - start));
    const busyBeat = joinHeartbeats(1000, () => busy.push(Date.now() - start));
    for (let elapsed = 0; elapsed < 5000; elapsed += 100) {
      vi.advanceTimersByTime(100);
      busyBeat.wrote();
    }
    expect(busy).toEqual([]);
    expect(quiet).toHaveLength(5);
    // Each ping about an interval after the last write or ping, never early, at most a fifth late.
    quiet.forEach((at, index) => {
      expect(at).toBeGreaterThanOrEqual(index * 1000 + 900);
      expect(at).toBeLessThanOrEqual((index + 1) * 1000 + 200);
    });
    quietBeat.leave();
    busyBeat.leave();
  });

  it('pings an interval after the last write, and never after leave', () => {
    const pings: number[] = [];
    const start = Date.now();
    const beat = joinHeartbeats(500, () => pings.push(Date.now() - start));
    vi.advanceTimersByTime(300);
    beat.wrote();
    vi.advanceTimersByTime(450);
    expect(pings).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(pings).toHaveLength(1);
    expect(pings[0]).toBeGreaterThanOrEqual(750);
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
});
