import { afterEach, describe, expect, it } from 'vitest';
import type { AgentContext } from '../producer/agent.js';
import { setup, eventsOf, typesOf, expectWellFormed, last } from '../../test/helpers/runner-kit.js';
import { deferred, within } from '../../test/helpers/wait.js';

/** Counts the AbortControllers made while `count` is installed. */
function countAbortControllers(): { made: () => number; restore: () => void } {
  const Original = globalThis.AbortController;
  let made = 0;
  globalThis.AbortController = class extends Original {
    constructor() {
      super();
      made++;
    }
  };
  return { made: () => made, restore: () => (globalThis.AbortController = Original) };
}

describe('the agent context', () => {
  let restore: (() => void) | undefined;
  afterEach(() => {
    restore?.();
    restore = undefined;
  });

  it('its helpers work called on the context and destructured from it, at the top level and in steps', async () => {
    const { store, runner } = setup({
      destructured: async function* ({ step, tool, log, text, update, status, data, sleep, reportUsage, signal, input, runId, agent }: AgentContext) {
        yield log(`input ${String(input)}`);
        yield text('answer ');
        yield update('renamed at the top');
        yield status('going');
        yield data('who', { runId, agent });
        await sleep(1);
        const found = yield* step('Search', async function* ({ log: stepLog, text: stepText, update: stepUpdate, tool: stepTool }) {
          yield stepLog('in the step');
          yield stepText('thinking');
          yield stepUpdate('Searching');
          return yield* stepTool('lookup', { q: 1 }, (toolSignal) => (toolSignal === signal ? 'same signal' : 'another signal'));
        });
        const direct = yield* tool('echo', null, () => 'echoed');
        reportUsage({ inputTokens: 1, outputTokens: 2 });
        return { found, direct, aborted: signal.aborted };
      },
    });
    const record = await runner.start({ input: 'x' });
    const events = await eventsOf(store, record.id);
    expectWellFormed(events);
    expect(typesOf(events)).toEqual([
      'run.started',
      'status',
      'text.delta',
      'status',
      'status',
      'data',
      'step.started',
      'step.log',
      'text.delta',
      'step.updated',
      'tool.call',
      'tool.result',
      'step.finished',
      'tool.call',
      'tool.result',
      'run.finished',
    ]);
    expect(events[1]).toMatchObject({ message: 'input x' });
    expect(events[3]).toMatchObject({ message: 'renamed at the top' });
    expect(events[5]).toMatchObject({ name: 'who', value: { runId: record.id, agent: 'destructured' } });
    expect(events[8]).toMatchObject({ text: 'thinking', stepId: 's1' });
    expect(last(events)).toMatchObject({
      output: { found: 'same signal', direct: 'echoed', aborted: false },
      usage: { inputTokens: 1, outputTokens: 2 },
    });
  });

  it('a context wrapped with Object.create (an agent handing a sub-agent a changed input) keeps every helper', async () => {
    async function* inner(ctx: AgentContext) {
      yield ctx.log(`inner got ${String(ctx.input)}`);
      const result = yield* ctx.step('Look', async function* (step) {
        yield step.log('looking');
        return yield* step.tool('find', null, (signal) => (signal.aborted ? 'aborted' : 'found'));
      });
      await ctx.sleep(1);
      ctx.reportUsage({ inputTokens: 3, outputTokens: 4 });
      return result;
    }
    const { store, runner } = setup({
      outer: async function* (ctx) {
        return yield* inner(Object.create(ctx, { input: { value: 'changed' } }) as AgentContext);
      },
    });
    const record = await runner.start({ input: 'original' });
    const events = await eventsOf(store, record.id);
    expectWellFormed(events);
    expect(events[1]).toMatchObject({ type: 'status', message: 'inner got changed' });
    expect(last(events)).toMatchObject({ type: 'run.finished', output: 'found', usage: { inputTokens: 3, outputTokens: 4 } });
  });

  it('a run whose agent never reads ctx.signal makes no AbortController', async () => {
    const counter = countAbortControllers();
    restore = counter.restore;
    const { store, runner } = setup({ quick: async function* (ctx) { yield ctx.status('one'); yield 'two'; } });
    for (let index = 0; index < 5; index++) {
      const record = await runner.start({ input: null });
      expect(last(await eventsOf(store, record.id))).toMatchObject({ type: 'run.finished' });
    }
    expect(counter.made()).toBe(0);
  });

  it('ctx.signal first read after the cancel is already aborted, with an AbortError naming the reason', async () => {
    const waiting = deferred();
    const seen = deferred<{ aborted: boolean; name: string; message: string; isError: boolean; same: boolean }>();
    const { store, runner } = setup({
      late: async function* (ctx) {
        yield 'started';
        try {
          await new Promise<void>((resolve) => {
            waiting.resolve();
            setTimeout(resolve, 200);
          });
        } finally {
          const reason = ctx.signal.reason as Error;
          seen.resolve({ aborted: ctx.signal.aborted, name: reason.name, message: reason.message, isError: reason instanceof Error, same: ctx.signal === ctx.signal });
        }
      },
    });
    const record = await runner.start({ input: null });
    await within(waiting.promise, 2_000, 'the agent to wait');
    await runner.cancel(record.id, 'changed my mind');
    expect(await within(seen.promise, 2_000, "the agent's finally")).toEqual({ aborted: true, name: 'AbortError', message: 'changed my mind', isError: true, same: true });
    expect(last(await eventsOf(store, record.id))).toMatchObject({ type: 'run.cancelled', reason: 'changed my mind' });
  });

  it('ctx.sleep rejects with the same reason as ctx.signal', async () => {
    const rejected = deferred<boolean>();
    const sleeping = deferred();
    const { runner } = setup({
      sleeper: async function* (ctx) {
        yield 'started';
        const pending = ctx.sleep(60_000);
        sleeping.resolve();
        await pending.catch((error: unknown) => rejected.resolve(error === ctx.signal.reason));
      },
    });
    const record = await runner.start({ input: null });
    await within(sleeping.promise, 2_000, 'the sleep to start');
    await runner.cancel(record.id);
    expect(await within(rejected.promise, 2_000, 'the sleep to reject')).toBe(true);
  });
});
