/**
 * Rendering a run's state for a terminal: the step tree (spinner while running, ✓/✗ with the
 * duration when done), log lines, tool calls, the status line and the answer. Pure: state in,
 * lines out.
 *
 * @module
 */
import picocolors from 'picocolors';

/** Colours, switched on only for a live terminal (picocolors alone would also colour piped output under CI). */
type Colors = ReturnType<typeof picocolors.createColors>;
import type { RunState, StepState, ToolCallState } from '../../protocol/run-state.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Options of {@link renderRun}. */
export interface RenderOptions {
  /** Animation frame counter (for the spinner). */
  frame: number;
  /** Epoch ms now (running durations). */
  now: number;
  /** Log lines shown per running step. @defaultValue 3 */
  logLines?: number;
  /** Most answer lines shown (the tail); all when undefined. */
  answerLines?: number;
  /** Use colours. @defaultValue true */
  color?: boolean;
}

/** Seconds with one decimal: "1.2 s". */
export function seconds(milliseconds: number): string {
  return `${(milliseconds / 1000).toFixed(1)} s`;
}

/** The whole run as terminal lines. */
export function renderRun(state: RunState, options: RenderOptions): string[] {
  const pc = picocolors.createColors(options.color ?? true);
  const lines: string[] = [];
  const header = `${pc.bold(state.agent ?? 'run')} ${pc.dim(state.runId ?? '')}`;
  lines.push(header);
  for (const id of state.rootStepIds) renderStep(state, id, 0, options, lines, pc);
  for (const id of state.rootToolCallIds) lines.push(renderToolCall(state.toolCalls[id], '  ', pc));
  if (state.statusMessage && state.status === 'running') lines.push(pc.italic(pc.dim(`${SPINNER[options.frame % SPINNER.length]} ${state.statusMessage}`)));
  if (state.text !== '') {
    lines.push('');
    const answer = state.text.split('\n');
    const shown = options.answerLines === undefined ? answer : answer.slice(-options.answerLines);
    if (shown.length < answer.length) lines.push(pc.dim(`… ${answer.length - shown.length} more lines above`));
    lines.push(...shown);
  }
  return lines;
}

function renderStep(state: RunState, id: string, depth: number, options: RenderOptions, lines: string[], pc: Colors): void {
  const step = state.steps[id];
  if (!step) return;
  const indent = '  '.repeat(depth);
  const duration = seconds((step.endedAt ?? options.now) - step.startedAt);
  lines.push(`${indent}${icon(step, options.frame, pc)} ${step.status === 'running' ? step.title : pc.dim(step.title)} ${pc.dim(`· ${duration}`)}`);
  if (step.status === 'running') {
    for (const line of step.logs.slice(-(options.logLines ?? 3))) lines.push(`${indent}    ${pc.dim(line)}`);
    if (step.text !== '') lines.push(`${indent}    ${pc.italic(pc.dim(step.text.split('\n').at(-1) ?? ''))}`);
  }
  if (step.status === 'error' && step.error) lines.push(`${indent}    ${pc.red(step.error.message)}`);
  for (const callId of step.toolCallIds) lines.push(renderToolCall(state.toolCalls[callId], `${indent}    `, pc));
  for (const child of step.childIds) renderStep(state, child, depth + 1, options, lines, pc);
}

function icon(step: StepState, frame: number, pc: Colors): string {
  switch (step.status) {
    case 'running':
      return pc.cyan(SPINNER[frame % SPINNER.length] as string);
    case 'complete':
      return pc.green('✓');
    case 'error':
      return pc.red('✗');
    case 'cancelled':
      return pc.dim('⊘');
  }
}

function renderToolCall(call: ToolCallState | undefined, indent: string, pc: Colors): string {
  if (!call) return '';
  const args = truncate(JSON.stringify(call.args ?? {}), 80);
  const outcome =
    call.status === 'complete' ? pc.green(`→ ${truncate(typeof call.result === 'string' ? call.result : JSON.stringify(call.result ?? null), 80)}`)
    : call.status === 'error' ? pc.red(`✗ ${call.error?.message ?? 'error'}`)
    : call.status === 'cancelled' ? pc.dim('cancelled')
    : pc.dim('…');
  return `${indent}${pc.magenta('⚙')} ${call.name}(${args}) ${outcome}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The closing summary: outcome, duration, time to first token, tokens per second. */
export function summarize(state: RunState, answerTokens: number, color = true): string {
  const pc = picocolors.createColors(color);
  const duration = state.startedAt !== undefined && state.endedAt !== undefined ? state.endedAt - state.startedAt : undefined;
  const ttft = state.firstTokenAt !== undefined && state.startedAt !== undefined ? state.firstTokenAt - state.startedAt : undefined;
  const tokens = state.usage?.outputTokens ?? answerTokens;
  const streaming = state.firstTokenAt !== undefined && state.endedAt !== undefined ? (state.endedAt - state.firstTokenAt) / 1000 : 0;
  const rate = streaming > 0 ? tokens / streaming : undefined;
  const parts = [
    state.status === 'finished' ? pc.green('finished') : state.status === 'failed' ? pc.red(`failed: ${state.error?.message} (${state.error?.code})`) : pc.yellow(`${state.status}${state.cancelReason ? `: ${state.cancelReason}` : ''}`),
    duration === undefined ? undefined : `in ${seconds(duration)}`,
    ttft === undefined ? undefined : `first token ${Math.round(ttft)} ms`,
    rate === undefined ? undefined : `${state.usage?.outputTokens === undefined ? '~' : ''}${rate.toFixed(1)} tok/s`,
  ];
  return parts.filter(Boolean).join(pc.dim(' · '));
}
