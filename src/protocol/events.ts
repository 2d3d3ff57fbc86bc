/**
 * The agentwire event protocol: every event of a run, as TypeScript types.
 *
 * Every event on the wire has `type`, `seq` (1, 2, 3… per run, no gaps) and `at` (epoch ms).
 * A run emits exactly one terminal event (`run.finished`, `run.failed` or `run.cancelled`), last;
 * every `step.started` is matched by one `step.finished`, children before parents.
 *
 * @module
 */
import type { RunState } from './run-state.js';

/** An error as it travels in events and HTTP bodies. */
export interface ErrorInfo {
  /** Human-readable message. */
  message: string;
  /** Stable machine-readable code, e.g. `AW_AGENT_ERROR` (see the README's error catalog). */
  code: string;
}

/** How a finished step ended. */
export type StepOutcome = 'complete' | 'error';

/** A run has started; always `seq` 1. */
export interface RunStartedEvent {
  type: 'run.started';
  runId: string;
  agent: string;
  input: unknown;
}

/** A step (a unit of agent work shown as an accordion) has started. */
export interface StepStartedEvent {
  type: 'step.started';
  stepId: string;
  /** The enclosing step, for nested steps. */
  parentId?: string;
  title: string;
  /** Free-form kind: `agent`, `thought`, `tool`, `search`, … */
  kind?: string;
}

/** One line of a step's body. */
export interface StepLogEvent {
  type: 'step.log';
  stepId: string;
  text: string;
}

/** A running step's title changed. */
export interface StepUpdatedEvent {
  type: 'step.updated';
  stepId: string;
  title: string;
}

/** A step has ended. */
export interface StepFinishedEvent {
  type: 'step.finished';
  stepId: string;
  status: StepOutcome;
  error?: ErrorInfo;
}

/** A piece of text: without `stepId` it is the final answer, with one it is text inside that step. */
export interface TextDeltaEvent {
  type: 'text.delta';
  text: string;
  stepId?: string;
}

/** The agent called a tool. */
export interface ToolCallEvent {
  type: 'tool.call';
  callId: string;
  stepId?: string;
  name: string;
  args: unknown;
}

/** A tool call returned (or failed). */
export interface ToolResultEvent {
  type: 'tool.result';
  callId: string;
  result?: unknown;
  error?: ErrorInfo;
}

/** A transient status line ("Searching vector index…"). */
export interface StatusEvent {
  type: 'status';
  message: string;
}

/** Application data, opaque to agentwire. */
export interface DataEvent {
  type: 'data';
  name: string;
  value: unknown;
}

/** The reduced state as of this `seq`, sent to a subscriber whose events were evicted from the log. */
export interface RunSnapshotEvent {
  type: 'run.snapshot';
  state: RunState;
}

/** Token usage reported by an agent. */
export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
}

/** The run completed. Terminal. */
export interface RunFinishedEvent {
  type: 'run.finished';
  output?: unknown;
  usage?: Usage;
}

/** The run failed. Terminal. */
export interface RunFailedEvent {
  type: 'run.failed';
  error: ErrorInfo;
}

/** The run was cancelled. Terminal. */
export interface RunCancelledEvent {
  type: 'run.cancelled';
  reason: string;
}

/** Any event body, before the runner stamps `seq` and `at`. */
export type EventBody =
  | RunStartedEvent
  | StepStartedEvent
  | StepLogEvent
  | StepUpdatedEvent
  | StepFinishedEvent
  | TextDeltaEvent
  | ToolCallEvent
  | ToolResultEvent
  | StatusEvent
  | DataEvent
  | RunSnapshotEvent
  | RunFinishedEvent
  | RunFailedEvent
  | RunCancelledEvent;

/** The fields the runner stamps on every event. */
export interface EventStamp {
  /** 1, 2, 3… per run, no gaps. */
  seq: number;
  /** Epoch milliseconds when the runner recorded the event. */
  at: number;
}

/** Distributes the stamp over a union so narrowing by `type` keeps working. */
type Stamped<T> = T extends EventBody ? T & EventStamp : never;

/** An event as it is stored and sent: a body plus `seq` and `at`. */
export type AgentEvent = Stamped<EventBody>;

/** Every event type name. */
export type EventType = EventBody['type'];

/** The event with a given type name. */
export type EventOf<T extends EventType> = Extract<AgentEvent, { type: T }>;

/** The event bodies an agent may yield (the runner emits `run.*` itself). */
export type AgentYield = Exclude<EventBody, RunStartedEvent | RunSnapshotEvent | RunFinishedEvent | RunFailedEvent | RunCancelledEvent>;

/** The three terminal event types. */
export const TERMINAL_TYPES: ReadonlySet<EventType> = new Set(['run.finished', 'run.failed', 'run.cancelled']);

/** True for `run.finished`, `run.failed` and `run.cancelled`. */
export function isTerminalType(type: string): boolean {
  return TERMINAL_TYPES.has(type as EventType);
}

/** Every event type name, in contract order. */
export const EVENT_TYPES: readonly EventType[] = [
  'run.started',
  'step.started',
  'step.log',
  'step.updated',
  'step.finished',
  'text.delta',
  'tool.call',
  'tool.result',
  'status',
  'data',
  'run.snapshot',
  'run.finished',
  'run.failed',
  'run.cancelled',
];
