/**
 * The reduced state of a run: what a viewer shows. Built by {@link reduce} from the event log; the
 * same code runs in browsers and in the gateway (`GET /api/runs/:id`, snapshots for late joiners).
 *
 * @module
 */
import type { ErrorInfo, Usage } from '../protocol/events.js';

/** Where a run is in its life. `idle` before `run.started` has been seen. */
export type RunStatus = 'idle' | 'running' | 'finished' | 'failed' | 'cancelled';

/** Where a step is in its life. `cancelled` when the run was cancelled while it was open. */
export type StepStatus = 'running' | 'complete' | 'error' | 'cancelled';

/** One step of a run. */
export interface StepState {
  id: string;
  parentId: string | undefined;
  title: string;
  kind: string | undefined;
  status: StepStatus;
  /** Epoch ms of `step.started`. */
  startedAt: number;
  /** Epoch ms of `step.finished`, once finished. */
  endedAt: number | undefined;
  /** The step's log lines, in order. */
  logs: string[];
  /** Text streamed into the step (`text.delta` with this `stepId`). */
  text: string;
  /** Child step ids, in the order they started. */
  childIds: string[];
  /** Tool call ids made inside this step, in order. */
  toolCallIds: string[];
  error: ErrorInfo | undefined;
  /** `seq` of the `step.started` event. */
  seq: number;
  /**
   * Present when a server bounded the state (see {@link RunState.truncated}): how many of the
   * step's oldest characters are not in `text`, and of its oldest lines not in `logs`.
   */
  truncated?: Truncation;
}

/**
 * What a server left out of a state to keep it within its bound: the oldest characters of the
 * answer or of a step's text, and the oldest step log lines. What is kept is the newest.
 */
export interface Truncation {
  /** Characters of the oldest answer text (on a step: of its text) not kept. */
  textChars: number;
  /** Oldest log lines not kept (on a run: over all its steps). */
  logLines: number;
  /** On a run: steps not kept (the oldest finished ones, with their children), absent when none. */
  steps?: number;
  /** On a run: tool calls not kept (the oldest, with a result first), absent when none. */
  toolCalls?: number;
  /** On a run: `data` names not kept (those set least recently), absent when none. */
  data?: number;
}

/** Where a tool call is in its life. */
export type ToolCallStatus = 'running' | 'complete' | 'error' | 'cancelled';

/** One tool call. */
export interface ToolCallState {
  id: string;
  stepId: string | undefined;
  name: string;
  args: unknown;
  status: ToolCallStatus;
  result: unknown;
  error: ErrorInfo | undefined;
  startedAt: number;
  endedAt: number | undefined;
}

/** The whole reduced state of one run. Treat as immutable: {@link reduce} returns new objects. */
export interface RunState {
  runId: string | undefined;
  agent: string | undefined;
  input: unknown;
  status: RunStatus;
  /** `seq` of the last event folded in (0 before any). */
  lastSeq: number;
  startedAt: number | undefined;
  endedAt: number | undefined;
  /** Every step by id. */
  steps: Record<string, StepState>;
  /** Top-level step ids, in the order they started. */
  rootStepIds: string[];
  /** Every tool call by id. */
  toolCalls: Record<string, ToolCallState>;
  /** Tool calls made outside any step, in order. */
  rootToolCallIds: string[];
  /** The final answer so far (`text.delta` without `stepId`). */
  text: string;
  /** The latest `status` line, cleared when the run ends. */
  statusMessage: string | undefined;
  /** The latest value of each `data` name. */
  data: Record<string, unknown>;
  output: unknown;
  usage: Usage | undefined;
  error: ErrorInfo | undefined;
  cancelReason: string | undefined;
  /** Epoch ms of the first answer `text.delta`. */
  firstTokenAt: number | undefined;
  /**
   * Present only when the server that folded the state bounded it (the gateway keeps a run's whole
   * footprint within `maxBytesPerRun`): `text` then lacks its first `textChars` characters and the
   * steps' `logs` lack `logLines` lines in all (each step says how many of its own, and how many
   * characters of its `text`). A state without it is complete.
   */
  truncated?: Truncation;
}

/** The state before any event. */
export function initialRunState(): RunState {
  return {
    runId: undefined,
    agent: undefined,
    input: undefined,
    status: 'idle',
    lastSeq: 0,
    startedAt: undefined,
    endedAt: undefined,
    steps: {},
    rootStepIds: [],
    toolCalls: {},
    rootToolCallIds: [],
    text: '',
    statusMessage: undefined,
    data: {},
    output: undefined,
    usage: undefined,
    error: undefined,
    cancelReason: undefined,
    firstTokenAt: undefined,
  };
}
