/**
 * RunFold's bounds on steps, tool calls and `data` (maxStepBytes, maxToolCallBytes, maxDataBytes):
 * the oldest finished parts go first, counted in `truncated`, and what is kept stays linked.
 */
import { queryObjects } from 'node:v8';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { AgentEvent, EventBody } from '../protocol/events.js';
import { reduce, reduceAll } from './reduce.js';
import { RunFold, type RunFoldLimits } from './run-fold.js';
import type { RunState } from '../protocol/run-state.js';

const T0 = 1_700_000_000_000;

function stamp(bodies: EventBody[]): AgentEvent[] {
  return bodies.map((body, index) => ({ ...body, seq: index + 1, at: T0 + index }) as AgentEvent);
}

/**
 * Folds `bodies` within `limits`, handing out (and freezing) a state every `handOutEvery` events;
 * with `withJson`, giving each event's JSON length as a store does.
 */
function foldBodies(bodies: EventBody[], limits: RunFoldLimits, handOutEvery: number, withJson: boolean): RunState {
  const builder = new RunFold(undefined, limits);
  stamp(bodies).forEach((event, index) => {
    builder.add(event, withJson ? JSON.stringify(event).length : undefined);
    if (index % handOutEvery === 0) deepFreeze(builder.state);
  });
  return builder.state;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

/** Every id a state lists names a part it keeps (nothing dropped is left dangling). */
function expectLinked(state: RunState): void {
  for (const id of [...state.rootStepIds]) expect(state.steps[id], id).toBeDefined();
  for (const step of Object.values(state.steps)) {
    for (const id of step.childIds) expect(state.steps[id], `child ${id} of ${step.id}`).toBeDefined();
    for (const id of step.toolCallIds) expect(state.toolCalls[id], `call ${id} of ${step.id}`).toBeDefined();
  }
  for (const id of state.rootToolCallIds) expect(state.toolCalls[id], id).toBeDefined();
}

describe.each([
  ['estimating parts itself', false],
  ["given the events' JSON lengths", true],
])('RunFold bounds on steps, tool calls and data, %s', (_how, withJson) => {
  const fold = (bodies: EventBody[], limits: RunFoldLimits, handOutEvery = 5): RunState => foldBodies(bodies, limits, handOutEvery, withJson);

  it('drops the oldest finished steps with their children and calls, keeps open ones, and counts them', () => {
    const bodies: EventBody[] = [{ type: 'step.started', stepId: 'open', title: 'Open' }];
    for (let index = 0; index < 200; index++) {
      bodies.push({ type: 'step.started', stepId: `p${index}`, title: 'Parent' });
      bodies.push({ type: 'step.started', stepId: `c${index}`, title: 'Child', parentId: `p${index}` });
      bodies.push({ type: 'tool.call', callId: `t${index}`, name: 'search', args: {}, stepId: `c${index}` });
      bodies.push({ type: 'step.finished', stepId: `c${index}`, status: 'complete' });
      bodies.push({ type: 'step.finished', stepId: `p${index}`, status: 'complete' });
    }
    const state = fold(bodies, { maxStepBytes: 4_000 });
    const kept = Object.keys(state.steps);
    expect(kept).toContain('open');
    expect(kept).toContain('p199');
    expect(kept).toContain('c199');
    expect(kept).not.toContain('p0');
    expect(kept).not.toContain('c0');
    expect(state.toolCalls.t0).toBeUndefined();
    expect(state.toolCalls.t199).toBeDefined();
    // A kept parent keeps its child: steps go whole, with their children.
    for (const id of kept.filter((id) => id.startsWith('p'))) expect(kept).toContain(`c${id.slice(1)}`);
    expect(state.truncated?.steps).toBe(401 - kept.length);
    expect(state.truncated?.toolCalls).toBe(200 - Object.keys(state.toolCalls).length);
    expect(JSON.stringify(state.steps).length).toBeLessThanOrEqual(4_000);
    expectLinked(state);
  });

  it('when open steps alone pass the bound, drops the oldest open ones and ignores their later events', () => {
    const bodies: EventBody[] = Array.from({ length: 500 }, (_, index) => ({ type: 'step.started' as const, stepId: `s${index}`, title: 'Step' }));
    bodies.push({ type: 'step.log', stepId: 's0', text: 'late' }, { type: 'step.finished', stepId: 's0', status: 'complete' });
    const state = fold(bodies, { maxStepBytes: 2_000 });
    expect(state.steps.s0).toBeUndefined();
    expect(state.steps.s499?.status).toBe('running');
    expect(Object.keys(state.steps).length).toBeGreaterThan(5);
    expect(state.truncated?.steps).toBe(500 - Object.keys(state.steps).length);
    expectLinked(state);
    // Open steps that are parents of kept ones stay, and the newest is never the one dropped.
    const chain = fold(Array.from({ length: 50 }, (_, index) => ({ type: 'step.started' as const, stepId: `n${index}`, title: 'Step', parentId: index > 0 ? `n${index - 1}` : undefined })), { maxStepBytes: 1_000 });
    expect(Object.keys(chain.steps)).toHaveLength(50);
    expect(chain.truncated).toBeUndefined();
  });

  it('drops the oldest calls with a result first, then running ones, within maxToolCallBytes', () => {
    const bodies: EventBody[] = [{ type: 'tool.call', callId: 'first', name: 'wait', args: null }];
    for (let index = 0; index < 300; index++) {
      bodies.push({ type: 'tool.call', callId: `c${index}`, name: 'search', args: { q: 'x'.repeat(50) } });
      bodies.push({ type: 'tool.result', callId: `c${index}`, result: { hits: index } });
    }
    const state = fold(bodies, { maxToolCallBytes: 5_000 });
    expect(state.toolCalls.first?.status).toBe('running');
    expect(state.toolCalls.c0).toBeUndefined();
    expect(state.toolCalls.c299?.result).toEqual({ hits: 299 });
    expect(JSON.stringify(state.toolCalls).length).toBeLessThanOrEqual(5_000);
    expect(state.truncated?.toolCalls).toBe(301 - Object.keys(state.toolCalls).length);
    expectLinked(state);

    const running = fold(Array.from({ length: 300 }, (_, index) => ({ type: 'tool.call' as const, callId: `r${index}`, name: 'search', args: 'x'.repeat(50) })), { maxToolCallBytes: 5_000 });
    expect(running.toolCalls.r0).toBeUndefined();
    expect(running.toolCalls.r299).toBeDefined();
    expect(JSON.stringify(running.toolCalls).length).toBeLessThanOrEqual(5_000);
  });

  it('keeps the latest value of the names set most recently within maxDataBytes', () => {
    const bodies: EventBody[] = [];
    for (let index = 0; index < 400; index++) bodies.push({ type: 'data', name: `n${index}`, value: 'v'.repeat(20) });
    for (let index = 0; index < 50; index++) bodies.push({ type: 'data', name: 'n0', value: index });
    const state = fold(bodies, { maxDataBytes: 1_000 });
    // n0 was set again last: it is kept, with its latest value, and the names set least recently went.
    expect(state.data.n0).toBe(49);
    expect(state.data.n399).toBeDefined();
    expect(state.data.n1).toBeUndefined();
    expect(JSON.stringify(state.data).length).toBeLessThanOrEqual(1_000);
    expect(state.truncated?.data).toBeGreaterThanOrEqual(400 - Object.keys(state.data).length);
  });

  const body: fc.Arbitrary<EventBody> = fc.oneof(
    fc.record({ type: fc.constant('step.started' as const), stepId: fc.constantFrom('a', 'b', 'c', 'd', 'e'), title: fc.string({ maxLength: 3 }), parentId: fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { nil: undefined }) }),
    fc.record({ type: fc.constant('step.finished' as const), stepId: fc.constantFrom('a', 'b', 'c', 'd', 'e'), status: fc.constant('complete' as const) }),
    fc.record({ type: fc.constant('step.log' as const), stepId: fc.constantFrom('a', 'b', 'c', 'd', 'e'), text: fc.string({ maxLength: 4 }) }),
    fc.record({ type: fc.constant('tool.call' as const), callId: fc.constantFrom('x', 'y', 'z', 'w'), name: fc.constant('f'), args: fc.nat(99), stepId: fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { nil: undefined }) }),
    fc.record({ type: fc.constant('tool.result' as const), callId: fc.constantFrom('x', 'y', 'z', 'w'), result: fc.nat(99) }),
    fc.record({ type: fc.constant('data' as const), name: fc.constantFrom('m', 'n', 'o'), value: fc.nat(99) }),
  );

  it('for any events, keeps what it keeps linked, and equals reduceAll while no bound is hit', () => {
    fc.assert(
      fc.property(fc.array(body, { maxLength: 120 }), fc.integer({ min: 150, max: 900 }), fc.integer({ min: 1, max: 9 }), (bodies, max, handOutEvery) => {
        const bounded = fold(bodies, { maxStepBytes: max, maxToolCallBytes: max, maxDataBytes: max / 8 }, handOutEvery);
        expectLinked(bounded);
        const loose = fold(bodies, { maxStepBytes: 1e9, maxToolCallBytes: 1e9, maxDataBytes: 1e9 }, handOutEvery);
        expect(loose).toEqual(reduceAll(stamp(bodies)));
      }),
      { numRuns: 300 },
    );
  });

  it('folds from a bounded state (a snapshot) and keeps bounding it', () => {
    const first = fold(Array.from({ length: 100 }, (_, index) => ({ type: 'step.started' as const, stepId: `s${index}`, title: 'Step' })), { maxStepBytes: 2_000 });
    const builder = new RunFold(first, { maxStepBytes: 2_000 });
    for (let index = 0; index < 100; index++) builder.add({ type: 'step.started', stepId: `t${index}`, title: 'Step', seq: 200 + index, at: T0 });
    const state = builder.state;
    expect(state.steps.t99).toBeDefined();
    expect(JSON.stringify(state.steps).length).toBeLessThanOrEqual(2_000);
    expect(state.truncated?.steps).toBe(200 - Object.keys(state.steps).length);
  });

  it('a browser reducing from a bounded snapshot keeps its counts and ignores events of the parts not kept', () => {
    const bounded = fold(Array.from({ length: 100 }, (_, index) => ({ type: 'tool.call' as const, callId: `c${index}`, name: 'f', args: index, stepId: `s${index}` })), { maxToolCallBytes: 2_000 });
    expect(bounded.truncated?.toolCalls).toBeGreaterThan(0);
    let state = reduce(bounded, { type: 'run.snapshot', state: bounded, seq: bounded.lastSeq, at: T0 });
    state = reduce(state, { type: 'tool.result', callId: 'c0', result: 1, seq: bounded.lastSeq + 1, at: T0 });
    state = reduce(state, { type: 'step.log', stepId: 'gone', text: 'x', seq: bounded.lastSeq + 2, at: T0 });
    expect(state.toolCalls.c0).toBeUndefined();
    expect(state.truncated).toEqual(bounded.truncated);
    expect(state.lastSeq).toBe(bounded.lastSeq + 2);
  });
});

