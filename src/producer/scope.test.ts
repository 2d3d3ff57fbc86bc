import { describe, expect, it } from 'vitest';
import type { AgentYield, ErrorInfo } from '../protocol/events.js';
import { acceptCanonicalYield, agentYieldSchema } from '../protocol/validate.js';
import type { AgentItem } from './agent.js';
import { createScope, type ScopeHost, type StepScope } from './scope.js';

function host(): ScopeHost {
  let next = 0;
  return {
    signal: new AbortController().signal,
    nextId: (prefix) => `${prefix}${++next}`,
    toErrorInfo: (error): ErrorInfo => ({ message: (error as Error).message, code: 'AW_AGENT_ERROR' }),
  };
}

/** Everything a generator yields, whether it returns or throws. */
async function drain(items: AsyncIterable<AgentItem>): Promise<AgentItem[]> {
  const out: AgentItem[] = [];
  try {
    for await (const item of items) out.push(item);
  } catch {
    // The helper re-throws the body's error after yielding its closing event.
  }
  return out;
}

/** One of every event every helper builds, at the top level and in (nested) steps, done and failed. */
async function everyHelperEvent(): Promise<AgentYield[]> {
  const top = createScope(host(), undefined);
  const plain = (scope: StepScope): AgentItem[] => [
    scope.log('a line'),
    scope.text('some text'),
    scope.update('renamed'),
    scope.status('working'),
    scope.data('rows', [{ n: 1 }]),
    scope.data('none', null),
  ];
  const items: AgentItem[] = [...plain(top)];
  items.push(
    ...(await drain(
      top.step({ title: 'outer', kind: 'agent' }, async function* (outer) {
        yield* plain(outer);
        yield* outer.step('inner', async function* (inner) {
          yield* plain(inner);
          yield* inner.tool('search', { q: 'x' }, async () => ({ hits: 2 }));
          yield* inner.tool('nothing', undefined, () => undefined);
        });
        try {
          yield* outer.tool('broken', [1], async () => {
            throw new Error('tool failed');
          });
        } catch {
          // the failed call is what this test wants
        }
        try {
          yield* outer.step({ title: 'fails', kind: 'thought' }, () => {
            throw new Error('step failed');
          });
        } catch {
          // the failed step is what this test wants
        }
      }),
    )),
    ...(await drain(top.tool('top-level', 1, () => 'done'))),
    ...(await drain(top.step('plain function', () => 'result'))),
  );
  return items.filter((item): item is AgentYield => typeof item !== 'string');
}

describe('the producer API builds events the runner takes without the full schema', () => {
  it('every helper, in every form, builds an event the schema accepts and copies to the same JSON, which the fast check takes as it is', async () => {
    const events = await everyHelperEvent();
    // Every event type an agent may yield is covered, with each optional field both ways.
    expect(new Set(events.map((event) => event.type))).toEqual(
      new Set(['step.started', 'step.log', 'step.updated', 'step.finished', 'text.delta', 'tool.call', 'tool.result', 'status', 'data']),
    );
    const started = events.filter((event) => event.type === 'step.started');
    expect(started.some((event) => event.parentId !== undefined && event.kind !== undefined)).toBe(true);
    expect(started.some((event) => event.parentId === undefined && event.kind === undefined)).toBe(true);
    expect(events.some((event) => event.type === 'tool.call' && event.stepId === undefined)).toBe(true);
    expect(events.some((event) => event.type === 'tool.result' && event.error !== undefined)).toBe(true);
    expect(events.some((event) => event.type === 'step.finished' && event.error !== undefined)).toBe(true);
    for (const event of events) {
      const parsed = agentYieldSchema.safeParse(event);
      expect(parsed.success, JSON.stringify(event)).toBe(true);
      // Key for key and in order: skipping the schema changes nothing in the log.
      expect(JSON.stringify(parsed.data)).toBe(JSON.stringify(event));
      expect(acceptCanonicalYield(event), JSON.stringify(event)).toBe(event);
    }
  });

  it('a helper given a bad argument by a JavaScript agent builds an event the fast check turns down, for the schema to name the problem', () => {
    const top = createScope(host(), undefined);
    const step = createScope(host(), 's1');
    const bad: unknown[] = [
      step.log(42 as unknown as string),
      step.text({} as unknown as string),
      step.update(null as unknown as string),
      top.status(7 as unknown as string),
      top.data('', 1),
    ];
    for (const event of bad) {
      expect(acceptCanonicalYield(event), JSON.stringify(event)).toBeUndefined();
      expect(agentYieldSchema.safeParse(event).success, JSON.stringify(event)).toBe(false);
    }
  });
});
