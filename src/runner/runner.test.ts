import { afterEach, describe, expect, it, vi } from 'vitest';
import { AgentError, type AgentFunction, type AgentItem } from '../producer/agent.js';
import type { AgentEvent, EventOf, EventType } from '../protocol/events.js';
import { isAgentwireError } from '../protocol/errors.js';
import { reduceAll } from '../reducer/reduce.js';
import { MemoryStore } from '../store/memory-store.js';
import type { RunStore, StoredEvent } from '../store/store.js';
import type { AgentsInput } from './agents.js';
import { MASKED_MESSAGE } from './errors.js';
import { Runner, type RunnerOptions } from './runner.js';
import { deferred, within } from '../../test/helpers/wait.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A runner over a fresh memory store; both are shut down and closed after the test. */
function setup(agents: AgentsInput, options: Partial<Omit<RunnerOptions, 'store' | 'agents'>> = {}) {
  const store = new MemoryStore();
  const runner = new Runner({ store, agents, graceMs: 'continue', onAgentError: () => {}, ...options });
  cleanups.push(async () => {
    await runner.shutdown('test cleanup');
    await store.close();
  });
  return { store, runner };
}

/** Every event of a run, read through the store until the terminal event. */
async function eventsOf(store: RunStore, runId: string): Promise<AgentEvent[]> {
  const events: AgentEvent[] = [];
  const reading = (async () => {
    for await (const batch of store.follow(runId, 0)) events.push(...batch.map((stored) => stored.event));
  })();
  await within(reading, 10_000, `the log of ${runId} to end`);
  return events;
}

/** Starts a run and returns its whole log once it has ended. */
async function runToEnd(store: RunStore, runner: Runner, agent?: string, input: unknown = null) {
  const record = await runner.start({ agent, input });
  const events = await eventsOf(store, record.id);
  return { record, events };
}

function typesOf(events: readonly AgentEvent[]): EventType[] {
  return events.map((event) => event.type);
}

/** seq is 1…n with no gap, exactly one terminal event and it is last, every step started is finished once. */
function expectWellFormed(events: readonly AgentEvent[]): void {
  expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
  expect(events[0]?.type).toBe('run.started');
  const terminals = events.filter((event) => ['run.finished', 'run.failed', 'run.cancelled'].includes(event.type));
  expect(terminals).toHaveLength(1);
  expect(terminals[0]).toBe(events.at(-1));
  const started = events.filter((event) => event.type === 'step.started').map((event) => event.stepId);
  const finished = events.filter((event) => event.type === 'step.finished').map((event) => event.stepId);
  expect([...finished].sort()).toEqual([...started].sort());
  // Children finish before parents.
  for (const event of events) {
    if (event.type !== 'step.started' || event.parentId === undefined) continue;
    const childEnd = finished.indexOf(event.stepId);
    const parentEnd = finished.indexOf(event.parentId);
    expect(childEnd, `step ${event.stepId} finishes before its parent ${event.parentId}`).toBeLessThan(parentEnd);
  }
}

function only<T extends EventType>(events: readonly AgentEvent[], type: T): EventOf<T>[] {
  return events.filter((event): event is EventOf<T> => event.type === type);
}

function last(events: readonly AgentEvent[]): AgentEvent {
  return events.at(-1) as AgentEvent;
}


function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

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

