import { describe, expect, it, vi } from 'vitest';
import type { AgentFunction } from '../producer/agent.js';
import { MemoryStore } from '../store/memory-store.js';
import type { RunStore } from '../store/store.js';
import { Runner, type RunnerOptions } from './runner.js';
import { cleanups, eventsOf, typesOf, expectWellFormed, only, last } from '../../test/helpers/runner-kit.js';
import { deferred, within } from '../../test/helpers/wait.js';

describe('a run log that fails', () => {
  /**
   * A memory store whose appends throw once `failAt` events have been stored: `failures` appends
   * fail (all of them by default), the later ones go through.
   */
  function failingStore(failAt: number, failures = Number.POSITIVE_INFINITY): MemoryStore {
    const store = new MemoryStore();
    let stored = 0;
    let failed = 0;
    const append = store.append.bind(store);
    const openAppender = store.openAppender.bind(store);
    /** Throws once `failAt` events are stored, `failures` times. */
    const admit = (count: number): void => {
      if (stored + count > failAt && failed < failures) {
        failed++;
        throw new Error('disk full');
      }
      stored += count;
    };
    // Both ways to append (the runner uses a run's appender when a store has one).
    store.append = async (runId, events) => {
      admit(events.length);
      await append(runId, events);
    };
    store.openAppender = (runId) => {
      const appendOne = openAppender(runId);
      return (event) => {
        admit(1);
        appendOne(event);
      };
    };
    cleanups.push(() => store.close());
    return store;
  }

  /**
   * A runner of agent `a` over `store`, and the `console.error` it logs each refusal to (muted for
   * the test).
   */
  function runnerOver(store: RunStore, agent: AgentFunction, options: Partial<Omit<RunnerOptions, 'store' | 'agents'>> = {}) {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    cleanups.push(async () => errors.mockRestore());
    const runner = new Runner({ store, graceMs: 'continue', onAgentError: () => {}, agents: { a: agent }, ...options });
    cleanups.push(() => runner.shutdown('test cleanup'));
    return { runner, errors };
  }

  /** Every event of the run through a follow that must end (a hang fails the test). */
  const followToEnd = (store: RunStore, runId: string) => within(eventsOf(store, runId), 5_000, `the follow of ${runId} to end`);

  it('rejects start when the first event cannot be stored, and leaves nothing for shutdown to wait on', async () => {
    const store = failingStore(0);
    const { runner } = runnerOver(store, async function* () {
      yield 'x';
    });
    await expect(runner.start({ input: null })).rejects.toThrow('disk full');
    expect(runner.liveRunCount).toBe(0);
    await within(runner.shutdown(), 2_000, 'shutdown');
    // Its record was created, then marked ended: nothing lists it as running, a follower ends.
    const [record] = await store.listRuns();
    expect(record).toMatchObject({ status: 'failed', lastSeq: 0 });
    expect(await followToEnd(store, (record as { id: string }).id)).toEqual([]);
  });

  it('when the first event fails once, the run is logged as started then failed with AW_STORE_ERROR', async () => {
    const store = failingStore(0, 1);
    const { runner } = runnerOver(store, async function* () {
      yield 'x';
    });
    await expect(runner.start({ input: 'hi' })).rejects.toThrow('disk full');
    const [record] = await store.listRuns();
    const events = await followToEnd(store, (record as { id: string }).id);
    expect(typesOf(events)).toEqual(['run.started', 'run.failed']);
    expect(events[0]).toMatchObject({ seq: 1, input: 'hi' });
    expect(last(events)).toMatchObject({ seq: 2, error: { code: 'AW_STORE_ERROR' } });
  });

  it('a log that refuses one event mid-run ends the run with run.failed AW_STORE_ERROR, its open steps closed, and its end reported', async () => {
    const store = failingStore(4, 1);
    const agentErrors: unknown[] = [];
    const ends: { code: string | undefined; outcome: string }[] = [];
    const { runner, errors } = runnerOver(
      store,
      async function* (ctx) {
        yield { type: 'step.started', stepId: 'open', title: 'Open' } as const;
        for (;;) {
          yield 'x';
          await ctx.sleep(1);
        }
      },
      { onAgentError: (error) => agentErrors.push(error), hooks: { onRunEnd: (run) => ends.push({ code: run.code, outcome: run.outcome }) } },
    );
    const record = await runner.start({ input: null });
    const events = await followToEnd(store, record.id);
    expectWellFormed(events);
    expect(last(events)).toMatchObject({ type: 'run.failed', error: { code: 'AW_STORE_ERROR' } });
    expect(only(events, 'step.finished')).toEqual([expect.objectContaining({ stepId: 'open', status: 'error', error: expect.objectContaining({ code: 'AW_STORE_ERROR' }) })]);
    expect(await store.getRun(record.id)).toMatchObject({ status: 'failed' });
    await vi.waitFor(() => expect(ends).toEqual([{ code: 'AW_STORE_ERROR', outcome: 'failed' }]));
    // The store's error is not the agent's.
    expect(agentErrors).toEqual([]);
    expect(errors.mock.calls.some((call) => String(call[0]).includes(`run ${record.id}: the run log refused an event; the run was ended with AW_STORE_ERROR`))).toBe(true);
  });

  it.each([
    ['the step.finished closing a step: it is logged with the run.failed', 'finish', 3, ['run.started', 'step.started', 'text.delta', 'step.finished', 'run.failed']],
    ['a step.started: that step never started, and nothing closes it', 'start', 2, ['run.started', 'text.delta', 'run.failed']],
    ["the closing of a child that its parent's step.finished closes first: both are logged, child first", 'nested', 3, ['run.started', 'step.started', 'step.started', 'step.finished', 'step.finished', 'run.failed']],
    ["a parent's step.finished after its child's closing was logged: logged too", 'nested', 4, ['run.started', 'step.started', 'step.started', 'step.finished', 'step.finished', 'run.failed']],
  ] as const)('the refused event is %s', async (_label, shape, failAt, expected) => {
    const store = failingStore(failAt, 1);
    const { runner } = runnerOver(store, async function* (ctx) {
      if (shape === 'start') {
        yield 'x';
        yield { type: 'step.started', stepId: 'b', title: 'B' } as const;
      } else if (shape === 'finish') {
        yield { type: 'step.started', stepId: 'a', title: 'A' } as const;
        yield 'x';
        yield { type: 'step.finished', stepId: 'a', status: 'complete' } as const;
      } else {
        yield { type: 'step.started', stepId: 'parent', title: 'Parent' } as const;
        yield { type: 'step.started', stepId: 'child', parentId: 'parent', title: 'Child' } as const;
        yield { type: 'step.finished', stepId: 'parent', status: 'complete' } as const;
      }
      await ctx.sleep(60_000);
    });
    const record = await runner.start({ input: null });
    const events = await followToEnd(store, record.id);
    expect(typesOf(events)).toEqual(expected);
    expectWellFormed(events);
    expect(last(events)).toMatchObject({ error: { code: 'AW_STORE_ERROR' } });
  });

  it("a refused step.finished at a cancelled run's end is logged before its run.failed", async () => {
    const store = failingStore(2, 1);
    const open = deferred();
    const { runner } = runnerOver(store, async function* (ctx) {
      yield { type: 'step.started', stepId: 'open', title: 'Open' } as const;
      open.resolve();
      await ctx.sleep(60_000);
    });
    const record = await runner.start({ input: null });
    await open.promise;
    await runner.cancel(record.id, 'stop');
    const events = await followToEnd(store, record.id);
    expect(typesOf(events)).toEqual(['run.started', 'step.started', 'step.finished', 'run.failed']);
    expect(events[2]).toMatchObject({ stepId: 'open', error: { code: 'AW_RUN_CANCELLED' } });
    expectWellFormed(events);
  });

  it('a log that refuses every append from one on: the agent is aborted, the record marked failed, followers end, no unhandled rejection', async () => {
    const store = failingStore(3);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    cleanups.push(async () => {
      process.off('unhandledRejection', onUnhandled);
    });
    const aborted = deferred();
    const { runner, errors } = runnerOver(store, async function* (ctx) {
      ctx.signal.addEventListener('abort', () => aborted.resolve());
      for (;;) {
        yield 'x';
        await ctx.sleep(1);
      }
    });
    const record = await runner.start({ input: null });
    await within(aborted.promise, 5_000, 'the agent to be aborted');
    // Even the run.failed is refused: the record is marked ended, so its followers end.
    const events = await followToEnd(store, record.id);
    expect(typesOf(events)).toEqual(['run.started', 'text.delta', 'text.delta']);
    expect(await store.getRun(record.id)).toMatchObject({ status: 'failed' });
    await vi.waitFor(() => expect(runner.liveRunCount).toBe(0));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(unhandled).toEqual([]);
    expect(errors.mock.calls.some((call) => String(call[0]).includes('the run log refused an event; the run was marked failed'))).toBe(true);
  });
});
