/**
 * The stream limits' parts a WebSocket uses: a socket's slot (the gateway's and the principal's
 * count, no run) and a subscription's count on its run, each refused at its own limit, neither
 * double-released, and a shutdown that does not wait for a socket's slot.
 */
import { describe, expect, it } from 'vitest';
import { StreamLimits } from './stream-limits.js';

const limits = () => new StreamLimits({ maxStreams: 3, maxStreamsPerPrincipal: 2, maxSubscribersPerRun: 1 });

describe('StreamLimits', () => {
  it('counts slots against the principal and the gateway, subscribers against their run only', () => {
    const streams = limits();
    const release = streams.acquireSlot('alice');
    streams.acquireSlot('alice');
    expect(() => streams.acquireSlot('alice')).toThrow(/you have 2 open streams/);
    streams.acquireSlot('bob');
    expect(() => streams.acquireSlot('carol')).toThrow(/maximum of 3 streams/);
    expect(() => streams.acquireSlot(undefined)).toThrow(/maximum of 3 streams/);
    // A subscriber takes no stream slot, and each run has its own count.
    streams.acquireSubscriber('run-1');
    expect(() => streams.acquireSubscriber('run-1')).toThrow(/run run-1 has its maximum of 1 subscribers/);
    expect(() => streams.acquire('bob', 'run-1')).toThrow(/maximum of 3 streams/);
    expect(streams.open).toBe(3);
    release();
    release();
    expect(streams.open).toBe(2);
    expect(() => streams.acquireSlot('alice')).not.toThrow();
  });

  it('refuses a stream at any of its limits without taking the others', () => {
    const streams = limits();
    streams.acquireSubscriber('run-1');
    expect(() => streams.acquire('alice', 'run-1')).toThrow(/subscribers/);
    expect(streams.open).toBe(0);
  });

  it('settles at once while only slots are held, and waits for a subscriber of a run that does not stay', async () => {
    const streams = limits();
    streams.acquireSlot('alice');
    const started = Date.now();
    await streams.settled(async () => false, 5_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    const release = streams.acquireSubscriber('run-1');
    let settled = false;
    const settling = streams.settled(async () => false, 5_000).then(() => (settled = true));
    // Several turns of the event loop: time enough for settled to look and find the subscriber.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    release();
    await settling;
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
