import { afterEach, describe, expect, it, vi } from 'vitest';
import { setup, eventsOf, runToEnd, typesOf, expectWellFormed, only, last } from '../../test/helpers/runner-kit.js';
import { deferred, within } from '../../test/helpers/wait.js';

describe('Runner: cancel', () => {
  it('cancel while the agent sleeps aborts ctx.signal, finishes open steps with AW_RUN_CANCELLED, ends with run.cancelled and runs finally', async () => {
    const sleeping = deferred();
    const finallyRan = deferred<{ aborted: boolean; reason: unknown }>();
    const { store, runner } = setup({
      sleeper: async function* (ctx) {
        try {
          yield* ctx.step('Outer', async function* (outer) {
            yield* outer.step('Wait', async function* (wait) {
              yield wait.log('sleeping for a minute');
              sleeping.resolve();
              await ctx.sleep(60_000);
              yield wait.log('woke up');
            });
          });
          yield 'not reached';
        } finally {
          await Promise.resolve();
          finallyRan.resolve({ aborted: ctx.signal.aborted, reason: ctx.signal.reason });
        }
      },
    });
    const record = await runner.start({ input: null });
    await within(sleeping.promise, 5000, 'the agent to start sleeping');
    const started = performance.now();
    expect(await runner.cancel(record.id, 'because')).toBe(true);
    // Promptly: the runner does not wait for the 60 s sleep.
    expect(performance.now() - started).toBeLessThan(5000);

    const events = await eventsOf(store, record.id);
    expect(typesOf(events)).toEqual(['run.started', 'step.started', 'step.started', 'step.log', 'step.finished', 'step.finished', 'run.cancelled']);
    expectWellFormed(events);
    const [outer, wait] = only(events, 'step.started');
    expect(only(events, 'step.finished').map((event) => [event.stepId, event.status, event.error?.code])).toEqual([
      [wait?.stepId, 'error', 'AW_RUN_CANCELLED'],
      [outer?.stepId, 'error', 'AW_RUN_CANCELLED'],
    ]);
    expect(last(events)).toMatchObject({ type: 'run.cancelled', reason: 'because' });

    const seenInFinally = await within(finallyRan.promise, 2000, "the agent's finally");
    expect(seenInFinally.aborted).toBe(true);
    expect((seenInFinally.reason as Error).message).toBe('because');

    expect(await store.getRun(record.id)).toMatchObject({ status: 'cancelled' });
    expect(runner.liveRunCount).toBe(0);
    expect(await runner.cancel(record.id, 'again')).toBe(false);
    expect(typesOf(await eventsOf(store, record.id))).toHaveLength(events.length);
  });

  it('a cancel requested through the store (as another gateway would) cancels the run', async () => {
    const sleeping = deferred();
    const { store, runner } = setup({
      sleeper: async function* (ctx) {
        sleeping.resolve();
        await ctx.sleep(60_000);
      },
    });
    const record = await runner.start({ input: null });
    await within(sleeping.promise, 5000, 'the agent to start sleeping');
    expect(await store.requestCancel(record.id, 'from elsewhere')).toBe(true);
    await within(runner.whenEnded(record.id), 5000, 'the run to end');
    const events = await eventsOf(store, record.id);
    expect(typesOf(events)).toEqual(['run.started', 'run.cancelled']);
    expect(last(events)).toMatchObject({ reason: 'from elsewhere' });
  });

  it('cancel of an unknown or finished run resolves false', async () => {
    const { store, runner } = setup({
      quick: async function* () {
        yield 'done';
      },
    });
    expect(await runner.cancel('run_unknown', 'why')).toBe(false);
    const { record } = await runToEnd(store, runner);
    expect(await runner.cancel(record.id, 'too late')).toBe(false);
    expect(last(await eventsOf(store, record.id)).type).toBe('run.finished');
  });

  it('an agent that never yields again is still cancelled promptly, without waiting for it', async () => {
    const waiting = deferred();
    const { store, runner } = setup({
      stuck: async function* () {
        waiting.resolve();
        await new Promise(() => {}); // ignores the signal entirely
      },
    });
    const record = await runner.start({ input: null });
    await within(waiting.promise, 5000, 'the agent to block');
    expect(await within(runner.cancel(record.id, 'stop'), 5000, 'cancel to resolve')).toBe(true);
    expect(last(await eventsOf(store, record.id))).toMatchObject({ type: 'run.cancelled', reason: 'stop' });
  });

  it('shutdown cancels every live run and resolves once each has its terminal event', async () => {
    const finallies: ReturnType<typeof deferred<void>>[] = [];
    const sleeping: ReturnType<typeof deferred<void>>[] = [];
    const { store, runner } = setup({
      sleeper: async function* (ctx) {
        const finallyRan = deferred();
        const asleep = deferred();
        finallies.push(finallyRan);
        sleeping.push(asleep);
        try {
          yield* ctx.step('Waiting', async function* () {
            asleep.resolve();
            await ctx.sleep(60_000);
          });
        } finally {
          finallyRan.resolve();
        }
      },
    });
    const records = [];
    for (let index = 0; index < 3; index++) records.push(await runner.start({ input: index }));
    await within(Promise.all(sleeping.map((asleep) => asleep.promise)), 5000, 'every agent to sleep');
    expect(sleeping).toHaveLength(3);
    expect(runner.liveRunCount).toBe(3);

    await within(runner.shutdown(), 5000, 'shutdown');
    expect(runner.liveRunCount).toBe(0);
    for (const record of records) {
      const events = await eventsOf(store, record.id);
      expectWellFormed(events);
      expect(last(events)).toMatchObject({ type: 'run.cancelled', reason: 'the gateway is shutting down' });
      expect(only(events, 'step.finished')[0]?.error?.code).toBe('AW_RUN_CANCELLED');
    }
    await within(Promise.all(finallies.map((finallyRan) => finallyRan.promise)), 2000, "every agent's finally");
  });
});

describe('Runner: maxRunMs', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('fails a run that takes longer with AW_RUN_TIMEOUT, not before, and reports the timeout as its abort source', async () => {
    const ended: unknown[] = [];
    const { store, runner } = setup(
      {
        slow: async function* (ctx) {
          yield 'working';
          await ctx.sleep(60_000);
        },
      },
      { maxRunMs: 80, hooks: { onRunEnd: (run) => ended.push(run) } },
    );
    const started = performance.now();
    const record = await runner.start({ input: null });
    await within(runner.whenEnded(record.id), 5_000, 'the time limit to end the run');
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    const events = await eventsOf(store, record.id);
    expect(last(events)).toMatchObject({ type: 'run.failed', error: { code: 'AW_RUN_TIMEOUT', message: expect.stringMatching(/80 ms/) } });
    expect(ended).toMatchObject([{ outcome: 'failed', code: 'AW_RUN_TIMEOUT', abortSource: 'timeout' }]);
  });

  it('a run that ends in time is not failed later, and runs set no timer each (one clock for all)', async () => {
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const { store, runner } = setup({ quick: async function* () { yield 'done'; } }, { maxRunMs: 60_000 });
    const records = await Promise.all(Array.from({ length: 200 }, () => runner.start({ input: null })));
    await Promise.all(records.map((record) => within(runner.whenEnded(record.id), 5_000, 'the run to end')));
    expect(timers.mock.calls.filter(([, delay]) => delay === 60_000).length).toBeLessThanOrEqual(1);
    for (const record of records.slice(0, 3)) expect(last(await eventsOf(store, record.id))).toMatchObject({ type: 'run.finished' });
  });
});
