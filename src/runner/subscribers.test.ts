import { describe, expect, it, vi } from 'vitest';
import type { AgentFunction } from '../producer/agent.js';
import type { EventOf } from '../protocol/events.js';
import { MemoryStore } from '../store/memory-store.js';
import type { RunStore } from '../store/store.js';
import { Runner } from './runner.js';
import { cleanups, setup, eventsOf, typesOf, only, last, thrownBy } from '../../test/helpers/runner-kit.js';
import { deferred, within } from '../../test/helpers/wait.js';

describe('Runner: disconnect policy', () => {
  /** An agent that yields a tick every 10 ms until it is cancelled. */
  const ticker: AgentFunction = async function* (ctx) {
    for (;;) {
      await ctx.sleep(10);
      yield ctx.status('tick');
    }
  };

  /** Resolves once the run has logged `count` ticks. */
  async function ticks(store: RunStore, runId: string, count: number): Promise<void> {
    let seen = 0;
    const controller = new AbortController();
    for await (const batch of store.follow(runId, 0, { signal: controller.signal })) {
      seen += batch.filter((stored) => stored.type === 'status').length;
      if (seen >= count) {
        controller.abort();
        return;
      }
    }
    throw new Error(`the run ended after ${seen} ticks, before ${count}`);
  }

  it('a run with no subscriber is cancelled after the grace period, not before', async () => {
    const { store, runner } = setup({ ticker }, { graceMs: 50, attachWindowMs: 0 });
    const started = performance.now();
    const record = await runner.start({ input: null });
    await within(runner.whenEnded(record.id), 5000, 'the grace period to cancel the run');
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(45);
    const events = await eventsOf(store, record.id);
    expect(last(events)).toMatchObject({ type: 'run.cancelled' });
    expect((last(events) as EventOf<'run.cancelled'>).reason).toMatch(/grace/);
  });

  it('a shared store that cannot tell whether another process has a subscriber: it waits another grace period rather than cancel the run', async () => {
    const { store, runner } = setup({ ticker }, { graceMs: 30, attachWindowMs: 0 });
    const asked: number[] = [];
    // The first answer fails (a dead Redis), the next says no subscriber anywhere.
    (store as RunStore).hasSubscribers = async () => {
      asked.push(performance.now());
      if (asked.length === 1) throw new Error('connection lost');
      return false;
    };
    const started = performance.now();
    const record = await runner.start({ input: null });
    await within(runner.whenEnded(record.id), 5000, 'the second grace period to cancel the run');
    expect(asked).toHaveLength(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect((last(await eventsOf(store, record.id)) as EventOf<'run.cancelled'>).reason).toMatch(/grace/);
  });

  it('a run with an attached subscriber keeps going past the grace period, and is cancelled a grace period after release', async () => {
    const { store, runner } = setup({ ticker }, { graceMs: 50 });
    const record = await runner.start({ input: null });
    const release = runner.attach(record.id);
    // 25 ticks of 10 ms: several grace periods with a subscriber attached.
    await within(ticks(store, record.id, 25), 10_000, '25 ticks');
    expect(await store.getRun(record.id)).toMatchObject({ status: 'running' });

    const released = performance.now();
    release();
    await within(runner.whenEnded(record.id), 5000, 'the run to be cancelled after release');
    expect(performance.now() - released).toBeGreaterThanOrEqual(45);
    const events = await eventsOf(store, record.id);
    expect(only(events, 'status').length).toBeGreaterThanOrEqual(25);
    expect((last(events) as EventOf<'run.cancelled'>).reason).toMatch(/grace/);
  });

  it('with graceMs 0 the producer is aborted as the last subscriber leaves, not a timer turn later', async () => {
    let aborted = false;
    const { runner } = setup(
      {
        spinner: async function* (ctx) {
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
          });
          for (;;) yield 'x';
        },
      },
      { graceMs: 0 },
    );
    const record = await runner.start({ input: null });
    const release = runner.attach(record.id);
    release();
    // Synchronously: a fast agent would otherwise yield a whole turn of events for nobody.
    expect(aborted).toBe(true);
    await within(runner.whenEnded(record.id), 5000, 'the run to be cancelled');
  });

  it('a run started with no subscriber waits for its first one the larger of graceMs and attachWindowMs (graceMs 0 too), then graceMs alone applies', async () => {
    const { store, runner } = setup({ ticker }, { graceMs: 0, attachWindowMs: 150 });
    // Never attached: cancelled once the attach window has passed, not before.
    const started = performance.now();
    const lonely = await runner.start({ input: null });
    await within(runner.whenEnded(lonely.id), 5000, 'the unattached run to be cancelled');
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    expect((last(await eventsOf(store, lonely.id)) as EventOf<'run.cancelled'>).reason).toMatch(/grace/);
    // Create, then subscribe a few turns later (a client's round trip): the run is there to follow.
    const record = await runner.start({ input: null });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const release = runner.attach(record.id);
    await within(ticks(store, record.id, 3), 5000, '3 ticks');
    expect(await store.getRun(record.id)).toMatchObject({ status: 'running' });
    // The subscriber leaves: graceMs 0 cancels at once, with no new window.
    release();
    await within(runner.whenEnded(record.id), 100, 'the cancel as the subscriber leaves');
  });

  it('a subscriber that leaves saying it returns (a long-poll between polls) gets the attach window, even with graceMs 0', async () => {
    const { store, runner } = setup({ ticker }, { graceMs: 0, attachWindowMs: 150 });
    const record = await runner.start({ input: null });
    runner.attach(record.id)(true);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const back = runner.attach(record.id); // the next poll
    await within(ticks(store, record.id, 3), 5000, '3 ticks');
    expect(await store.getRun(record.id)).toMatchObject({ status: 'running' });
    const leftAt = performance.now();
    back(true); // and none after it
    await within(runner.whenEnded(record.id), 5000, 'the cancel once the window has passed');
    expect(performance.now() - leftAt).toBeGreaterThanOrEqual(145);
  });

  it.each([[-1], [Number.NaN]])('attachWindowMs %s throws AW_INVALID_OPTION naming the option', (attachWindowMs) => {
    const store = new MemoryStore();
    cleanups.push(() => store.close());
    const error = thrownBy(() => new Runner({ store, agents: { a: async function* () {} }, attachWindowMs }));
    expect(error).toMatchObject({ code: 'AW_INVALID_OPTION' });
    expect((error as Error).message).toMatch(/attachWindowMs/);
  });

  it('a subscriber that reattaches within the grace period keeps the run alive', async () => {
    const { store, runner } = setup({ ticker }, { graceMs: 50 });
    const record = await runner.start({ input: null });
    const first = runner.attach(record.id);
    await within(ticks(store, record.id, 3), 5000, '3 ticks');
    first();
    const second = runner.attach(record.id); // a reconnect, well within 50 ms
    await within(ticks(store, record.id, 25), 10_000, '25 ticks');
    expect(await store.getRun(record.id)).toMatchObject({ status: 'running' });
    second();
    await within(runner.whenEnded(record.id), 5000, 'the run to be cancelled');
  });

  it('a subscriber leaving a run that has ended sets no grace timer (it would hold the run for the whole period)', async () => {
    const GRACE = 123_456;
    const { runner } = setup(
      {
        quick: async function* () {
          yield 'done';
        },
      },
      { graceMs: GRACE },
    );
    const record = await runner.start({ input: null });
    const release = runner.attach(record.id);
    await within(runner.whenEnded(record.id), 5000, 'the run to end');
    const timers = vi.spyOn(globalThis, 'setTimeout');
    try {
      release();
      expect(timers.mock.calls.filter(([, delay]) => delay === GRACE)).toHaveLength(0);
    } finally {
      timers.mockRestore();
    }
  });

  it('calling a release function twice does not drop another subscriber', async () => {
    const { store, runner } = setup({ ticker }, { graceMs: 50 });
    const record = await runner.start({ input: null });
    const first = runner.attach(record.id);
    const second = runner.attach(record.id);
    first();
    first();
    await within(ticks(store, record.id, 20), 10_000, '20 ticks');
    expect(await store.getRun(record.id)).toMatchObject({ status: 'running' });
    second();
    await within(runner.whenEnded(record.id), 5000, 'the run to be cancelled');
  });

  it("graceMs 'continue' never cancels a run for lack of subscribers", async () => {
    const { store, runner } = setup(
      {
        background: async function* (ctx) {
          await ctx.sleep(300);
          yield 'done in the background';
          return 'ok';
        },
      },
      { graceMs: 'continue' },
    );
    const record = await runner.start({ input: null });
    const events = await eventsOf(store, record.id);
    expect(typesOf(events)).toEqual(['run.started', 'text.delta', 'run.finished']);
    expect(last(events)).toMatchObject({ output: 'ok' });
  });
});

