import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AgentEvent, EventBody } from '../protocol/events.js';
import { reduce, reduceAll } from './reduce.js';
import { RunFold } from './run-fold.js';
import { initialRunState, type RunState } from '../protocol/run-state.js';
import { bestTime } from '../../test/helpers/timing.js';

const T0 = 1_700_000_000_000;

function stamp(bodies: EventBody[], firstSeq = 1): AgentEvent[] {
  return bodies.map((body, index) => ({ ...body, seq: firstSeq + index, at: T0 + (firstSeq + index) * 10 }) as AgentEvent);
}

/** A fold of these bodies, stamped from seq 1. */
function folded(bodies: EventBody[]): RunFold {
  const fold = new RunFold();
  for (const event of stamp(bodies)) fold.add(event);
  return fold;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

const STEP_IDS = ['a', 'b', 'c', 'd'];
const CALL_IDS = ['c1', 'c2', 'c3'];

/** Any event body a run may carry (terminal ones included, snapshots aside), about a few ids. */
const anyBody: fc.Arbitrary<EventBody> = fc.oneof(
  fc.record({ type: fc.constant('step.started' as const), stepId: fc.constantFrom(...STEP_IDS), title: fc.string({ maxLength: 3 }), parentId: fc.option(fc.constantFrom(...STEP_IDS), { nil: undefined }), kind: fc.option(fc.constant('search'), { nil: undefined }) }),
  fc.record({ type: fc.constant('step.log' as const), stepId: fc.constantFrom(...STEP_IDS), text: fc.string({ maxLength: 6 }) }),
  fc.record({ type: fc.constant('step.updated' as const), stepId: fc.constantFrom(...STEP_IDS), title: fc.string({ maxLength: 3 }) }),
  fc.record({ type: fc.constant('step.finished' as const), stepId: fc.constantFrom(...STEP_IDS), status: fc.constantFrom('complete' as const, 'error' as const), error: fc.option(fc.record({ message: fc.constant('x'), code: fc.constantFrom('AW_AGENT_ERROR' as const, 'AW_RUN_CANCELLED' as const) }), { nil: undefined }) }),
  fc.record({ type: fc.constant('text.delta' as const), text: fc.string({ maxLength: 6 }) }),
  fc.record({ type: fc.constant('text.delta' as const), text: fc.string({ maxLength: 6 }), stepId: fc.constantFrom(...STEP_IDS) }),
  fc.record({ type: fc.constant('tool.call' as const), callId: fc.constantFrom(...CALL_IDS), name: fc.constant('search'), args: fc.nat(9), stepId: fc.option(fc.constantFrom(...STEP_IDS), { nil: undefined }) }),
  fc.record({ type: fc.constant('tool.result' as const), callId: fc.constantFrom(...CALL_IDS), result: fc.nat(9) }),
  fc.record({ type: fc.constant('status' as const), message: fc.string({ maxLength: 3 }) }),
  fc.record({ type: fc.constant('data' as const), name: fc.constantFrom('x', 'y'), value: fc.nat(9) }),
  fc.constant<EventBody>({ type: 'run.finished', output: 1 }),
  fc.constant<EventBody>({ type: 'run.failed', error: { message: 'boom', code: 'AW_AGENT_ERROR' } }),
  fc.constant<EventBody>({ type: 'run.cancelled', reason: 'stop' }),
);

describe('RunFold (the mutable builder)', () => {
  it('hands out, at any points, the state reduce and reduceAll give there, and never changes a state it handed out or was given', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(anyBody, fc.integer({ min: -2, max: 3 }), fc.boolean(), fc.boolean()), { maxLength: 80 }),
        (items) => {
          const given = deepFreeze(reduceAll(stamp([{ type: 'run.started', runId: 'r', agent: 'x', input: null }])));
          const fold = new RunFold(given);
          const handed: { state: RunState; copy: RunState }[] = [];
          const events: AgentEvent[] = [];
          let expected = given;
          let seq = 1;
          for (const [body, jump, look, snapshot] of items) {
            // Seqs mostly rise, sometimes repeat or go back (a replay); now and then a snapshot stands for all so far.
            seq = Math.max(1, seq + (jump > 0 ? 1 : jump));
            const event = (snapshot && look
              ? { type: 'run.snapshot', state: expected, seq, at: T0 }
              : { ...body, seq, at: T0 + seq * 10 }) as AgentEvent;
            events.push(event);
            fold.add(event);
            expected = reduce(expected, event);
            if (look) {
              const state = fold.state;
              expect(state).toEqual(expected);
              handed.push({ state, copy: structuredClone(state) });
            }
          }
          expect(fold.state).toEqual(expected);
          expect(fold.state).toEqual(reduceAll(events, given));
          expect(fold.state).toBe(fold.state);
          for (const { state, copy } of handed) expect(state).toEqual(copy);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('returns the given state itself while no event is new', () => {
    const given = reduceAll(stamp([{ type: 'run.started', runId: 'r', agent: 'x', input: null }, { type: 'status', message: 's' }]));
    const fold = new RunFold(given);
    fold.add(stamp([{ type: 'status', message: 'old' }], 2)[0] as AgentEvent);
    expect(fold.state).toBe(given);
  });

  it('shares what it did not touch since the last hand-out', () => {
    const fold = folded([
      { type: 'step.started', stepId: 'a', title: 'A' },
      { type: 'step.started', stepId: 'b', title: 'B' },
      { type: 'step.log', stepId: 'a', text: 'one' },
    ]);
    const before = fold.state;
    fold.add(stamp([{ type: 'step.log', stepId: 'b', text: 'two' }], 4)[0] as AgentEvent);
    const after = fold.state;
    expect(after.steps).not.toBe(before.steps);
    expect(after.steps.a).toBe(before.steps.a);
    expect(after.steps.b?.logs).toEqual(['two']);
    expect(before.steps.b?.logs).toEqual([]);
  });

  it('treats ids such as __proto__ and constructor as ordinary step ids', () => {
    const state = folded([
      { type: 'step.log', stepId: 'constructor', text: 'ghost' },
      { type: 'step.started', stepId: '__proto__', title: 'P' },
      { type: 'step.log', stepId: '__proto__', text: 'kept' },
    ]).state;
    expect(Object.getPrototypeOf(state.steps)).toBe(Object.prototype);
    expect(Object.hasOwn(state.steps, '__proto__')).toBe(true);
    expect(Object.keys(state.steps)).toEqual(['__proto__']);
    expect(JSON.parse(JSON.stringify(state)).steps.__proto__.logs).toEqual(['kept']);
  });

  it('costs O(1) per event: 5,000 step.started then 5,000 step.log lines fold in time linear in their number', () => {
    const events = (n: number): AgentEvent[] => {
      const bodies: EventBody[] = [];
      for (let index = 0; index < n; index++) bodies.push({ type: 'step.started', stepId: `s${index}`, title: 'Step' });
      for (let index = 0; index < n; index++) bodies.push({ type: 'step.log', stepId: `s${index}`, text: 'line' });
      return stamp(bodies);
    };
    // n and 4n: a linear fold takes ~4× as long (more with the garbage collector), a quadratic one ~16×.
    const small = events(1_250);
    const large = events(5_000);
    // A linear baseline: serialising each event once, as the store does on every append.
    const baseline = bestTime(() => {
      for (const event of large) JSON.stringify(event);
    });
    // Generous (a shared machine is noisy): the quadratic fold took hundreds of times the baseline.
    const bound = 30 * baseline + 20;
    const foldLarge = bestTime(() => void reduceAll(large), bound);
    expect(foldLarge).toBeLessThan(bound);
    const foldSmall = bestTime(() => void reduceAll(small), bound);
    expect(foldLarge).toBeLessThan(Math.max(10 * foldSmall, 20));
  });
});

describe('RunFold limits', () => {
  const fold = (bodies: EventBody[], limits: { maxTextChars?: number; maxStepChars?: number }, handOutEvery = 7) => {
    const builder = new RunFold(initialRunState(), limits);
    stamp(bodies).forEach((event, index) => {
      builder.add(event);
      if (index % handOutEvery === 0) void builder.state;
    });
    return builder.state;
  };

  it('keeps the newest answer text within maxTextChars and counts what it dropped', () => {
    const tokens = Array.from({ length: 500 }, (_, index) => `t${index};`);
    const state = fold(tokens.map((text) => ({ type: 'text.delta', text })), { maxTextChars: 200 });
    const whole = tokens.join('');
    expect(state.text.length).toBeLessThanOrEqual(200);
    expect(state.text.length).toBeGreaterThanOrEqual(150 - 6);
    expect(whole.endsWith(state.text)).toBe(true);
    expect(state.truncated).toEqual({ textChars: whole.length - state.text.length, logLines: 0 });
  });

  it('never cuts a surrogate pair in half', () => {
    const state = fold(Array.from({ length: 100 }, () => ({ type: 'text.delta' as const, text: '😀' })), { maxTextChars: 9 });
    expect(state.text).toMatch(/^(😀)+$/u);
  });

  it('drops the run’s oldest log lines past maxStepChars, over all steps, and counts them per step and in all', () => {
    const bodies: EventBody[] = [
      { type: 'step.started', stepId: 'a', title: 'A' },
      { type: 'step.started', stepId: 'b', title: 'B', parentId: 'a' },
    ];
    for (let index = 0; index < 100; index++) bodies.push({ type: 'step.log', stepId: index % 3 === 0 ? 'a' : 'b', text: `line ${String(index).padStart(3, '0')}` });
    const state = fold(bodies, { maxStepChars: 160 });
    const a = state.steps.a;
    const b = state.steps.b;
    const kept = [...(a?.logs ?? []), ...(b?.logs ?? [])];
    expect(kept.join('').length).toBeLessThanOrEqual(160);
    // The newest lines are kept: every kept line is newer than every dropped one.
    const numbers = kept.map((line) => Number(line.slice(5))).sort((x, y) => x - y);
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, index) => 100 - numbers.length + index));
    expect((a?.truncated?.logLines ?? 0) + (a?.logs.length ?? 0)).toBe(34);
    expect((b?.truncated?.logLines ?? 0) + (b?.logs.length ?? 0)).toBe(66);
    expect(state.truncated?.logLines).toBe(100 - kept.length);
  });

  it('for any mix of log lines and step text, keeps the newest of each step within maxStepChars, and counts exactly what it dropped', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.boolean(), fc.string({ maxLength: 12 })), { maxLength: 200 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 9 }),
        (items, maxStepChars, handOutEvery) => {
          const bodies: EventBody[] = ['a', 'b', 'c'].map((stepId) => ({ type: 'step.started', stepId, title: stepId }));
          const lines: Record<string, string[]> = { a: [], b: [], c: [] };
          const texts: Record<string, string> = { a: '', b: '', c: '' };
          for (const [stepId, isText, text] of items) {
            bodies.push(isText ? { type: 'text.delta', stepId, text } : { type: 'step.log', stepId, text });
            if (isText) texts[stepId] += text;
            else lines[stepId]?.push(text);
          }
          const state = fold(bodies, { maxStepChars }, handOutEvery);
          let kept = 0;
          let droppedLines = 0;
          for (const stepId of ['a', 'b', 'c']) {
            const step = state.steps[stepId];
            const all = lines[stepId] as string[];
            const whole = texts[stepId] as string;
            const logLines = step?.truncated?.logLines ?? 0;
            expect(step?.logs).toEqual(all.slice(logLines));
            expect(whole.endsWith(step?.text ?? '')).toBe(true);
            expect((step?.truncated?.textChars ?? 0) + (step?.text.length ?? 0)).toBe(whole.length);
            kept += (step?.text.length ?? 0) + (step?.logs.join('').length ?? 0);
            droppedLines += logLines;
          }
          expect(kept).toBeLessThanOrEqual(maxStepChars + 1);
          expect(state.truncated?.logLines ?? 0).toBe(droppedLines);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('without limits never truncates: the same state as reduce, with no truncated field', () => {
    const state = fold(Array.from({ length: 300 }, (_, index) => ({ type: 'text.delta' as const, text: `${index}` })), {});
    expect(state.truncated).toBeUndefined();
    expect(state.text).toBe(Array.from({ length: 300 }, (_, index) => `${index}`).join(''));
  });
});
