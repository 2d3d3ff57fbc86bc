/**
 * The reducer: a pure `(RunState, event) → RunState`. It never mutates its input, shares every
 * untouched branch with the previous state (cheap for React), ignores events at or below
 * `lastSeq` (so replays and duplicates are harmless), and tolerates events about unknown steps
 * or calls (a snapshot may have started mid-run).
 *
 * @module
 */
import type { AgentEvent } from '../protocol/events.js';
import { finishedStatus, newStep, newToolCall, own } from './new-parts.js';
import { RunFold } from './run-fold.js';
import { initialRunState, type RunState, type StepState, type ToolCallState } from '../protocol/run-state.js';

export { RunFold, type RunFoldLimits } from './run-fold.js';

/** Folds one event into the state. Returns `state` itself when the event changes nothing. */
export function reduce(state: RunState, event: AgentEvent): RunState {
  if (event.type === 'run.snapshot') {
    return event.seq >= state.lastSeq ? { ...event.state, lastSeq: event.seq } : state;
  }
  if (event.seq <= state.lastSeq) return state;
  const next = apply(state, event);
  return next === state ? { ...state, lastSeq: event.seq } : { ...next, lastSeq: event.seq };
}

/**
 * Folds a list of events into a state (from {@link initialRunState} when none is given). Same
 * result as {@link reduce} one by one, in O(1) per event (see {@link RunFold}); the given state is
 * never mutated, and returned itself when no event is new.
 */
export function reduceAll(events: Iterable<AgentEvent>, state: RunState = initialRunState()): RunState {
  const fold = new RunFold(state);
  for (const event of events) fold.add(event);
  return fold.state;
}

function apply(state: RunState, event: AgentEvent): RunState {
  switch (event.type) {
    case 'run.started':
      return { ...state, runId: event.runId, agent: event.agent, input: event.input, status: 'running', startedAt: event.at };
    case 'step.started': {
      const step = newStep(event);
      let steps = { ...state.steps, [step.id]: step };
      let rootStepIds = state.rootStepIds;
      const parent = event.parentId === undefined ? undefined : own(state.steps, event.parentId);
      if (parent) steps = { ...steps, [parent.id]: { ...parent, childIds: [...parent.childIds, step.id] } };
      else rootStepIds = [...rootStepIds, step.id];
      return { ...state, steps, rootStepIds };
    }
    case 'step.log':
      return updateStep(state, event.stepId, (step) => ({ ...step, logs: [...step.logs, event.text] }));
    case 'step.updated':
      return updateStep(state, event.stepId, (step) => ({ ...step, title: event.title }));
    case 'step.finished':
      return updateStep(state, event.stepId, (step) => ({
        ...step,
        status: finishedStatus(event),
        endedAt: event.at,
        error: event.error,
      }));
    case 'text.delta':
      if (event.stepId !== undefined) {
        return updateStep(state, event.stepId, (step) => ({ ...step, text: step.text + event.text }));
      }
      return { ...state, text: state.text + event.text, firstTokenAt: state.firstTokenAt ?? event.at };
    case 'tool.call': {
      const call = newToolCall(event);
      const next = { ...state, toolCalls: { ...state.toolCalls, [call.id]: call } };
      const step = event.stepId === undefined ? undefined : own(state.steps, event.stepId);
      if (step) return { ...next, steps: { ...state.steps, [step.id]: { ...step, toolCallIds: [...step.toolCallIds, call.id] } } };
      return { ...next, rootToolCallIds: [...state.rootToolCallIds, call.id] };
    }
    case 'tool.result': {
      const call = own(state.toolCalls, event.callId);
      if (!call) return state;
      const done: ToolCallState = {
        ...call,
        status: event.error ? 'error' : 'complete',
        result: event.result,
        error: event.error,
        endedAt: event.at,
      };
      return { ...state, toolCalls: { ...state.toolCalls, [call.id]: done } };
    }
    case 'status':
      return { ...state, statusMessage: event.message };
    case 'data':
      return { ...state, data: { ...state.data, [event.name]: event.value } };
    case 'run.finished':
      return { ...endRun(state, event.at), status: 'finished', output: event.output, usage: event.usage };
    case 'run.failed':
      return { ...endRun(state, event.at), status: 'failed', error: event.error };
    case 'run.cancelled':
      return { ...endRun(state, event.at), status: 'cancelled', cancelReason: event.reason };
    default:
      return state;
  }
}

function updateStep(state: RunState, stepId: string, update: (step: StepState) => StepState): RunState {
  const step = own(state.steps, stepId);
  if (!step) return state;
  return { ...state, steps: { ...state.steps, [stepId]: update(step) } };
}

/** Ends the run: clears the status line and marks calls still running as cancelled. */
function endRun(state: RunState, at: number): RunState {
  let toolCalls = state.toolCalls;
  for (const call of Object.values(state.toolCalls)) {
    if (call.status === 'running') {
      if (toolCalls === state.toolCalls) toolCalls = { ...toolCalls };
      toolCalls[call.id] = { ...call, status: 'cancelled', endedAt: at };
    }
  }
  return { ...state, toolCalls, statusMessage: undefined, endedAt: at };
}
