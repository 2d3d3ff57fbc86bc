import { describe, expect, it } from 'vitest';
import { AgentError } from '../producer/agent.js';
import { isAgentwireError } from '../protocol/errors.js';
import { reduceAll } from '../reducer/reduce.js';
import { MemoryStore } from '../store/memory-store.js';
import { Runner } from './runner.js';
import { cleanups, setup, eventsOf, runToEnd, typesOf, expectWellFormed, only, last, thrownBy } from '../../test/helpers/runner-kit.js';
import { within } from '../../test/helpers/wait.js';

describe('Runner: a run from start to finish', () => {
  it('strings become text.delta between run.started and run.finished, with the return value as output and the reported usage', async () => {
    const { store, runner } = setup({
      echo: async function* (ctx) {
        yield 'Hel';
        yield 'lo, ';
        yield String(ctx.input);
        ctx.reportUsage({ inputTokens: 3, outputTokens: 2, totalTokens: 5 });
        return { answer: 42 };
      },
    });
    const record = await runner.start({ agent: 'echo', input: 'Ada', owner: 'alice' });
    expect(record).toMatchObject({ agent: 'echo', owner: 'alice', status: 'running', lastSeq: 1 });
    const events = await eventsOf(store, record.id);

    expect(typesOf(events)).toEqual(['run.started', 'text.delta', 'text.delta', 'text.delta', 'run.finished']);
    expectWellFormed(events);
    expect(events[0]).toMatchObject({ type: 'run.started', runId: record.id, agent: 'echo', input: 'Ada' });
    expect(only(events, 'text.delta').map((event) => event.text)).toEqual(['Hel', 'lo, ', 'Ada']);
    expect(only(events, 'text.delta').every((event) => event.stepId === undefined)).toBe(true);
    expect(last(events)).toMatchObject({ type: 'run.finished', output: { answer: 42 }, usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 } });
    for (const event of events) expect(typeof event.at).toBe('number');
    expect(await store.getRun(record.id)).toMatchObject({ status: 'finished', lastSeq: 5 });
    expect(runner.liveRunCount).toBe(0);
  });

  it('run.finished carries no output or usage when the agent returns nothing and reports none', async () => {
    const { store, runner } = setup({
      quiet: async function* () {
        yield 'x';
      },
    });
    const { events } = await runToEnd(store, runner);
    expect(last(events)).not.toHaveProperty('output');
    expect(last(events)).not.toHaveProperty('usage');
  });

  it('without an agent name the first registered agent runs', async () => {
    const { store, runner } = setup({
      first: async function* () {
        yield 'first';
      },
      second: async function* () {
        yield 'second';
      },
    });
    const { record, events } = await runToEnd(store, runner);
    expect(record.agent).toBe('first');
    expect(only(events, 'text.delta')[0]?.text).toBe('first');
  });

  it('a sync generator agent is driven like an async one', async () => {
    const { store, runner } = setup({
      sync: function* () {
        yield 'a';
        yield { type: 'status', message: 'working' } as const;
        yield 'b';
        return 'sync output';
      },
    });
    const { events } = await runToEnd(store, runner);
    expect(typesOf(events)).toEqual(['run.started', 'text.delta', 'status', 'text.delta', 'run.finished']);
    expect(last(events)).toMatchObject({ output: 'sync output' });
  });

  it('nested steps and tools wire parentId and callId, and finish children before parents', async () => {
    const { store, runner } = setup({
      nested: async function* (ctx) {
        const found = yield* ctx.step({ title: 'Plan', kind: 'thought' }, async function* (plan) {
          yield plan.log('reading the question');
          yield plan.text('hmm');
          const count = yield* plan.step('Search', async function* (search) {
            const hits = yield* search.tool('web', { q: 'agentwire' }, async () => ['a', 'b']);
            yield search.update('Searched the web');
            return hits.length;
          });
          return count * 10;
        });
        const direct = yield* ctx.tool('calc', { expression: '1+1' }, () => 2);
        yield ctx.data('chart', { points: [1, 2] });
        yield `found ${found}, calc ${direct}`;
        return found;
      },
    });
    const { events } = await runToEnd(store, runner);

    expect(typesOf(events)).toEqual([
      'run.started',
      'step.started',
      'step.log',
      'text.delta',
      'step.started',
      'tool.call',
      'tool.result',
      'step.updated',
      'step.finished',
      'step.finished',
      'tool.call',
      'tool.result',
      'data',
      'text.delta',
      'run.finished',
    ]);
    expectWellFormed(events);

    const [plan, search] = only(events, 'step.started');
    expect(plan).toMatchObject({ title: 'Plan', kind: 'thought' });
    expect(plan).not.toHaveProperty('parentId');
    expect(search).toMatchObject({ title: 'Search', parentId: plan?.stepId });
    expect(search).not.toHaveProperty('kind');
    expect(plan?.stepId).not.toBe(search?.stepId);

    expect(only(events, 'step.log')[0]).toMatchObject({ stepId: plan?.stepId, text: 'reading the question' });
    expect(only(events, 'text.delta')[0]).toMatchObject({ stepId: plan?.stepId, text: 'hmm' });
    expect(only(events, 'step.updated')[0]).toMatchObject({ stepId: search?.stepId, title: 'Searched the web' });

    const [webCall, calcCall] = only(events, 'tool.call');
    const [webResult, calcResult] = only(events, 'tool.result');
    expect(webCall).toMatchObject({ stepId: search?.stepId, name: 'web', args: { q: 'agentwire' } });
    expect(webResult).toMatchObject({ callId: webCall?.callId, result: ['a', 'b'] });
    expect(calcCall).toMatchObject({ name: 'calc', args: { expression: '1+1' } });
    expect(calcCall).not.toHaveProperty('stepId');
    expect(calcResult).toMatchObject({ callId: calcCall?.callId, result: 2 });
    expect(webCall?.callId).not.toBe(calcCall?.callId);

    expect(only(events, 'step.finished').map((event) => [event.stepId, event.status])).toEqual([
      [search?.stepId, 'complete'],
      [plan?.stepId, 'complete'],
    ]);
    expect(only(events, 'text.delta')[1]).toMatchObject({ text: 'found 20, calc 2' });
    expect(last(events)).toMatchObject({ type: 'run.finished', output: 20 });

    // The reducer builds the same tree a viewer shows.
    const state = reduceAll(events);
    expect(state.rootStepIds).toEqual([plan?.stepId]);
    expect(state.steps[plan?.stepId as string]?.childIds).toEqual([search?.stepId]);
    expect(state.status).toBe('finished');
  });

  it('a step body that is a plain async function runs as a step and returns its value', async () => {
    const { store, runner } = setup({
      plainStep: async function* (ctx) {
        const value = yield* ctx.step('Compute', async () => {
          await new Promise<void>((resolve) => setImmediate(resolve));
          return 7;
        });
        const syncValue = yield* ctx.step('Sync compute', () => 'sync');
        return { value, syncValue };
      },
    });
    const { events } = await runToEnd(store, runner);
    expect(typesOf(events)).toEqual(['run.started', 'step.started', 'step.finished', 'step.started', 'step.finished', 'run.finished']);
    expectWellFormed(events);
    expect(only(events, 'step.finished').every((event) => event.status === 'complete')).toBe(true);
    expect(last(events)).toMatchObject({ output: { value: 7, syncValue: 'sync' } });
  });

  it('a failing tool yields tool.result with an error, and an agent that catches it goes on', async () => {
    const { store, runner } = setup({
      tools: async function* (ctx) {
        try {
          yield* ctx.tool('flaky', {}, async () => {
            throw new AgentError('the index is offline', 'INDEX_DOWN');
          });
        } catch {
          yield 'recovered';
        }
        return 'ok';
      },
    });
    const { events } = await runToEnd(store, runner);
    expect(typesOf(events)).toEqual(['run.started', 'tool.call', 'tool.result', 'text.delta', 'run.finished']);
    const [call] = only(events, 'tool.call');
    expect(only(events, 'tool.result')[0]).toEqual(
      expect.objectContaining({ callId: call?.callId, error: { message: 'the index is offline', code: 'INDEX_DOWN' } }),
    );
    expect(only(events, 'tool.result')[0]).not.toHaveProperty('result');
  });

  it('an output that cannot be serialised still ends the run, with run.failed AW_INVALID_EVENT', async () => {
    const { store, runner } = setup({
      bigint: async function* () {
        yield 'almost';
        return 10n as unknown;
      },
    });
    const { events } = await runToEnd(store, runner);
    expect(typesOf(events)).toEqual(['run.started', 'text.delta', 'run.failed']);
    expect(last(events)).toMatchObject({ error: { code: 'AW_INVALID_EVENT' } });
  });
});

