import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AgentEvent, EventBody } from '../protocol/events.js';
import { reduce, reduceAll, RunFold } from './reduce.js';
import { initialRunState, type RunState } from '../protocol/run-state.js';

const T0 = 1_700_000_000_000;

/** Stamps bodies as the runner would: seq 1..n (from `firstSeq`), `at` 10 ms apart. */
function stamp(bodies: EventBody[], firstSeq = 1): AgentEvent[] {
  return bodies.map((body, index) => ({ ...body, seq: firstSeq + index, at: T0 + (firstSeq + index) * 10 }) as AgentEvent);
}

/** `at` of the event with this seq, as stamped by {@link stamp}. */
function at(seq: number): number {
  return T0 + seq * 10;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

const STARTED: EventBody = { type: 'run.started', runId: 'run-1', agent: 'researcher', input: { question: 'why?' } };

/** A run that uses every event type except the terminal ones. */
const BODY: EventBody[] = [
  STARTED,
  { type: 'status', message: 'Planning…' },
  { type: 'step.started', stepId: 'plan', title: 'Plan', kind: 'thought' },
  { type: 'step.log', stepId: 'plan', text: 'first line' },
  { type: 'text.delta', stepId: 'plan', text: 'I should ' },
  { type: 'text.delta', stepId: 'plan', text: 'search.' },
  { type: 'step.started', stepId: 'search', parentId: 'plan', title: 'Search', kind: 'search' },
  { type: 'tool.call', callId: 'c1', stepId: 'search', name: 'search', args: { q: 'why' } },
  { type: 'tool.result', callId: 'c1', result: ['doc'] },
  { type: 'step.updated', stepId: 'search', title: 'Searched 1 source' },
  { type: 'step.finished', stepId: 'search', status: 'complete' },
  { type: 'step.started', stepId: 'read', parentId: 'plan', title: 'Read' },
  { type: 'tool.call', callId: 'c2', stepId: 'read', name: 'fetch', args: 'https://example.com' },
  { type: 'tool.result', callId: 'c2', error: { message: '404', code: 'AW_AGENT_ERROR' } },
  { type: 'step.finished', stepId: 'read', status: 'error', error: { message: 'fetch failed', code: 'AW_AGENT_ERROR' } },
  { type: 'step.finished', stepId: 'plan', status: 'complete' },
  { type: 'tool.call', callId: 'c3', name: 'clock', args: {} },
  { type: 'data', name: 'sources', value: ['doc'] },
  { type: 'data', name: 'sources', value: ['doc', 'doc2'] },
  { type: 'text.delta', text: 'Because' },
  { type: 'text.delta', text: ' reasons.' },
];

const TERMINALS: EventBody[] = [
  { type: 'run.finished', output: { answer: 42 }, usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 } },
  { type: 'run.failed', error: { message: 'boom', code: 'AW_AGENT_ERROR' } },
  { type: 'run.cancelled', reason: 'user clicked stop' },
];