describe("RunFold given the events' JSON lengths", () => {
  it('serialises no data value, tool args or tool result again to bound them', () => {
    const events = stamp([
      { type: 'tool.call', callId: 'c', name: 'search', args: { q: 'x'.repeat(50) } },
      { type: 'tool.result', callId: 'c', result: { hits: [1, 2, 3] } },
      { type: 'data', name: 'n', value: { rows: [1, 2, 3] } },
    ]);
    const lengths = events.map((event) => JSON.stringify(event).length);
    const builder = new RunFold(undefined, { maxToolCallBytes: 10_000, maxDataBytes: 10_000 });
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      events.forEach((event, index) => builder.add(event, lengths[index]));
      expect(stringify).not.toHaveBeenCalled();
    } finally {
      stringify.mockRestore();
    }
    expect(builder.state).toEqual(reduceAll(events));
  });

  it('keeps the data it bounds within the bound, escapes included, whenever it keeps more than the newest name', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ name: fc.constantFrom('a', 'b', 'c', 'd'), value: fc.jsonValue({ maxDepth: 2 }) }), { maxLength: 60 }), fc.nat(2 ** 40), (sets, at) => {
        const builder = new RunFold(undefined, { maxDataBytes: 200 });
        sets.forEach(({ name, value }, index) => {
          const event: AgentEvent = { type: 'data', name, value, seq: index + 1, at: at + index };
          builder.add(event, JSON.stringify(event).length);
          const { data } = builder.state;
          if (Object.keys(data).length > 1) expect(JSON.stringify(data).length).toBeLessThanOrEqual(200);
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('the part ledgers', () => {
  it('a bounded fold makes no Map for the kinds of part it has not seen yet', () => {
    const before = queryObjects(Map, { format: 'count' });
    const limits = { maxStepBytes: 1_000_000, maxToolCallBytes: 1_000_000, maxDataBytes: 1_000_000 };
    const folds = Array.from({ length: 100 }, () => new RunFold(undefined, limits));
    // Three per fold when each ledger made its Map up front, whatever the run would emit.
    expect(queryObjects(Map, { format: 'count' }) - before).toBeLessThan(10);
    folds[0]?.add({ type: 'data', name: 'n', value: 1, seq: 1, at: T0 } as AgentEvent);
    expect(folds[0]?.state.data).toEqual({ n: 1 });
  });
});

describe('RunFold data, set again', () => {
  it('sets a value again with no lookup of what it owns, and hands out states that do not change afterwards', () => {
    const fold = new RunFold(undefined, { maxDataBytes: 1_000_000 });
    fold.add({ type: 'data', seq: 1, at: 1, name: 'b', value: 0 });
    const has = vi.spyOn(Set.prototype, 'has');
    for (let seq = 2; seq <= 50; seq++) fold.add({ type: 'data', seq, at: seq, name: 'b', value: seq });
    expect(has).not.toHaveBeenCalled();
    has.mockRestore();
    const handed = fold.state;
    fold.add({ type: 'data', seq: 51, at: 51, name: 'b', value: 51 });
    expect([handed.data, fold.state.data]).toEqual([{ b: 50 }, { b: 51 }]);
  });
});
