import { describe, expect, it } from 'vitest';
import { type Outlet, SocketStallClock, writeOrWait } from './backpressure.js';

/** An outlet that is full until `drain()` is called. */
function fullOutlet(): Outlet & { drain(): void; written: (string | Uint8Array)[] } {
  let drain = () => {};
  const written: (string | Uint8Array)[] = [];
  return {
    written,
    write: (chunk) => written.push(chunk) < 0,
    ready: () => new Promise<void>((resolve) => (drain = resolve)),
    drain: () => drain(),
  };
}

describe('writeOrWait', () => {
  it('writes and goes on synchronously while the outlet takes the chunk', () => {
    const told: string[] = [];
    const outlet: Outlet = { write: () => true, ready: async () => {} };
    expect(writeOrWait(outlet, 'a', { observer: { waited: () => told.push('waited') }, stallTimeoutMs: 10 })).toBeUndefined();
    expect(told).toEqual([]);
  });

  it('when full: counts the wait, tells the run it is blocked and watches the stall until the outlet drains', async () => {
    const told: string[] = [];
    const outlet = fullOutlet();
    const waiting = writeOrWait(outlet, 'frame', {
      observer: { waited: () => told.push('waited') },
      subscriber: { blocked: (full) => told.push(`blocked ${full}`) },
      stall: { watchStall: (ms) => told.push(`stall ${ms}`) },
      stallTimeoutMs: 250,
    });
    expect(outlet.written).toEqual(['frame']);
    expect(waiting).toBeInstanceOf(Promise);
    expect(told).toEqual(['waited', 'blocked true', 'stall 250']);
    outlet.drain();
    await waiting;
    expect(told).toEqual(['waited', 'blocked true', 'stall 250', 'stall undefined', 'blocked false']);
  });
});

describe('SocketStallClock', () => {
  it('stalls once a wait lasts the timeout, and starts again whenever one of several waits ends', () => {
    const clock = new SocketStallClock();
    const start = Date.now();
    expect(clock.stalled(start + 1_000_000)).toBe(false);
    clock.watchStall(100);
    clock.watchStall(100);
    const waiting = Date.now();
    expect(clock.stalled(start + 99)).toBe(false);
    expect(clock.stalled(waiting + 100)).toBe(true);
    const before = Date.now();
    clock.watchStall(undefined); // a frame reached the socket: it drains
    const after = Date.now();
    expect(clock.stalled(before + 99)).toBe(false);
    expect(clock.stalled(after + 100)).toBe(true);
    clock.watchStall(undefined);
    expect(clock.stalled(after + 1_000_000)).toBe(false);
  });
});