describe('reduce: run lifecycle', () => {
  it('starts from an idle state with nothing folded in', () => {
    const state = initialRunState();
    expect(state.status).toBe('idle');
    expect(state.lastSeq).toBe(0);
    expect(initialRunState()).not.toBe(state);
  });

  it('records runId, agent, input and status running on run.started', () => {
    const state = reduceAll(stamp([STARTED]));
    expect(state).toMatchObject({ runId: 'run-1', agent: 'researcher', input: { question: 'why?' }, status: 'running', startedAt: at(1), lastSeq: 1 });
    expect(state.endedAt).toBeUndefined();
  });

  it('records output and usage on run.finished and ends the run', () => {
    const state = reduceAll(stamp([STARTED, TERMINALS[0] as EventBody]));
    expect(state).toMatchObject({ status: 'finished', output: { answer: 42 }, usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 }, endedAt: at(2) });
    expect(state.error).toBeUndefined();
  });

  it('records the error on run.failed', () => {
    const state = reduceAll(stamp([STARTED, TERMINALS[1] as EventBody]));
    expect(state).toMatchObject({ status: 'failed', error: { message: 'boom', code: 'AW_AGENT_ERROR' }, endedAt: at(2) });
    expect(state.output).toBeUndefined();
  });

  it('records the reason on run.cancelled', () => {
    const state = reduceAll(stamp([STARTED, TERMINALS[2] as EventBody]));
    expect(state).toMatchObject({ status: 'cancelled', cancelReason: 'user clicked stop', endedAt: at(2) });
  });

  it.each(TERMINALS.map((body) => [body.type, body] as const))('leaves no tool call spinning forever after %s', (_type, terminal) => {
    const events = stamp([
      STARTED,
      { type: 'step.started', stepId: 's', title: 'S' },
      { type: 'tool.call', callId: 'open', stepId: 's', name: 'slow', args: {} },
      { type: 'tool.call', callId: 'done', name: 'fast', args: {} },
      { type: 'tool.result', callId: 'done', result: 1 },
      { type: 'tool.call', callId: 'failed', name: 'bad', args: {} },
      { type: 'tool.result', callId: 'failed', error: { message: 'x', code: 'AW_AGENT_ERROR' } },
      { type: 'step.finished', stepId: 's', status: 'error', error: { message: 'cancelled', code: 'AW_RUN_CANCELLED' } },
      terminal,
    ]);
    const state = reduceAll(events);
    expect(state.toolCalls.open).toMatchObject({ status: 'cancelled', endedAt: at(9) });
    expect(state.toolCalls.done).toMatchObject({ status: 'complete', endedAt: at(5) });
    expect(state.toolCalls.failed).toMatchObject({ status: 'error', endedAt: at(7) });
  });

  it('marks a step finished with AW_RUN_CANCELLED as cancelled, not as an error', () => {
    const state = reduceAll(
      stamp([
        STARTED,
        { type: 'step.started', stepId: 'a', title: 'A' },
        { type: 'step.started', stepId: 'b', title: 'B' },
        { type: 'step.finished', stepId: 'a', status: 'error', error: { message: 'run cancelled', code: 'AW_RUN_CANCELLED' } },
        { type: 'step.finished', stepId: 'b', status: 'error', error: { message: 'open at end', code: 'AW_STEP_UNFINISHED' } },
        { type: 'run.cancelled', reason: 'stop' },
      ]),
    );
    expect(state.steps.a).toMatchObject({ status: 'cancelled', endedAt: at(4), error: { code: 'AW_RUN_CANCELLED' } });
    expect(state.steps.b).toMatchObject({ status: 'error', endedAt: at(5), error: { code: 'AW_STEP_UNFINISHED' } });
  });

  it('clears the transient status line when the run ends', () => {
    for (const terminal of TERMINALS) {
      const running = reduceAll(stamp([STARTED, { type: 'status', message: 'Searching vector index…' }]));
      expect(running.statusMessage).toBe('Searching vector index…');
      const ended = reduce(running, stamp([terminal], 3)[0] as AgentEvent);
      expect(ended.statusMessage, terminal.type).toBeUndefined();
    }
  });
});

describe('reduce: steps', () => {
  const state = reduceAll(stamp(BODY));

  it('builds the step tree with children in start order and only top-level steps as roots', () => {
    expect(state.rootStepIds).toEqual(['plan']);
    expect(state.steps.plan?.childIds).toEqual(['search', 'read']);
    expect(state.steps.search?.childIds).toEqual([]);
    expect(state.steps.search?.parentId).toBe('plan');
    expect(state.steps.plan?.parentId).toBeUndefined();
  });

  it('records title, kind, timing, seq and final status of each step', () => {
    expect(state.steps.plan).toMatchObject({ id: 'plan', title: 'Plan', kind: 'thought', status: 'complete', startedAt: at(3), endedAt: at(16), seq: 3, error: undefined });
    expect(state.steps.search).toMatchObject({ title: 'Searched 1 source', kind: 'search', status: 'complete', startedAt: at(7), endedAt: at(11), seq: 7 });
    expect(state.steps.read).toMatchObject({ kind: undefined, status: 'error', error: { message: 'fetch failed', code: 'AW_AGENT_ERROR' }, endedAt: at(15) });
  });

  it('appends step.log lines in order and step text deltas to the step, not to the answer', () => {
    const logged = reduceAll(
      stamp([
        STARTED,
        { type: 'step.started', stepId: 's', title: 'S' },
        { type: 'step.log', stepId: 's', text: 'one' },
        { type: 'step.log', stepId: 's', text: 'two' },
        { type: 'text.delta', stepId: 's', text: 'a' },
        { type: 'text.delta', stepId: 's', text: 'b' },
      ]),
    );
    expect(logged.steps.s?.logs).toEqual(['one', 'two']);
    expect(logged.steps.s?.text).toBe('ab');
    expect(logged.text).toBe('');
    expect(logged.firstTokenAt).toBeUndefined();
  });

  it('nests three levels deep and keeps sibling order', () => {
    const nested = reduceAll(
      stamp([
        STARTED,
        { type: 'step.started', stepId: 'a', title: 'A' },
        { type: 'step.started', stepId: 'a1', parentId: 'a', title: 'A1' },
        { type: 'step.started', stepId: 'a1x', parentId: 'a1', title: 'A1x' },
        { type: 'step.started', stepId: 'a2', parentId: 'a', title: 'A2' },
        { type: 'step.started', stepId: 'b', title: 'B' },
      ]),
    );
    expect(nested.rootStepIds).toEqual(['a', 'b']);
    expect(nested.steps.a?.childIds).toEqual(['a1', 'a2']);
    expect(nested.steps.a1?.childIds).toEqual(['a1x']);
  });
});

