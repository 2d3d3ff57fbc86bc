import { describe, expect, it } from 'vitest';
import { setup, runToEnd, typesOf, expectWellFormed, only, last } from '../../test/helpers/runner-kit.js';

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