describe('Runner: the wait for subscribers costs no timer per run', () => {
  it('runs started with no subscriber schedule no immediate and no timer each, and are still cancelled when none comes', async () => {
    const immediates = vi.spyOn(globalThis, 'setImmediate');
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const { runner } = setup({ idle: async function* (ctx) { await ctx.sleep(60_000); } }, { graceMs: 0, attachWindowMs: 100 });
    let records;
    try {
      records = await Promise.all(Array.from({ length: 100 }, () => runner.start({ input: null })));
      expect(immediates.mock.calls.length).toBeLessThan(10);
      expect(timers.mock.calls.filter(([, delay]) => delay === 100).length).toBeLessThanOrEqual(1);
    } finally {
      immediates.mockRestore();
      timers.mockRestore();
    }
    const started = performance.now();
    await Promise.all(records.map((record) => within(runner.whenEnded(record.id), 5_000, 'the unwatched run to be cancelled')));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(runner.liveRunCount).toBe(0);
  });

  it('a subscriber that attaches in the same turn as the start takes the run out of the wait', async () => {
    const { store, runner } = setup(
      {
        ticker: async function* (ctx) {
          for (let index = 0; index < 12; index++) {
            await ctx.sleep(10);
            yield ctx.status('tick');
          }
        },
      },
      { graceMs: 0, attachWindowMs: 30 },
    );
    const record = await runner.start({ input: null });
    const release = runner.attach(record.id);
    const events = await eventsOf(store, record.id);
    release();
    expect(last(events)).toMatchObject({ type: 'run.finished' });
    expect(only(events, 'status')).toHaveLength(12);
  });
});