describe('reduce: answer text, tools, status and data', () => {
  const state = reduceAll(stamp(BODY));

  it('concatenates answer text deltas and records the time of the first token only', () => {
    expect(state.text).toBe('Because reasons.');
    expect(state.firstTokenAt).toBe(at(20));
  });

  it('attaches tool calls to their step or to the root, in order', () => {
    expect(state.steps.search?.toolCallIds).toEqual(['c1']);
    expect(state.steps.read?.toolCallIds).toEqual(['c2']);
    expect(state.steps.plan?.toolCallIds).toEqual([]);
    expect(state.rootToolCallIds).toEqual(['c3']);
  });

  it('records a tool result on success and an error on failure', () => {
    expect(state.toolCalls.c1).toEqual({
      id: 'c1',
      stepId: 'search',
      name: 'search',
      args: { q: 'why' },
      status: 'complete',
      result: ['doc'],
      error: undefined,
      startedAt: at(8),
      endedAt: at(9),
    });
    expect(state.toolCalls.c2).toMatchObject({ status: 'error', result: undefined, error: { message: '404', code: 'AW_AGENT_ERROR' }, endedAt: at(14) });
    expect(state.toolCalls.c3).toMatchObject({ stepId: undefined, status: 'running', endedAt: undefined });
  });

  it('keeps the latest status line while running', () => {
    expect(state.statusMessage).toBe('Planning…');
    const next = reduce(state, stamp([{ type: 'status', message: 'Writing…' }], 22)[0] as AgentEvent);
    expect(next.statusMessage).toBe('Writing…');
  });

  it('keeps the latest value of each data name', () => {
    const next = reduce(state, stamp([{ type: 'data', name: 'chart', value: { x: 1 } }], 22)[0] as AgentEvent);
    expect(next.data).toEqual({ sources: ['doc', 'doc2'], chart: { x: 1 } });
  });
});

