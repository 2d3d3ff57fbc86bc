import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory-store.js';
import type { RunStore, StoredEvent } from '../store/store.js';
import { Runner } from './runner.js';
import { cleanups, setup, eventsOf, typesOf } from '../../test/helpers/runner-kit.js';
import { within } from '../../test/helpers/wait.js';

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

describe('Runner: the start request', () => {
  it("serialises the run's input once, into the run.started it appends", async () => {
    let serialised = 0;
    const input = {
      toJSON() {
        serialised++;
        return { question: 'why' };
      },
    };
    const { store, runner } = setup({ a: async function* () { yield 'x'; } });
    const record = await runner.start({ input });
    const [first] = await store.read(record.id, 0);
    expect(JSON.parse(first?.json ?? 'null')).toMatchObject({ type: 'run.started', seq: 1, runId: record.id, input: { question: 'why' } });
    expect(serialised).toBe(1);
  });
});
