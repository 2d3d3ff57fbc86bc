/**
 * `agentwire/protocol`: the event types, the run state a snapshot carries, their validation and
 * their SSE encoding. Browser-safe.
 *
 * @module
 */
export type {
  AgentEvent,
  AgentYield,
  DataEvent,
  ErrorInfo,
  EventBody,
  EventOf,
  EventStamp,
  EventType,
  RunCancelledEvent,
  RunFailedEvent,
  RunFinishedEvent,
  RunSnapshotEvent,
  RunStartedEvent,
  StatusEvent,
  StepFinishedEvent,
  StepLogEvent,
  StepOutcome,
  StepStartedEvent,
  StepUpdatedEvent,
  TextDeltaEvent,
  ToolCallEvent,
  ToolResultEvent,
  Usage,
} from './events.js';
export { EVENT_TYPES, TERMINAL_TYPES, isTerminalType } from './events.js';
export type { RunState, RunStatus, StepState, StepStatus, ToolCallState, ToolCallStatus, Truncation } from './run-state.js';
export type { ErrorCode } from './errors.js';
export { AgentwireError, ERROR_CODES, errorBody, isAgentwireError } from './errors.js';
export { SSE_HEARTBEAT, encodeSseComment, encodeSseDataFrames, encodeSseEvent, encodeSseFrame, encodeSseRetry } from './sse.js';
export type { StartRunBody, YieldCheck } from './validate.js';
export { agentYieldSchema, parseCursor, startRunBodySchema, validateAgentYield } from './validate.js';
export type { AgUiEvent } from './formats/ag-ui.js';
export { AgUiEncoder } from './formats/ag-ui.js';
export type { AiSdkChunk } from './formats/ai-sdk.js';
export { AI_SDK_DONE_FRAME, AI_SDK_STREAM_HEADERS, AiSdkEncoder } from './formats/ai-sdk.js';