describe('reduce: ordering, replay and snapshots', () => {
  const events = stamp([...BODY, TERMINALS[0] as EventBody]);

  it('returns the very same state for a duplicate or old seq', () => {
    const state = reduceAll(events);
    for (const event of events) expect(reduce(state, event)).toBe(state);
    const middle = reduceAll(events.slice(0, 10));
    expect(reduce(middle, events[9] as AgentEvent)).toBe(middle);
    expect(reduce(middle, events[0] as AgentEvent)).toBe(middle);
  });

  it('is idempotent: replaying the whole log after itself changes nothing', () => {
    const once = reduceAll(events);
    expect(reduceAll([...events, ...events])).toEqual(once);
    expect(reduceAll(events, once)).toBe(once);
  });

  it('does not double-append text or logs when a reconnect replays overlapping events', () => {
    const overlapping = [...events.slice(0, 15), ...events.slice(5)];
    expect(reduceAll(overlapping)).toEqual(reduceAll(events));
  });

  it('advances lastSeq even for events that change nothing visible', () => {
    const state = reduceAll(stamp([STARTED, { type: 'step.log', stepId: 'nope', text: 'x' }]));
    expect(state.lastSeq).toBe(2);
  });

  it('replaces the state with a run.snapshot and continues from its seq', () => {
    const snapshotState = reduceAll(events.slice(0, 12));
    const snapshot = { type: 'run.snapshot', state: snapshotState, seq: 12, at: at(12) } as AgentEvent;
    const fromSnapshot = reduceAll([snapshot, ...events.slice(12)]);
    expect(fromSnapshot).toEqual(reduceAll(events));

    const joined = reduce(initialRunState(), snapshot);
    expect(joined.lastSeq).toBe(12);
    expect(reduce(joined, events[11] as AgentEvent)).toBe(joined);
    expect(reduce(joined, events[12] as AgentEvent).lastSeq).toBe(13);
  });

  it('takes lastSeq from the snapshot event, not from the state it carries', () => {
    const stale = { ...reduceAll(events.slice(0, 3)), lastSeq: 1 };
    const snapshot = { type: 'run.snapshot', state: stale, seq: 3, at: at(3) } as AgentEvent;
    const joined = reduce(initialRunState(), snapshot);
    expect(joined.lastSeq).toBe(3);
    expect(reduce(joined, events[2] as AgentEvent)).toBe(joined);
  });

  it('ignores a snapshot older than what the client already has', () => {
    const state = reduceAll(events.slice(0, 15));
    const old = { type: 'run.snapshot', state: reduceAll(events.slice(0, 5)), seq: 5, at: at(5) } as AgentEvent;
    expect(reduce(state, old)).toBe(state);
  });

  it('reduceAll equals folding reduce from the initial state', () => {
    const folded = events.reduce<RunState>((state, event) => reduce(state, event), initialRunState());
    expect(reduceAll(events)).toEqual(folded);
    const start = reduceAll(events.slice(0, 7));
    expect(reduceAll(events.slice(7), start)).toEqual(events.slice(7).reduce<RunState>((state, event) => reduce(state, event), start));
  });

  it('reduceAll equals folding reduce for any mix of tokens, data, steps, snapshots and stale events', () => {
    const body = fc.oneof(
      fc.record({ type: fc.constant('text.delta' as const), text: fc.string({ maxLength: 4 }) }),
      fc.record({ type: fc.constant('text.delta' as const), text: fc.string({ maxLength: 4 }), stepId: fc.constantFrom('a', 'b') }),
      fc.record({ type: fc.constant('data' as const), name: fc.constantFrom('x', 'y', 'z'), value: fc.nat(9) }),
      fc.record({ type: fc.constant('step.started' as const), stepId: fc.constantFrom('a', 'b'), title: fc.constant('t') }),
      fc.record({ type: fc.constant('step.log' as const), stepId: fc.constantFrom('a', 'b'), text: fc.constant('l') }),
      fc.record({ type: fc.constant('status' as const), message: fc.string({ maxLength: 3 }) }),
      fc.constant({ type: 'run.finished' as const }),
      fc.constant({ type: 'snapshot' as const }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(body, fc.integer({ min: -3, max: 2 })), { maxLength: 60 }), (items) => {
        // Seqs mostly rise, sometimes repeat or go back (a replay); a snapshot carries the state so far.
        const events: AgentEvent[] = [STARTED as AgentEvent & { seq: number }].map((event) => ({ ...event, seq: 1, at: at(1) }) as AgentEvent);
        let seq = 1;
        for (const [item, jump] of items) {
          seq = Math.max(1, seq + (jump > 0 ? 1 : jump));
          if (item.type === 'snapshot') events.push({ type: 'run.snapshot', state: reduceAll(events), seq, at: at(seq) } as AgentEvent);
          else events.push({ ...item, seq, at: at(seq) } as AgentEvent);
        }
        const folded = events.reduce<RunState>((state, event) => reduce(state, event), initialRunState());
        expect(reduceAll(events)).toEqual(folded);
        const half = Math.floor(events.length / 2);
        const start = reduceAll(events.slice(0, half));
        expect(reduceAll(events.slice(half), start)).toEqual(events.slice(half).reduce<RunState>((state, event) => reduce(state, event), start));
      }),
      { numRuns: 300 },
    );
  });

  it('RunFold read at any points along the way gives the state reduce gives there', () => {
    const body = fc.oneof(
      fc.record({ type: fc.constant('text.delta' as const), text: fc.string({ maxLength: 4 }) }),
      fc.record({ type: fc.constant('data' as const), name: fc.constantFrom('x', 'y'), value: fc.nat(9) }),
      fc.record({ type: fc.constant('step.started' as const), stepId: fc.constantFrom('a', 'b'), title: fc.constant('t') }),
      fc.record({ type: fc.constant('text.delta' as const), text: fc.constant('s'), stepId: fc.constantFrom('a', 'b') }),
      fc.constant({ type: 'run.finished' as const }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(body, fc.integer({ min: -1, max: 3 }), fc.boolean()), { maxLength: 50 }), (items) => {
        const fold = new RunFold();
        let expected = initialRunState();
        let seq = 0;
        for (const [item, jump, look] of items) {
          seq = Math.max(1, seq + jump);
          const event = { ...item, seq, at: at(seq) } as AgentEvent;
          fold.add(event);
          expected = reduce(expected, event);
          if (look) expect(fold.state).toEqual(expected);
        }
        expect(fold.state).toEqual(expected);
        // Reading changes nothing: the same object until another event is added.
        expect(fold.state).toBe(fold.state);
      }),
      { numRuns: 300 },
    );
  });

  it('folds an empty list to the initial state', () => {
    expect(reduceAll([])).toEqual(initialRunState());
  });
});

