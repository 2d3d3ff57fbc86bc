/**
 * A stateful format resumed from the folded state (`fromState`) writes what the same encoder writes
 * after replaying every event before the cursor: the gateway resumes from the store's state instead
 * of re-reading the log.
 */
import { describe, expect, it } from 'vitest';
import { reduceAll } from '../../reducer/reduce.js';
import type { AgentEvent, EventBody } from '../events.js';
import { AgUiEncoder } from './ag-ui.js';
import { AiSdkEncoder } from './ai-sdk.js';

const RUN = 'run_resume';

const BODIES: EventBody[] = [
  { type: 'run.started', runId: RUN, agent: 'demo', input: 'q' },
  { type: 'status', message: 'planning' },
  { type: 'step.started', stepId: 'outer', title: 'Outer', kind: 'thought' },
  { type: 'step.log', stepId: 'outer', text: 'one' },
  { type: 'text.delta', stepId: 'outer', text: 'thinking ' },
  { type: 'text.delta', stepId: 'outer', text: 'more' },
  { type: 'step.started', stepId: 'inner', parentId: 'outer', title: 'Inner' },
  { type: 'tool.call', callId: 'c1', stepId: 'inner', name: 'search', args: { q: 'x' } },
  { type: 'step.log', stepId: 'inner', text: 'two' },
  { type: 'tool.result', callId: 'c1', result: ['hit'] },
  { type: 'step.updated', stepId: 'inner', title: 'Inner (1 hit)' },
  { type: 'step.finished', stepId: 'inner', status: 'complete' },
  { type: 'step.started', stepId: 'again', parentId: 'outer', title: 'Inner' },
  { type: 'step.finished', stepId: 'again', status: 'error', error: { message: 'no', code: 'AW_AGENT_ERROR' } },
  { type: 'step.finished', stepId: 'outer', status: 'complete' },
  { type: 'data', name: 'sources', value: [1] },
  { type: 'text.delta', text: 'The ' },
  { type: 'text.delta', text: 'answer.' },
  { type: 'status', message: 'done' },
  { type: 'run.finished', output: 'answer' },
];
const EVENTS = BODIES.map((body, index) => ({ ...body, seq: index + 1, at: 1_700_000_000_000 + index }) as AgentEvent);

describe('resuming a format from the folded state', () => {
  it('AI SDK: from the state at every cursor, the rest of the stream is what a replay gives', () => {
    for (let cursor = 1; cursor < EVENTS.length; cursor++) {
      const replayed = new AiSdkEncoder(RUN);
      for (const event of EVENTS.slice(0, cursor)) replayed.encode(event);
      const resumed = AiSdkEncoder.fromState(RUN, reduceAll(EVENTS.slice(0, cursor)));
      const rest = EVENTS.slice(cursor);
      expect(rest.map((event) => resumed.encode(event)), `cursor ${cursor}`).toEqual(rest.map((event) => replayed.encode(event)));
    }
  });

  it('AG-UI: from the state at every cursor outside a message, the prelude and the rest are what a replay gives', () => {
    const renamedWhileOpen = new Set([11, 12]);
    for (let cursor = 1; cursor < EVENTS.length; cursor++) {
      if (EVENTS[cursor - 1]?.type === 'text.delta' || renamedWhileOpen.has(cursor)) continue;
      const state = reduceAll(EVENTS.slice(0, cursor));
      const replayed = new AgUiEncoder(RUN);
      for (const event of EVENTS.slice(0, cursor)) replayed.encode(event);
      const resumed = AgUiEncoder.fromState(RUN, state);
      expect(resumed.resume(state), `cursor ${cursor}`).toEqual(replayed.resume(state));
      const rest = EVENTS.slice(cursor);
      const encodeRest = (encoder: AgUiEncoder) => rest.map((event) => encoder.encode(event));
      expect(encodeRest(resumed), `cursor ${cursor}`).toEqual(encodeRest(replayed));
    }
  });

  it('AG-UI: a step renamed before the cursor and still open is named by its current title, the same in the prelude and at its end', () => {
    const state = reduceAll(EVENTS.slice(0, 11));
    const resumed = AgUiEncoder.fromState(RUN, state);
    expect(resumed.resume(state).filter((event) => event.type === 'STEP_STARTED').map((event) => event.stepName)).toEqual(['Outer', 'Outer › Inner (1 hit)']);
    expect(resumed.encode(EVENTS[11] as AgentEvent)).toEqual([{ type: 'STEP_FINISHED', stepName: 'Outer › Inner (1 hit)' }]);
  });

  it('AG-UI: inside a message, a resumed stream opens a message of its own for the rest of the text, named by its first delta', () => {
    const cursor = EVENTS.findIndex((event) => event.type === 'text.delta' && event.stepId === undefined) + 1;
    const resumed = AgUiEncoder.fromState(RUN, reduceAll(EVENTS.slice(0, cursor)));
    const next = EVENTS[cursor] as AgentEvent;
    expect(resumed.encode(next)).toEqual([
      { type: 'TEXT_MESSAGE_START', messageId: `${RUN}-message-${next.seq}`, role: 'assistant' },
      { type: 'TEXT_MESSAGE_CONTENT', messageId: `${RUN}-message-${next.seq}`, delta: 'answer.' },
    ]);
  });
});
