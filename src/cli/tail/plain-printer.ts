/**
 * Append-only rendering of a run for pipes and logs: one line per step, log line, tool call and
 * status, the answer written as it streams, a summary at the end.
 *
 * @module
 */
import type { AgentEvent } from '../../protocol/events.js';
import type { RunState } from '../../protocol/run-state.js';
import { seconds } from './render-tree.js';

/** Writes a run's events as plain lines to `write`. Call with each event and the state after it. */
export function createPlainPrinter(write: (text: string) => void): (event: AgentEvent, state: RunState) => void {
  let midLine = false;
  const line = (text: string) => {
    write(`${midLine ? '\n' : ''}${text}\n`);
    midLine = false;
  };
  const depth = (state: RunState, stepId: string | undefined): number => {
    let level = 0;
    for (let id = stepId; id !== undefined; id = state.steps[id]?.parentId) level++;
    return level;
  };
  const indent = (state: RunState, stepId: string | undefined) => '  '.repeat(Math.max(0, depth(state, stepId) - 1));
  return (event, state) => {
    switch (event.type) {
      case 'run.started':
        line(`run ${event.runId} (${event.agent})`);
        break;
      case 'step.started':
        line(`${indent(state, event.stepId)}▶ ${event.title}`);
        break;
      case 'step.log':
        line(`${indent(state, event.stepId)}  · ${event.text}`);
        break;
      case 'step.updated':
        line(`${indent(state, event.stepId)}  ↻ ${event.title}`);
        break;
      case 'step.finished': {
        const step = state.steps[event.stepId];
        const took = step?.endedAt !== undefined ? ` · ${seconds(step.endedAt - step.startedAt)}` : '';
        if (step?.text) line(`${indent(state, event.stepId)}  “${step.text.trim()}”`);
        line(`${indent(state, event.stepId)}${event.status === 'complete' ? '✓' : '✗'} ${step?.title ?? event.stepId}${took}${event.error ? ` — ${event.error.message}` : ''}`);
        break;
      }
      case 'tool.call':
        line(`${indent(state, event.stepId)}  ⚙ ${event.name}(${JSON.stringify(event.args ?? {})})`);
        break;
      case 'tool.result':
        line(`${indent(state, state.toolCalls[event.callId]?.stepId)}  ${event.error ? `✗ ${event.error.message}` : `→ ${typeof event.result === 'string' ? event.result : JSON.stringify(event.result ?? null)}`}`);
        break;
      case 'status':
        line(`… ${event.message}`);
        break;
      case 'text.delta':
        if (event.stepId === undefined) {
          write(event.text);
          midLine = !event.text.endsWith('\n');
        }
        break;
      default:
        break;
    }
  };
}
