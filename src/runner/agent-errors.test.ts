import { describe, expect, it, vi } from 'vitest';
import { AgentError, type AgentFunction, type AgentItem } from '../producer/agent.js';
import type { EventOf, EventType } from '../protocol/events.js';
import { isAgentwireError } from '../protocol/errors.js';
import { MemoryStore } from '../store/memory-store.js';
import { MASKED_MESSAGE } from './errors.js';
import { Runner } from './runner.js';
import { cleanups, setup, eventsOf, runToEnd, typesOf, expectWellFormed, only, last } from '../../test/helpers/runner-kit.js';
import { deferred, within } from '../../test/helpers/wait.js';

/**
 * Runs `body` with an `unhandledRejection` listener, then asserts that none was reported: Node
 * reports one once the microtask queue drains, so one macrotask after `body` is enough.
 */
async function withoutUnhandledRejection(body: () => Promise<void>): Promise<void> {
  const unhandled = vi.fn();
  process.on('unhandledRejection', unhandled);
  try {
    await body();
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(unhandled).not.toHaveBeenCalled();
  } finally {
    process.off('unhandledRejection', unhandled);
  }
}

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
    await withoutUnhandledRejection(async () => {
      const { events } = await runToEnd(store, runner);
      expect(last(events)).toMatchObject({ type: 'run.failed', error: { code: 'AW_INVALID_EVENT' } });
      await within(rejected.promise, 2000, 'the async function to settle');
    });
    // The abort the runner caused is not reported as an agent error; the misuse is, once.
    expect(onAgentError).toHaveBeenCalledTimes(1);
    expect(onAgentError.mock.calls[0]?.[0]).toMatchObject({ code: 'AW_INVALID_EVENT' });
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
    await withoutUnhandledRejection(async () => {
      const { events } = await runToEnd(store, runner);
      expect(last(events)).toMatchObject({ type: 'run.failed', error: { code: 'AW_INVALID_EVENT' } });
      await vi.waitFor(() => expect(onAgentError).toHaveBeenCalledWith(own, expect.objectContaining({ agent: 'notAGenerator' })), {
        timeout: 2000,
        interval: 5,
      });
    });
  });
});