describe('reduce: tolerance of unknown steps and calls', () => {
  it.each<EventBody>([
    { type: 'step.log', stepId: 'ghost', text: 'x' },
    { type: 'step.updated', stepId: 'ghost', title: 'x' },
    { type: 'step.finished', stepId: 'ghost', status: 'complete' },
    { type: 'text.delta', stepId: 'ghost', text: 'x' },
    { type: 'tool.result', callId: 'ghost', result: 1 },
  ])('ignores %j about something it never saw, without throwing', (body) => {
    const before = reduceAll(stamp([STARTED]));
    const after = reduce(before, stamp([body], 2)[0] as AgentEvent);
    expect({ ...after, lastSeq: before.lastSeq }).toEqual(before);
    expect(after.steps).toBe(before.steps);
    expect(after.toolCalls).toBe(before.toolCalls);
    expect(after.text).toBe('');
  });

  it.each(['constructor', 'toString', 'hasOwnProperty'])('takes %s for an id it never saw, not for a step or call (an Object.prototype key)', (id) => {
    const before = reduceAll(stamp([STARTED]));
    const bodies: EventBody[] = [
      { type: 'step.log', stepId: id, text: 'x' },
      { type: 'step.updated', stepId: id, title: 'x' },
      { type: 'step.finished', stepId: id, status: 'complete' },
      { type: 'tool.result', callId: id, result: 1 },
      { type: 'step.started', stepId: 'child', parentId: id, title: 'C' },
      { type: 'tool.call', callId: 'c', stepId: id, name: 'n', args: {} },
    ];
    let state = before;
    for (const event of stamp(bodies, 2)) state = reduce(state, event);
    expect(Object.keys(state.steps)).toEqual(['child']);
    expect(Object.keys(state.toolCalls)).toEqual(['c']);
    expect(state.rootStepIds).toEqual(['child']);
    expect(state.rootToolCallIds).toEqual(['c']);
    expect(state).toEqual(reduceAll(stamp(bodies, 2), before));
  });

  it('treats a step whose parent it never saw (snapshot started mid-run) as a root step', () => {
    const state = reduceAll(stamp([STARTED, { type: 'step.started', stepId: 'orphan', parentId: 'ghost', title: 'O' }]));
    expect(state.rootStepIds).toEqual(['orphan']);
    expect(state.steps.orphan?.parentId).toBe('ghost');
    expect(state.steps.ghost).toBeUndefined();
  });

  it('treats a tool call in a step it never saw as a root call', () => {
    const state = reduceAll(stamp([STARTED, { type: 'tool.call', callId: 'c', stepId: 'ghost', name: 'n', args: {} }]));
    expect(state.rootToolCallIds).toEqual(['c']);
    expect(state.toolCalls.c?.stepId).toBe('ghost');
    expect(state.steps.ghost).toBeUndefined();
  });

  it('tolerates events before run.started (a client that joined late)', () => {
    const state = reduceAll(stamp([{ type: 'text.delta', text: 'hi' }, { type: 'run.finished' }], 5));
    expect(state).toMatchObject({ text: 'hi', status: 'finished', lastSeq: 6 });
  });
});

