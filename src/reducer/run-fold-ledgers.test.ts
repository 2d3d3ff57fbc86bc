/** RunFold makes the ledger of a bounded kind of part (steps, tool calls, data) when the first part of that kind comes. */
import { describe, expect, it, vi } from 'vitest';
import type { AgentEvent } from '../protocol/events.js';
import { RunFold } from './run-fold.js';

const made = vi.hoisted(() => ({ count: 0 }));

vi.mock('./part-ledger.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./part-ledger.js')>();
  class CountedLedger extends actual.PartLedger {
    constructor(max: number) {
      super(max);
      made.count++;
    }
  }
  return { ...actual, PartLedger: CountedLedger };
});

const LIMITS = { maxTextChars: 1_000, maxStepChars: 1_000, maxStepBytes: 10_000, maxToolCallBytes: 10_000, maxDataBytes: 10_000 };

describe('RunFold ledgers', () => {
  it('makes none for a run of text and status lines, then one per kind as its first part comes', () => {
    made.count = 0;
    const fold = new RunFold(undefined, LIMITS);
    let seq = 0;
    const add = (body: object) => fold.add({ ...body, seq: ++seq, at: seq } as AgentEvent);
    add({ type: 'run.started', runId: 'r', agent: 'a', input: null });
    add({ type: 'text.delta', text: 'hello' });
    add({ type: 'status', message: 'working' });
    expect(made.count).toBe(0);
    add({ type: 'data', name: 'b', value: 1 });
    add({ type: 'data', name: 'b', value: 2 });
    expect(made.count).toBe(1);
    add({ type: 'step.started', stepId: 's1', title: 'Step' });
    add({ type: 'tool.call', callId: 'c1', stepId: 's1', name: 'lookup', args: {} });
    add({ type: 'tool.result', callId: 'c1', result: 3 });
    expect(made.count).toBe(3);
    // Folding into a state that holds parts indexes them at once: only the kinds it holds.
    made.count = 0;
    const again = new RunFold(fold.state, LIMITS);
    again.add({ type: 'data', seq: ++seq, at: seq, name: 'b', value: 4 });
    expect(made.count).toBe(3);
    expect(again.state.data).toEqual({ b: 4 });
  });
});
