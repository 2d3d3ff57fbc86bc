import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { RunSnapshot } from '../client/run-store.js';
import type { AgentEvent } from '../protocol/events.js';
import { reduceAll } from '../reducer/reduce.js';
import { runToMarkdown, stepToMarkdown } from './run-markdown.js';
import { RunView, runIndicator } from './run-view.js';

const events: AgentEvent[] = [
  { type: 'run.started', runId: 'r1', agent: 'demo', input: 'Capital of France?', seq: 1, at: 1000 },
  { type: 'step.started', stepId: 'a', title: 'Plan', seq: 2, at: 1010 },
  { type: 'step.log', stepId: 'a', text: 'thinking', seq: 3, at: 1020 },
  { type: 'step.started', stepId: 'b', parentId: 'a', title: 'Search', seq: 4, at: 1030 },
  { type: 'tool.call', callId: 'c', stepId: 'b', name: 'search', args: { q: 'france' }, seq: 5, at: 1040 },
  { type: 'text.delta', text: 'Paris <script>alert(1)</script> **bold', seq: 6, at: 1100 },
];

function snapshot(list: AgentEvent[]): RunSnapshot {
  return { runId: 'r1', state: reduceAll(list), connection: { state: 'open', transport: 'sse' }, error: undefined, answerDeltas: 1, eventCount: list.length };
}

describe('<RunView> (server-rendered, no browser)', () => {
  it('renders running steps expanded with data-state and aria attributes, nested in their parent', () => {
    const html = renderToStaticMarkup(createElement(RunView, { snapshot: snapshot(events), onStop: async () => undefined, toggles: {}, onToggle: () => undefined }));
    expect(html).toMatch(/<section class="aw-step" data-state="running" data-step-id="a"[^>]*>.*<button[^>]*aria-expanded="true"[^>]*aria-controls="[^"]+"/s);
    // The child step sits inside the parent's body.
    expect(html).toMatch(/data-step-id="a".*class="aw-step__children".*data-step-id="b"/s);
    expect(html).toContain('data-call-id="c"');
    expect(html).toContain('data-indicator="live"');
    expect(html).toContain('Stop');
    // Streaming answer: busy, not a live region, raw HTML escaped, open emphasis closed for display.
    expect(html).toMatch(/class="aw-answer" aria-busy="true"/);
    expect(html).not.toMatch(/<script>/);
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('<strong>bold');
    expect(html.match(/role="status"/g)?.length).toBe(1);
  });

  it('shows in the pill when events arrive by long-polling after a fallback', () => {
    const polled = { ...snapshot(events), connection: { state: 'open' as const, transport: 'poll' as const } };
    const html = renderToStaticMarkup(createElement(RunView, { snapshot: polled, onStop: async () => undefined, toggles: {}, onToggle: () => undefined }));
    expect(html).toMatch(/class="aw-pill" data-indicator="live" data-transport="poll"/);
    expect(html).toContain('long-polling');
    const streamed = renderToStaticMarkup(createElement(RunView, { snapshot: snapshot(events), onStop: async () => undefined, toggles: {}, onToggle: () => undefined }));
    expect(streamed).not.toContain('long-polling');
  });

  it('honours a user choice over the automatic state, and stays open for an error', () => {
    const failed: AgentEvent[] = [...events.slice(0, 5), { type: 'step.finished', stepId: 'b', status: 'error', error: { message: 'boom', code: 'X' }, seq: 6, at: 1200 }];
    const closedByUser = renderToStaticMarkup(createElement(RunView, { snapshot: snapshot(failed), toggles: { a: false }, onToggle: () => undefined }));
    expect(closedByUser).toMatch(/data-step-id="a"[^>]*>.*?aria-expanded="false"/s);
    expect(closedByUser).not.toContain('data-step-id="b"'); // a closed body is not mounted
    const automatic = renderToStaticMarkup(createElement(RunView, { snapshot: snapshot(failed), toggles: {}, onToggle: () => undefined }));
    expect(automatic).toMatch(/data-state="error" data-step-id="b"[^>]*>.*?aria-expanded="true"/s);
    expect(automatic).toContain('boom');
  });

  it('maps connection and run status to the indicator, and exports the run as Markdown', () => {
    const base = snapshot(events);
    expect(runIndicator({ ...base, connection: { state: 'reconnecting', attempt: 2, delayMs: 500, error: undefined } })).toBe('reconnecting');
    expect(runIndicator({ ...base, state: { ...base.state, status: 'cancelled' } })).toBe('cancelled');
    expect(runIndicator({ ...base, connection: { state: 'closed', reason: 'error' } })).toBe('disconnected');
    const markdown = runToMarkdown(base.state);
    expect(markdown).toContain('# Capital of France?');
    expect(markdown).toContain('- **Plan** (running)');
    expect(markdown).toContain('  - **Search** (running)');
    expect(markdown).toContain('tool `search` {"q":"france"}');
  });

  it('copies one step as Markdown with its logs, tool calls and nested steps, and a step mid-stream as it is so far', () => {
    const state = reduceAll(events);
    expect(stepToMarkdown(state, 'a')).toBe(['- **Plan** (running)', '  - thinking', '  - **Search** (running)', '    - tool `search` {"q":"france"} → null'].join('\n'));
    // The nested step alone is not indented, and a later log line shows up in the next copy.
    const later = reduceAll([...events, { type: 'step.log', stepId: 'b', text: 'found 3 pages', seq: 7, at: 1200 }]);
    expect(stepToMarkdown(later, 'b')).toBe(['- **Search** (running)', '  - found 3 pages', '  - tool `search` {"q":"france"} → null'].join('\n'));
    expect(stepToMarkdown(state, 'missing')).toBe('');
  });

  it('puts a "Copy step" button in each open step body, named after the step', () => {
    const html = renderToStaticMarkup(createElement(RunView, { snapshot: snapshot(events), toggles: {}, onToggle: () => undefined }));
    expect(html).toContain('aria-label="Copy step: Plan"');
    expect(html).toContain('aria-label="Copy step: Search"');
    expect(html).toContain('>Copy answer<');
  });
});