describe('Runner: errors', () => {
  it('a plain Error fails the run with a masked AW_AGENT_ERROR, closes open steps first, and reaches onAgentError unmasked', async () => {
    const onAgentError = vi.fn();
    const secret = new Error('connection to postgres://admin:hunter2@db failed');
    const { store, runner } = setup(
      {
        failing: async function* (ctx) {
          yield* ctx.step('Outer', async function* (outer) {
            yield* outer.step('Inner', async function* (inner) {
              yield inner.log('about to fail');
              throw secret;
            });
          });
        },
      },
      { onAgentError },
    );
    const { record, events } = await runToEnd(store, runner);

    expect(typesOf(events)).toEqual(['run.started', 'step.started', 'step.started', 'step.log', 'step.finished', 'step.finished', 'run.failed']);
    expectWellFormed(events);
    const [outer, inner] = only(events, 'step.started');
    expect(only(events, 'step.finished')).toEqual([
      expect.objectContaining({ stepId: inner?.stepId, status: 'error', error: { code: 'AW_AGENT_ERROR', message: MASKED_MESSAGE } }),
      expect.objectContaining({ stepId: outer?.stepId, status: 'error', error: { code: 'AW_AGENT_ERROR', message: MASKED_MESSAGE } }),
    ]);
    expect(last(events)).toMatchObject({ type: 'run.failed', error: { code: 'AW_AGENT_ERROR', message: MASKED_MESSAGE } });
    // The secret is nowhere in the log clients read.
    expect(JSON.stringify(events)).not.toContain('hunter2');
    expect(onAgentError).toHaveBeenCalledTimes(1);
    expect(onAgentError).toHaveBeenCalledWith(secret, { runId: record.id, agent: 'failing' });
    expect(await store.getRun(record.id)).toMatchObject({ status: 'failed' });
  });

  it('a throw with raw steps still open closes them (children first) with the run.failed error', async () => {
    const { store, runner } = setup({
      rawThrow: async function* () {
        yield { type: 'step.started', stepId: 'outer', title: 'Outer' } as const;
        yield { type: 'step.started', stepId: 'inner', parentId: 'outer', title: 'Inner' } as const;
        throw new Error('private detail');
      },
    });
    const { events } = await runToEnd(store, runner);
    expect(typesOf(events)).toEqual(['run.started', 'step.started', 'step.started', 'step.finished', 'step.finished', 'run.failed']);
    expectWellFormed(events);
    expect(only(events, 'step.finished').map((event) => [event.stepId, event.status, event.error?.code])).toEqual([
      ['inner', 'error', 'AW_AGENT_ERROR'],
      ['outer', 'error', 'AW_AGENT_ERROR'],
    ]);
    expect(JSON.stringify(events)).not.toContain('private detail');
  });

  it('an AgentError shows its message and code to users', async () => {
    const onAgentError = vi.fn();
    const { store, runner } = setup(
      {
        quota: async function* () {
          yield 'starting';
          throw new AgentError('You are out of credits; top up to continue.', 'QUOTA_EXCEEDED');
        },
        defaultCode: async function* () {
          throw new AgentError('The document is too long.');
        },
      },
      { onAgentError },
    );
    const quota = await runToEnd(store, runner, 'quota');
    expect(typesOf(quota.events)).toEqual(['run.started', 'text.delta', 'run.failed']);
    expect(last(quota.events)).toMatchObject({ error: { message: 'You are out of credits; top up to continue.', code: 'QUOTA_EXCEEDED' } });
    const plain = await runToEnd(store, runner, 'defaultCode');
    expect(last(plain.events)).toMatchObject({ error: { message: 'The document is too long.', code: 'AW_AGENT_ERROR' } });
    expect(onAgentError).toHaveBeenCalledTimes(2);
  });

  it('exposeErrors: true shows a plain Error\'s message instead of masking it', async () => {
    const { store, runner } = setup(
      {
        failing: async function* () {
          throw new Error('division by zero in step 3');
        },
      },
      { exposeErrors: true },
    );
    const { events } = await runToEnd(store, runner);
    expect(last(events)).toMatchObject({ type: 'run.failed', error: { message: 'division by zero in step 3', code: 'AW_AGENT_ERROR' } });
  });

  it('without onAgentError the error is logged to console.error rather than lost', async () => {
    const store = new MemoryStore();
    const runner = new Runner({ store, graceMs: 'continue', agents: { failing: async function* () { throw new Error('logged'); } } });
    cleanups.push(async () => {
      await runner.shutdown();
      await store.close();
    });
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await runToEnd(store, runner);
      expect(consoleError).toHaveBeenCalledTimes(1);
      expect(consoleError.mock.calls[0]?.some((argument) => argument instanceof Error && argument.message === 'logged')).toBe(true);
    } finally {
      consoleError.mockRestore();
    }
  });

  it.each([
    ['an async', true],
    ['a sync', false],
  ])("what %s generator's finally throws after a cancel reaches onAgentError once, as phase cleanup, with its run, and is counted", async (_label, isAsync) => {
    const reported: { error: unknown; run: unknown }[] = [];
    const counted: unknown[] = [];
    const asleep = deferred();
    const { store, runner } = setup(
      {
        careless: isAsync
          ? async function* (ctx) {
              try {
                asleep.resolve();
                yield 'working';
                await ctx.sleep(60_000);
              } finally {
                // eslint-disable-next-line no-unsafe-finally
                throw new Error('cleanup failed');
              }
            }
          : function* () {
              try {
                asleep.resolve();
                for (;;) yield 'working';
              } finally {
                // eslint-disable-next-line no-unsafe-finally
                throw new Error('cleanup failed');
              }
            },
      },
      { onAgentError: (error, run) => reported.push({ error, run }), hooks: { onAgentCleanupError: (run) => counted.push(run) } },
    );
    const record = await runner.start({ input: null });
    await asleep.promise;
    await runner.cancel(record.id, 'stop');
    expect(last(await eventsOf(store, record.id))).toMatchObject({ type: 'run.cancelled', reason: 'stop' });
    await vi.waitFor(() => expect(reported).toHaveLength(1));
    expect(reported[0]?.run).toEqual({ runId: record.id, agent: 'careless', phase: 'cleanup' });
    expect((reported[0]?.error as Error).message).toBe('cleanup failed');
    expect(counted).toEqual([{ runId: record.id, agent: 'careless', phase: 'cleanup' }]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reported).toHaveLength(1);
  });

  const garbage: [label: string, items: unknown[], code: string, message: RegExp, expectedTypes: EventType[]][] = [
    ['null', [null], 'AW_INVALID_EVENT', /string or an event object, not null/, ['run.started', 'run.failed']],
    ['a number', [42], 'AW_INVALID_EVENT', /not a number/, ['run.started', 'run.failed']],
    ['an unknown type', [{ type: 'nope' }], 'AW_INVALID_EVENT', /type "nope"; expected one of .*text\.delta/, ['run.started', 'run.failed']],
    ['a run.finished event', [{ type: 'run.finished' }], 'AW_INVALID_EVENT', /may not yield "run\.finished".*return a value to finish/, ['run.started', 'run.failed']],
    ['an event missing a field', [{ type: 'step.log', stepId: 's1' }], 'AW_INVALID_EVENT', /invalid "step\.log" event: text/, ['run.started', 'run.failed']],
    ['a step.log for a never-started step', [{ type: 'step.log', stepId: 'ghost', text: 'boo' }], 'AW_STEP_INVALID', /step "ghost", which was never started/, ['run.started', 'run.failed']],
    [
      'a step.finished twice',
      [
        { type: 'step.started', stepId: 'once', title: 'Once' },
        { type: 'step.finished', stepId: 'once', status: 'complete' },
        { type: 'step.finished', stepId: 'once', status: 'complete' },
      ],
      'AW_STEP_INVALID',
      /step\.finished for step "once", which has already finished/,
      ['run.started', 'step.started', 'step.finished', 'run.failed'],
    ],
    [
      'a tool.result for an unknown call',
      [{ type: 'tool.result', callId: 'never-called', result: 1 }],
      'AW_STEP_INVALID',
      /tool\.result for "never-called", which is not a pending tool call/,
      ['run.started', 'run.failed'],
    ],
    [
      'a duplicate step id',
      [
        { type: 'step.started', stepId: 'dup', title: 'First' },
        { type: 'step.started', stepId: 'dup', title: 'Second' },
      ],
      'AW_STEP_INVALID',
      /step id "dup" was already used/,
      ['run.started', 'step.started', 'step.finished', 'run.failed'],
    ],
    [
      'a child of a step that is not open',
      [{ type: 'step.started', stepId: 'orphan', parentId: 'nowhere', title: 'Orphan' }],
      'AW_STEP_INVALID',
      /parent "nowhere", which is not an open step/,
      ['run.started', 'run.failed'],
    ],
  ];

  it.each(garbage)('yielding %s fails the run with a helpful message and runs the agent\'s finally', async (_label, items, code, message, expectedTypes) => {
    const onAgentError = vi.fn();
    const finallyRan = deferred();
    let afterGarbage = false;
    const { store, runner } = setup(
      {
        garbage: async function* () {
          try {
            for (const item of items) yield item as AgentItem;
            afterGarbage = true;
            yield 'never emitted';
          } finally {
            finallyRan.resolve();
          }
        },
      },
      { onAgentError },
    );
    const { events } = await runToEnd(store, runner);

    expect(typesOf(events)).toEqual(expectedTypes);
    expectWellFormed(events);
    const failed = last(events) as EventOf<'run.failed'>;
    expect(failed.error.code).toBe(code);
    expect(failed.error.message).toMatch(message);
    expect(afterGarbage).toBe(false);
    expect(JSON.stringify(events)).not.toContain('never emitted');
    await within(finallyRan.promise, 2000, "the agent's finally");
    expect(onAgentError).toHaveBeenCalledTimes(1);
    expect(isAgentwireError(onAgentError.mock.calls[0]?.[0])).toBe(true);
  });

  it('an agent that is a plain async function fails with a message saying it must be an async generator', async () => {
    const onAgentError = vi.fn();
    const { store, runner } = setup(
      {
        notAGenerator: (async () => 'hello') as unknown as AgentFunction,
      },
      { onAgentError },
    );
    const { events } = await runToEnd(store, runner);
    expect(typesOf(events)).toEqual(['run.started', 'run.failed']);
    expect(last(events)).toMatchObject({ error: { code: 'AW_INVALID_EVENT' } });
    expect((last(events) as EventOf<'run.failed'>).error.message).toMatch(/notAGenerator.*a Promise.*async generator function \(async function\*\)/);
  });

  it('a plain async function agent that rejects after the run failed does not raise an unhandled rejection', async () => {
    const onAgentError = vi.fn();
    const rejected = deferred();
    const { store, runner } = setup(
      {
        notAGenerator: (async (ctx: { sleep: (ms: number) => Promise<void> }) => {
          try {
            // The run fails at once, which aborts the signal: this sleep rejects.
            await ctx.sleep(60_000);
          } finally {
            rejected.resolve();
          }
        }) as unknown as AgentFunction,
      },
      { onAgentError },
    );
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const { events } = await runToEnd(store, runner);
      expect(last(events)).toMatchObject({ type: 'run.failed', error: { code: 'AW_INVALID_EVENT' } });
      await within(rejected.promise, 2000, 'the async function to settle');
      // Node reports an unhandled rejection once the microtask queue drains: one macrotask is enough.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(unhandled).not.toHaveBeenCalled();
      // The abort the runner caused is not reported as an agent error; the misuse is, once.
      expect(onAgentError).toHaveBeenCalledTimes(1);
      expect(onAgentError.mock.calls[0]?.[0]).toMatchObject({ code: 'AW_INVALID_EVENT' });
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('a plain async function agent that throws its own error reports it to onAgentError, not as an unhandled rejection', async () => {
    const onAgentError = vi.fn();
    const own = new Error('thrown by a plain async function');
    const { store, runner } = setup(
      {
        notAGenerator: (async () => {
          await Promise.resolve();
          throw own;
        }) as unknown as AgentFunction,
      },
      { onAgentError },
    );
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const { events } = await runToEnd(store, runner);
      expect(last(events)).toMatchObject({ type: 'run.failed', error: { code: 'AW_INVALID_EVENT' } });
      await vi.waitFor(() => expect(onAgentError).toHaveBeenCalledWith(own, expect.objectContaining({ agent: 'notAGenerator' })), {
        timeout: 2000,
        interval: 5,
      });
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});

describe('Runner: open steps', () => {
  it('steps left open when the agent returns are finished children first with AW_STEP_UNFINISHED, then run.finished', async () => {
    const { store, runner } = setup({
      leaky: async function* () {
        yield { type: 'step.started', stepId: 'a', title: 'A' } as const;
        yield { type: 'step.started', stepId: 'b', parentId: 'a', title: 'B' } as const;
        yield { type: 'step.started', stepId: 'c', parentId: 'b', title: 'C' } as const;
        yield { type: 'step.started', stepId: 'd', title: 'D' } as const;
        return 'done anyway';
      },
    });
    const { events } = await runToEnd(store, runner);
    expect(typesOf(events)).toEqual([
      'run.started',
      'step.started',
      'step.started',
      'step.started',
      'step.started',
      'step.finished',
      'step.finished',
      'step.finished',
      'step.finished',
      'run.finished',
    ]);
    expectWellFormed(events);
    const finished = only(events, 'step.finished');
    expect(finished.every((event) => event.status === 'error' && event.error?.code === 'AW_STEP_UNFINISHED')).toBe(true);
    const order = finished.map((event) => event.stepId);
    expect(order.indexOf('c')).toBeLessThan(order.indexOf('b'));
    expect(order.indexOf('b')).toBeLessThan(order.indexOf('a'));
    expect(last(events)).toMatchObject({ type: 'run.finished', output: 'done anyway' });
  });

  it('a parent finished by a raw step.finished while its child is open finishes the child first', async () => {
    const { store, runner } = setup({
      early: async function* () {
        yield { type: 'step.started', stepId: 'parent', title: 'Parent' } as const;
        yield { type: 'step.started', stepId: 'child', parentId: 'parent', title: 'Child' } as const;
        yield { type: 'step.started', stepId: 'grandchild', parentId: 'child', title: 'Grandchild' } as const;
        yield { type: 'step.started', stepId: 'sibling', title: 'Sibling' } as const;
        yield { type: 'step.finished', stepId: 'parent', status: 'complete' } as const;
        yield { type: 'step.finished', stepId: 'sibling', status: 'complete' } as const;
      },
    });
    const { events } = await runToEnd(store, runner);
    expectWellFormed(events);
    expect(only(events, 'step.finished').map((event) => [event.stepId, event.status, event.error?.code])).toEqual([
      ['grandchild', 'error', 'AW_STEP_UNFINISHED'],
      ['child', 'error', 'AW_STEP_UNFINISHED'],
      ['parent', 'complete', undefined],
      ['sibling', 'complete', undefined],
    ]);
    expect(last(events).type).toBe('run.finished');
  });
});

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

describe('Runner: event loop', () => {
  it('an agent yielding 20,000 strings in a sync loop yields to the loop every 64 events: every turn runs its immediates and timers', async () => {
    /** The runner's slice: it goes through the loop after this many events of one turn (EVENTS_PER_TURN). */
    const SLICE = 64;
    let produced = 0;
    const { store, runner } = setup({
      firehose: async function* () {
        for (let index = 0; index < 20_000; index++) {
          produced++;
          yield 'x';
        }
      },
    });
    const record = await runner.start({ input: null });
    // Sample `produced` at every check phase (immediates) and in timers, until the run has ended.
    let ended = false;
    const atImmediates: number[] = [];
    const sampleImmediate = () => {
      atImmediates.push(produced);
      if (!ended) setImmediate(sampleImmediate);
    };
    setImmediate(sampleImmediate);
    const atTimers: number[] = [];
    const sampleTimer = () => {
      atTimers.push(produced);
      if (!ended) setTimeout(sampleTimer, 0);
    };
    setTimeout(sampleTimer, 0);
    await within(runner.whenEnded(record.id), 20_000, 'the firehose run to end');
    ended = true;
    const steps = atImmediates.slice(1).map((value, index) => value - (atImmediates[index] as number));
    // At most one slice between two turns of the loop (a slice may also be cut short by time).
    expect(Math.max(...steps)).toBeLessThanOrEqual(SLICE);
    expect(atImmediates[0]).toBeLessThanOrEqual(SLICE);
    // So the run took at least 20,000 / 64 turns, and a timer ran in many of them before it ended.
    expect(atImmediates.length).toBeGreaterThanOrEqual(Math.floor(20_000 / SLICE));
    expect(atTimers.filter((value) => value < 20_000).length).toBeGreaterThanOrEqual(3);
    const events = await eventsOf(store, record.id);
    expect(events).toHaveLength(20_002);
    expectWellFormed(events);
  });

  it('an agent paced by timers is asked for its next event in the same turn, with no extra hop through the loop', async () => {
    // Each event comes after a 10 ms timer (longer than the runner's time slice). The agent schedules
    // an immediate just before it yields: if the runner went through the loop before asking for the
    // next event, that immediate has run by the time the agent resumes.
    const immediateRanBeforeResume: boolean[] = [];
    const { store, runner } = setup({
      paced: async function* () {
        for (let index = 0; index < 6; index++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          let immediateRan = false;
          setImmediate(() => {
            immediateRan = true;
          });
          yield `t${index}`;
          immediateRanBeforeResume.push(immediateRan);
        }
      },
    });
    const record = await runner.start({ input: null });
    await within(runner.whenEnded(record.id), 10_000, 'the paced run to end');
    expect(immediateRanBeforeResume).toEqual([false, false, false, false, false, false]);
    expectWellFormed(await eventsOf(store, record.id));
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

describe('Runner: stores with and without a bound appender', () => {
  it.each([
    ['a bound appender', true],
    ['only the async append', false],
  ])('runs to the end through a store with %s', async (_name, withAppender) => {
    const store = new MemoryStore();
    cleanups.push(() => store.close());
    const calls: string[] = [];
    const limited: RunStore = {
      createRun: (record) => store.createRun(record),
      getRun: (runId) => store.getRun(runId),
      listRuns: (filter) => store.listRuns(filter),
      read: (runId, after) => store.read(runId, after),
      follow: (runId, after, options) => store.follow(runId, after, options),
      requestCancel: (runId, reason) => store.requestCancel(runId, reason),
      onCancel: (runId, listener) => store.onCancel(runId, listener),
      close: () => store.close(),
      append: async (runId, events) => {
        calls.push(`append ${events.length}`);
        await store.append(runId, events);
      },
      ...(withAppender
        ? {
            openAppender: (runId: string) => {
              const append = store.openAppender(runId);
              return (event: StoredEvent) => {
                calls.push('appender 1');
                append(event);
              };
            },
          }
        : {}),
    };
    const runner = new Runner({ store: limited, agents: { a: async function* () { yield 'x'; yield 'y'; } }, graceMs: 'continue' });
    const record = await runner.start({ input: null });
    await within(runner.whenEnded(record.id), 2_000, 'the run to end');
    expect(typesOf(await eventsOf(store, record.id))).toEqual(['run.started', 'text.delta', 'text.delta', 'run.finished']);
    expect(calls).toEqual(Array.from({ length: 4 }, () => (withAppender ? 'appender 1' : 'append 1')));
  });
});

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

describe('ctx.sleep', () => {
  it('resolves one sleep after another, and sleeps that overlap, each after its own time', async () => {
    const order = deferred<string[]>();
    const { runner } = setup({
      a: async function* (ctx) {
        const seen: string[] = [];
        for (let index = 0; index < 3; index++) {
          await ctx.sleep(2);
          seen.push(`one ${index}`);
        }
        const long = ctx.sleep(40).then(() => seen.push('long'));
        const short = ctx.sleep(5).then(() => seen.push('short'));
        const middle = ctx.sleep(20).then(() => seen.push('middle'));
        await Promise.all([long, short, middle]);
        await ctx.sleep(1);
        seen.push('after');
        order.resolve(seen);
        yield 'done';
      },
    });
    await runner.start({ input: null });
    expect(await within(order.promise, 5_000, 'the sleeps to end')).toEqual(['one 0', 'one 1', 'one 2', 'short', 'middle', 'long', 'after']);
  });

  it('adds one abort listener per run however many sleeps are pending; a cancel rejects them all and any later sleep', async () => {
    const { EventEmitter } = await import('node:events');
    const getEventListeners = (target: EventTarget, type: string) => EventEmitter.getEventListeners(target, type);
    const counts = deferred<{ before: number; during: number }>();
    const rejected = deferred<{ pending: number; later: string }>();
    const { runner } = setup({
      a: async function* (ctx) {
        yield 'sleeping';
        const before = getEventListeners(ctx.signal, 'abort').length;
        const sleeps = Array.from({ length: 20 }, () => ctx.sleep(60_000));
        counts.resolve({ before, during: getEventListeners(ctx.signal, 'abort').length });
        const results = await Promise.allSettled(sleeps);
        const later = await ctx.sleep(10).then(
          () => 'resolved',
          () => 'rejected',
        );
        rejected.resolve({ pending: results.filter((result) => result.status === 'rejected').length, later });
      },
    });
    const record = await runner.start({ input: null });
    const { before, during } = await within(counts.promise, 2_000, 'the sleeps to start');
    expect(during - before).toBeLessThanOrEqual(1); // not one per sleep
    await runner.cancel(record.id);
    // Every pending sleep rejects, and a sleep after the cancel rejects at once.
    expect(await within(rejected.promise, 2_000, 'the pending sleeps to reject')).toEqual({ pending: 20, later: 'rejected' });
  });
});