describe('Runner: options and ids', () => {
  it('an unknown agent name rejects with AW_UNKNOWN_AGENT listing the available agents, and records no run', async () => {
    const { store, runner } = setup({
      alpha: async function* () {},
      beta: async function* () {},
    });
    const error = await runner.start({ agent: 'gamma', input: null }).catch((caught: unknown) => caught);
    expect(isAgentwireError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'AW_UNKNOWN_AGENT' });
    expect((error as Error).message).toMatch(/gamma/);
    expect((error as Error).message).toMatch(/alpha, beta/);
    expect(await store.listRuns()).toEqual([]);
  });

  it.each([[-1], [Number.NaN], [Number.POSITIVE_INFINITY], ['forever']])('graceMs %s throws AW_INVALID_OPTION naming the option', (graceMs) => {
    const store = new MemoryStore();
    cleanups.push(() => store.close());
    const error = thrownBy(
      () => new Runner({ store, agents: { a: async function* () {} }, graceMs: graceMs as number }),
    );
    expect(isAgentwireError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'AW_INVALID_OPTION' });
    expect((error as Error).message).toMatch(/graceMs/);
  });

  it('run ids are unique, URL-safe and carry at least 128 random bits', async () => {
    const { runner } = setup({ quick: async function* () {} });
    const ids = new Set<string>();
    for (let index = 0; index < 200; index++) {
      const record = await runner.start({ input: null });
      ids.add(record.id);
      expect(record.id).toMatch(/^run_[A-Za-z0-9_-]{22,}$/);
      expect(encodeURIComponent(record.id)).toBe(record.id);
      expect(Buffer.from(record.id.slice('run_'.length), 'base64url').length).toBeGreaterThanOrEqual(16);
    }
    expect(ids.size).toBe(200);
    await Promise.all([...ids].map((id) => runner.whenEnded(id)));
  });

  it('an input that cannot be serialised rejects the start and leaves no run that never ends (shutdown would hang)', async () => {
    const { store, runner } = setup({ quick: async function* () {} });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const error = await runner.start({ input: circular }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'AW_BAD_REQUEST' });
    expect((error as Error).message).toMatch(/input cannot be serialised as JSON/);
    expect(runner.liveRunCount).toBe(0);
    expect((await store.listRuns()).filter((run) => run.status === 'running')).toEqual([]);
    await within(runner.shutdown(), 2000, 'shutdown after a failed start');
  });
});