describe('reduce: immutability and structural sharing', () => {
  const allEvents = (): AgentEvent[] => {
    const body = stamp(BODY);
    const snapshot = { type: 'run.snapshot', state: deepFreeze(reduceAll(body.slice(0, 10))), seq: 10, at: at(10) } as AgentEvent;
    return [...body, snapshot, ...TERMINALS.map((terminal) => stamp([terminal], body.length + 1)[0] as AgentEvent)];
  };

  it('never mutates a frozen input state, whatever the event type', () => {
    const events = stamp([...BODY, TERMINALS[0] as EventBody]);
    // Fold onto frozen states step by step: any in-place write throws in strict mode (ES modules).
    let state = deepFreeze(initialRunState());
    for (const event of events) state = deepFreeze(reduce(state, deepFreeze(event)));
    expect(state.status).toBe('finished');
    // Every terminal and the snapshot, onto every frozen intermediate state.
    const intermediates = events.map((_, index) => deepFreeze(reduceAll(events.slice(0, index))));
    for (const frozen of intermediates) {
      const copy = structuredClone(frozen);
      for (const event of allEvents()) {
        expect(() => reduce(frozen, deepFreeze(event))).not.toThrow();
      }
      expect(frozen).toEqual(copy);
    }
  });

  it('covers every event type in the immutability check', () => {
    expect(new Set(allEvents().map((event) => event.type)).size).toBe(14);
  });

  it('never mutates the events or the snapshot state it folds in', () => {
    const events = allEvents();
    const copy = structuredClone(events);
    const state = reduceAll(events);
    expect(events).toEqual(copy);
    expect(() => reduce(state, deepFreeze(stamp([{ type: 'status', message: 'x' }], 100)[0] as AgentEvent))).not.toThrow();
  });

  it('shares untouched branches so React can skip unchanged subtrees', () => {
    const before = reduceAll(stamp(BODY));
    const step = (body: EventBody): RunState => reduce(before, stamp([body], 22)[0] as AgentEvent);

    const answer = step({ type: 'text.delta', text: '!' });
    expect(answer).not.toBe(before);
    expect(answer.steps).toBe(before.steps);
    expect(answer.toolCalls).toBe(before.toolCalls);
    expect(answer.rootStepIds).toBe(before.rootStepIds);
    expect(answer.data).toBe(before.data);

    const log = step({ type: 'step.log', stepId: 'read', text: 'more' });
    expect(log.steps).not.toBe(before.steps);
    expect(log.steps.read).not.toBe(before.steps.read);
    expect(log.steps.plan).toBe(before.steps.plan);
    expect(log.steps.search).toBe(before.steps.search);
    expect(log.steps.read?.childIds).toBe(before.steps.read?.childIds);
    expect(log.toolCalls).toBe(before.toolCalls);

    const result = step({ type: 'tool.result', callId: 'c3', result: 'now' });
    expect(result.toolCalls.c3).not.toBe(before.toolCalls.c3);
    expect(result.toolCalls.c1).toBe(before.toolCalls.c1);
    expect(result.steps).toBe(before.steps);

    const data = step({ type: 'data', name: 'other', value: 1 });
    expect(data.data.sources).toBe(before.data.sources);
    expect(data.steps).toBe(before.steps);

    const finished = step({ type: 'run.finished' });
    expect(finished.toolCalls.c1).toBe(before.toolCalls.c1);
    expect(finished.steps).toBe(before.steps);
  });

  it('keeps the toolCalls object when the run ends with no call still running', () => {
    const before = reduceAll(stamp([STARTED, { type: 'tool.call', callId: 'c', name: 'n', args: {} }, { type: 'tool.result', callId: 'c', result: 1 }]));
    const after = reduce(before, stamp([{ type: 'run.finished' }], 4)[0] as AgentEvent);
    expect(after.toolCalls).toBe(before.toolCalls);
  });
});

describe('reduceAll', () => {
  it('equals reduce applied one by one, with duplicates, a replay and a snapshot mixed in', () => {
    const events = stamp([...BODY, TERMINALS[0] as EventBody]);
    const snapshot: AgentEvent = { type: 'run.snapshot', seq: 8, at: at(8), state: reduceAll(events.slice(0, 8)) };
    const mixed = [...events.slice(0, 10), ...events.slice(3, 6), snapshot, ...events.slice(8)];
    const oneByOne = mixed.reduce(reduce, initialRunState());
    deepFreeze(mixed);
    expect(reduceAll(mixed)).toEqual(oneByOne);
    expect(reduceAll(mixed.slice(12), reduceAll(mixed.slice(0, 12)))).toEqual(oneByOne);
    expect(reduceAll(mixed).lastSeq).toBe(events.length);
  });

  it('returns the state itself when no event is new', () => {
    const state = reduceAll(stamp(BODY));
    expect(reduceAll(stamp(BODY.slice(0, 3)), state)).toBe(state);
  });
});
