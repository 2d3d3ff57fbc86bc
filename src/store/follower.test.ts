import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventBody } from '../protocol/events.js';
import { Follower, type FollowSource, type WakeListener } from './follower.js';
import { type StoredEvent, forEachBatch, toStoredEvent } from './store.js';
import { within } from '../../test/helpers/wait.js';

/** A log in an array, with wake-ups the test triggers by hand (as a store's flush would). */
function createLog() {
  const events: StoredEvent[] = [];
  let listeners: WakeListener[] = [];
  let ended = false;
  const source: FollowSource = {
    read: (cursor) => events.filter((stored) => stored.seq > cursor),
    ended: () => ended,
    listen: (listener) => {
      listeners.push(listener);
      return () => {
        listeners = listeners.filter((each) => each !== listener);
      };
    },
  };
  const append = (...bodies: EventBody[]) => {
    for (const body of bodies) events.push(toStoredEvent({ ...body, seq: events.length + 1, at: 1 } as Parameters<typeof toStoredEvent>[0]));
  };
  /** Calls every listener, like a store's flush after appends. */
  const wake = () => {
    for (const listener of listeners.slice()) listener.wake();
  };
  return {
    source,
    append,
    wake,
    end: () => {
      ended = true;
      wake();
    },
    get listening() {
      return listeners.length;
    },
    get size() {
      return events.length;
    },
  };
}

const seqs = (batches: StoredEvent[][]) => batches.map((batch) => batch.map((stored) => stored.seq));

describe('Follower.forEachBatch', () => {
  it('hands over what is there at once, then each wake-up’s batch synchronously, and resolves after the terminal event', async () => {
    const log = createLog();
    log.append({ type: 'text.delta', text: 'a' }, { type: 'text.delta', text: 'b' });
    const batches: StoredEvent[][] = [];
    const done = new Follower(log.source, 0).forEachBatch((batch) => {
      batches.push(batch);
      return undefined;
    });
    expect(seqs(batches)).toEqual([[1, 2]]);
    log.append({ type: 'text.delta', text: 'c' });
    log.wake();
    expect(seqs(batches)).toEqual([[1, 2], [3]]);
    log.append({ type: 'text.delta', text: 'd' }, { type: 'run.finished' });
    log.wake();
    await done;
    expect(seqs(batches)).toEqual([[1, 2], [3], [4, 5]]);
    expect(log.listening).toBe(0);
  });

  it('a handler that returns a promise holds the next batch back until it settles; that batch has everything since', async () => {
    const log = createLog();
    log.append({ type: 'text.delta', text: 'a' });
    const batches: StoredEvent[][] = [];
    let release: () => void = () => {};
    const done = new Follower(log.source, 0).forEachBatch((batch) => {
      batches.push(batch);
      if (batches.length > 1) return undefined;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    log.append({ type: 'text.delta', text: 'b' });
    log.wake();
    log.append({ type: 'text.delta', text: 'c' });
    log.wake();
    expect(seqs(batches)).toEqual([[1]]);
    release();
    await Promise.resolve();
    await Promise.resolve();
    expect(seqs(batches)).toEqual([[1], [2, 3]]);
    log.end();
    await done;
  });

  it('rejects with what the handler throws and stops listening', async () => {
    const log = createLog();
    log.append({ type: 'text.delta', text: 'a' });
    let calls = 0;
    const follower = new Follower(log.source, 0);
    const done = follower.forEachBatch(() => {
      calls++;
      if (calls === 2) throw new Error('socket gone');
      return undefined;
    });
    log.append({ type: 'text.delta', text: 'b' });
    log.wake();
    await expect(done).rejects.toThrow('socket gone');
    log.append({ type: 'text.delta', text: 'c' });
    log.wake();
    expect(calls).toBe(2);
    expect(log.listening).toBe(0);
  });

  it('resolves when its signal aborts while it waits, and when the source ends without a terminal event', async () => {
    const log = createLog();
    const controller = new AbortController();
    const aborted = new Follower(log.source, 0, controller.signal).forEachBatch(() => undefined);
    expect(log.listening).toBe(1);
    controller.abort();
    await aborted;
    expect(log.listening).toBe(0);
    const ended = new Follower(log.source, 0).forEachBatch(() => undefined);
    log.end();
    await ended;
  });
});

describe('forEachBatch', () => {
  it('iterates a follow that cannot push, awaiting the handler only when it returns a promise', async () => {
    async function* follow() {
      yield [toStoredEvent({ type: 'text.delta', text: 'a', seq: 1, at: 1 })];
      yield [toStoredEvent({ type: 'run.finished', seq: 2, at: 2 })];
    }
    const order: string[] = [];
    await forEachBatch(follow(), (batch) => {
      order.push(`batch ${batch[0]?.seq}`);
      if (batch[0]?.seq !== 1) return undefined;
      return Promise.resolve().then(() => {
        order.push('drained');
      });
    });
    expect(order).toEqual(['batch 1', 'drained', 'batch 2']);
  });
});

describe('Follower.forEachBatch, any interleaving (property)', () => {
  type Step = 'append' | 'appendTerminal' | 'wake' | 'hold' | 'consume' | 'abort' | 'end';
  const step = fc.constantFrom<Step>('append', 'append', 'wake', 'wake', 'hold', 'consume', 'consume', 'appendTerminal', 'abort', 'end');

  it('delivers each event once, in order, nothing after the terminal event or an abort, and settles', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3 }), fc.array(step, { maxLength: 40 }), async (after, steps) => {
        const log = createLog();
        for (let seq = 1; seq <= after; seq++) log.append({ type: 'text.delta', text: 'x' });
        const controller = new AbortController();
        const delivered: number[] = [];
        let holding = false;
        let release: (() => void) | undefined;
        let abortedAt: number | undefined;
        let ended = false;
        let terminal = false;
        let settled = false;
        const done = new Follower(log.source, after, controller.signal)
          .forEachBatch((batch) => {
            expect(abortedAt).toBeUndefined();
            for (const stored of batch) delivered.push(stored.seq);
            if (!holding) return undefined;
            return new Promise<void>((resolve) => (release = resolve));
          })
          .then(() => (settled = true));
        for (const each of steps) {
          if (each === 'append' && !terminal && !ended) log.append({ type: 'text.delta', text: 'x' });
          else if (each === 'appendTerminal' && !terminal && !ended) {
            log.append({ type: 'run.finished' });
            terminal = true;
          } else if (each === 'wake') log.wake();
          else if (each === 'hold') holding = true;
          else if (each === 'consume') {
            holding = false;
            const resolve = release;
            release = undefined;
            resolve?.();
            await Promise.resolve();
            await Promise.resolve();
          } else if (each === 'abort' && abortedAt === undefined) {
            controller.abort();
            abortedAt = delivered.length;
          } else if (each === 'end' && !ended) {
            ended = true;
            log.end();
          }
        }
        // Let go: the consumer takes what it holds, the log ends; the loop must settle.
        holding = false;
        release?.();
        if (!ended) log.end();
        await within(done, 2_000, 'the push loop');
        expect(settled).toBe(true);
        expect(delivered).toEqual(Array.from({ length: delivered.length }, (_, index) => after + 1 + index));
        if (abortedAt === undefined) expect(delivered.length).toBe(log.size - after);
        expect(log.listening).toBe(0);
      }),
      { numRuns: 2_000 },
    );
  });
});
