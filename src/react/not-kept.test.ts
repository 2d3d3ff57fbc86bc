import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { RunSnapshot } from '../client/run-store.js';
import type { AgentEvent } from '../protocol/events.js';
import { RunFold } from '../reducer/run-fold.js';
import { initialRunState } from '../protocol/run-state.js';
import { RunView } from './run-view.js';

/** A run whose state a server bounded: 40 answer tokens, 30 log lines and 30 thoughts, past small limits. */
function boundedSnapshot(): RunSnapshot {
  const events: AgentEvent[] = [
    { type: 'run.started', runId: 'r1', agent: 'demo', input: 'q', seq: 1, at: 1000 },
    { type: 'step.started', stepId: 'a', title: 'Plan', seq: 2, at: 1010 },
  ];
  for (let index = 0; index < 30; index++) {
    events.push({ type: 'step.log', stepId: 'a', text: `line ${index}`, seq: events.length + 1, at: 1020 });
    events.push({ type: 'text.delta', stepId: 'a', text: `thought${index} `, seq: events.length + 1, at: 1030 });
  }
  for (let index = 0; index < 40; index++) events.push({ type: 'text.delta', text: `word${index} `, seq: events.length + 1, at: 1100 });
  const fold = new RunFold(initialRunState(), { maxTextChars: 100, maxStepChars: 40 });
  for (const event of events) fold.add(event);
  return { runId: 'r1', state: fold.state, connection: { state: 'open', transport: 'sse' }, error: undefined, answerDeltas: 40, eventCount: events.length };
}

describe('<RunView> of a bounded state', () => {
  it('marks where the kept answer and log lines begin, with how many earlier ones were not kept', () => {
    const snapshot = boundedSnapshot();
    const html = renderToStaticMarkup(createElement(RunView, { snapshot, onStop: async () => undefined, toggles: {}, onToggle: () => undefined }));
    const textChars = snapshot.state.truncated?.textChars ?? 0;
    const logLines = snapshot.state.steps.a?.truncated?.logLines ?? 0;
    expect(textChars).toBeGreaterThan(0);
    expect(logLines).toBeGreaterThan(0);
    expect(html).toContain(`<p class="aw-not-kept">… ${textChars.toLocaleString('en-US')} earlier characters not kept</p>`);
    expect(html).toContain(`<p class="aw-not-kept">… ${logLines} earlier lines not kept</p>`);
    // The marker of the answer comes before the answer, that of the logs before the logs.
    expect(html.indexOf('earlier characters')).toBeLessThan(html.indexOf('class="aw-answer"'));
    expect(html.indexOf('earlier lines')).toBeLessThan(html.indexOf('class="aw-logs"'));
    // A step's text has its own marker, before the text.
    const thoughtChars = snapshot.state.steps.a?.truncated?.textChars ?? 0;
    expect(thoughtChars).toBeGreaterThan(0);
    expect(html).toContain(`<p class="aw-not-kept">… ${thoughtChars.toLocaleString('en-US')} earlier characters not kept</p><div class="aw-thought"`);
  });

  it('marks where the kept steps and tool calls begin, with how many earlier ones were not kept', () => {
    const fold = new RunFold(initialRunState(), { maxStepBytes: 2_000, maxToolCallBytes: 2_000 });
    fold.add({ type: 'run.started', runId: 'r1', agent: 'demo', input: 'q', seq: 1, at: 1000 });
    for (let index = 0; index < 60; index++) {
      fold.add({ type: 'step.started', stepId: `s${index}`, title: `Step ${index}`, seq: 2 * index + 2, at: 1010 });
      fold.add({ type: 'tool.call', callId: `c${index}`, name: 'search', args: null, seq: 2 * index + 3, at: 1020 });
    }
    const snapshot = { ...boundedSnapshot(), state: fold.state };
    const html = renderToStaticMarkup(createElement(RunView, { snapshot, onStop: async () => undefined, toggles: {}, onToggle: () => undefined }));
    const steps = snapshot.state.truncated?.steps ?? 0;
    const calls = snapshot.state.truncated?.toolCalls ?? 0;
    expect(steps).toBeGreaterThan(1);
    expect(calls).toBeGreaterThan(1);
    expect(html).toContain(`<div class="aw-timeline"><p class="aw-not-kept">… ${steps} earlier steps not kept</p><p class="aw-not-kept">… ${calls} earlier tool calls not kept</p>`);
  });

  it('shows no marker for a complete state', () => {
    const snapshot = boundedSnapshot();
    const steps = Object.fromEntries(Object.entries(snapshot.state.steps).map(([id, step]) => [id, { ...step, truncated: undefined }]));
    const complete = { ...snapshot, state: { ...snapshot.state, steps, truncated: undefined } };
    const html = renderToStaticMarkup(createElement(RunView, { snapshot: complete, onStop: async () => undefined, toggles: {}, onToggle: () => undefined }));
    expect(html).not.toContain('earlier characters');
    expect(html).not.toContain('aw-not-kept">… 0');
  });
});
