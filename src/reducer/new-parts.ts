/**
 * The parts of a {@link RunState} that events create, shared by the immutable reducer and the
 * mutable {@link RunFold}, so both build exactly the same state.
 *
 * @module
 */
import type { EventStamp, StepFinishedEvent, StepStartedEvent, ToolCallEvent } from '../protocol/events.js';
import type { StepState, StepStatus, ToolCallState } from '../protocol/run-state.js';

/** The step a `step.started` opens (with empty arrays of its own). */
export function newStep(event: StepStartedEvent & EventStamp): StepState {
  return {
    id: event.stepId,
    parentId: event.parentId,
    title: event.title,
    kind: event.kind,
    status: 'running',
    startedAt: event.at,
    endedAt: undefined,
    logs: [],
    text: '',
    childIds: [],
    toolCallIds: [],
    error: undefined,
    seq: event.seq,
  };
}

/** The call a `tool.call` starts. */
export function newToolCall(event: ToolCallEvent & EventStamp): ToolCallState {
  return {
    id: event.callId,
    stepId: event.stepId,
    name: event.name,
    args: event.args,
    status: 'running',
    result: undefined,
    error: undefined,
    startedAt: event.at,
    endedAt: undefined,
  };
}

/** The status a `step.finished` gives its step: an error coded `AW_RUN_CANCELLED` is a cancellation. */
export function finishedStatus(event: StepFinishedEvent): StepStatus {
  return event.status === 'complete' ? 'complete' : event.error?.code === 'AW_RUN_CANCELLED' ? 'cancelled' : 'error';
}

/** `record[key]` when it is the record's own (a key such as `constructor` is not a step). */
export function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