describe('Runner: backpressure', () => {
  /** An agent that yields as fast as it is asked, counting what it produced. */
  function counting() {
    const counter = { produced: 0, pulled: deferred() };
    const agent: AgentFunction = async function* () {
      for (;;) {
        counter.produced++;
        if (counter.produced === 100) counter.pulled.resolve();
        yield { type: 'data', name: 'n', value: counter.produced };
      }
    };
    return { counter, agent };
  }

  /** Resolves after a few turns of the event loop (time for a running agent to yield many events). */
  const turns = async (count: number) => {
    for (let index = 0; index < count; index++) await new Promise((resolve) => setImmediate(resolve));
  };

  it('pauses the agent while every subscriber is blocked, and resumes it when one drains', async () => {
    const { counter, agent } = counting();
    const { runner } = setup({ a: agent }, { graceMs: 1_000 });
    const record = await runner.start({ input: null });
    const first = runner.attach(record.id);
    const second = runner.attach(record.id);
    await counter.pulled.promise;
    first.blocked(true);
    await turns(5);
    expect(counter.produced).toBeGreaterThan(100); // one blocked subscriber of two: still running
    first.blocked(true); // idempotent
    second.blocked(true);
    await turns(3);
    const paused = counter.produced;
    await turns(20);
    expect(counter.produced).toBe(paused);
    second.blocked(false);
    await turns(5);
    expect(counter.produced).toBeGreaterThan(paused);
    second.blocked(true);
    await turns(3);
    const pausedAgain = counter.produced;
    second(); // the blocked subscriber leaves: the other one is still blocked
    await turns(10);
    expect(counter.produced).toBe(pausedAgain);
    first(); // nobody left: the grace period runs (no subscriber is blocked)
    await turns(5);
    expect(counter.produced).toBeGreaterThan(pausedAgain);
    await runner.cancel(record.id);
  });

  it('a cancel ends a paused run at once', async () => {
    const { counter, agent } = counting();
    const { store, runner } = setup({ a: agent }, { graceMs: 1_000 });
    const record = await runner.start({ input: null });
    const subscriber = runner.attach(record.id);
    await counter.pulled.promise;
    subscriber.blocked(true);
    await turns(3);
    await within(runner.cancel(record.id, 'stop'), 2_000, 'the cancel of a paused run');
    expect((await eventsOf(store, record.id)).at(-1)).toMatchObject({ type: 'run.cancelled', reason: 'stop' });
    subscriber();
  });

  it("never pauses a background run (graceMs: 'continue')", async () => {
    const { counter, agent } = counting();
    const { runner } = setup({ a: agent }, { graceMs: 'continue' });
    const record = await runner.start({ input: null });
    const subscriber = runner.attach(record.id);
    await counter.pulled.promise;
    subscriber.blocked(true);
    await turns(3);
    const at = counter.produced;
    await turns(5);
    expect(counter.produced).toBeGreaterThan(at);
    subscriber();
    await runner.cancel(record.id);
  });
});
