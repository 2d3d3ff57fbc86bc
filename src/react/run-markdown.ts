/**
 * A run, or one step of it, as Markdown (what the copy buttons put on the clipboard).
 *
 * @module
 */
import type { RunState } from '../protocol/run-state.js';
import { formatDuration } from './format.js';

/** One line summary of a run's input. */
export function summarizeInput(input: unknown): string {
  const text = typeof input === 'string' ? input : input === undefined ? '' : JSON.stringify(input);
  return text.length > 140 ? `${text.slice(0, 139)}…` : text;
}

/**
 * One step as a Markdown list item: title, status and duration, its thought text, log lines, tool
 * calls and nested steps (indented). Empty for an unknown step.
 */
export function stepToMarkdown(state: RunState, stepId: string, depth = 0): string {
  const lines: string[] = [];
  const step = (id: string, level: number) => {
    const current = state.steps[id];
    if (!current) return;
    const indent = '  '.repeat(level);
    const took = current.endedAt === undefined ? '' : ` · ${formatDuration(current.endedAt - current.startedAt)}`;
    lines.push(`${indent}- **${current.title}** (${current.status}${took})`);
    if (current.error) lines.push(`${indent}  - error: ${current.error.message} (${current.error.code})`);
    if (current.text) lines.push(`${indent}  > ${current.text.replace(/\n/g, ' ')}`);
    for (const log of current.logs) lines.push(`${indent}  - ${log}`);
    for (const callId of current.toolCallIds) {
      const call = state.toolCalls[callId];
      if (call) lines.push(`${indent}  - tool \`${call.name}\` ${JSON.stringify(call.args)} → ${call.error ? `error: ${call.error.message}` : JSON.stringify(call.result ?? null)}`);
    }
    for (const childId of current.childIds) step(childId, level + 1);
  };
  step(stepId, depth);
  return lines.join('\n');
}

/** The whole run as Markdown: prompt, steps (nested, with logs and tool calls), answer, outcome. */
export function runToMarkdown(state: RunState): string {
  const lines = [`# ${summarizeInput(state.input) || 'Run'}`, '', `Agent: ${state.agent ?? 'agent'} · ${state.status}`, ''];
  for (const id of state.rootStepIds) lines.push(stepToMarkdown(state, id));
  lines.push('', state.text);
  if (state.error) lines.push('', `**Failed:** ${state.error.message} (${state.error.code})`);
  return lines.join('\n');
}
