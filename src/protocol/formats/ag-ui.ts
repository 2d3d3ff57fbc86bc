/**
 * The AG-UI encoding of a run: the same log, as the event stream AG-UI clients (CopilotKit and
 * others) consume. Stateful per stream: it opens and closes AG-UI messages around agentwire's
 * deltas, names steps by their path (AG-UI steps do not nest), and re-opens what was open when a
 * stream resumes mid-run.
 *
 * | agentwire | AG-UI |
 * |---|---|
 * | `run.started` | `RUN_STARTED` (`threadId` = `runId`) |
 * | `step.started` / `step.finished` | `STEP_STARTED` / `STEP_FINISHED`, `stepName` = "Parent › Child"; an error also sends `CUSTOM agentwire.step.error` |
 * | `step.log`, `step.updated`, `status` | `CUSTOM` `agentwire.step.log`, `agentwire.step.updated`, `agentwire.status` |
 * | `text.delta` (answer) | `TEXT_MESSAGE_START` / `_CONTENT` / `_END` (a message closes before any other event; its id: run id, `-message-`, the `seq` of its first delta) |
 * | `text.delta` in a step | `REASONING_START`, `REASONING_MESSAGE_START` / `_CONTENT` / `_END`, `REASONING_END` |
 * | `tool.call` | `TOOL_CALL_START`, `TOOL_CALL_ARGS` (the JSON arguments), `TOOL_CALL_END` |
 * | `tool.result` | `TOOL_CALL_RESULT` (content: the result as JSON text, or `error: message`) |
 * | `data` | `CUSTOM` with the data's name and value |
 * | `run.snapshot` | `STATE_SNAPSHOT` of the reduced state |
 * | `run.finished` / `run.cancelled` | `RUN_FINISHED` with outcome `success` (result = output) / `cancelled` |
 * | `run.failed` | `RUN_ERROR` with message and code |
 *
 * @see https://docs.ag-ui.com/concepts/events
 * @module
 */
import type { AgentEvent } from '../events.js';
import type { RunState, StepState } from '../run-state.js';

/** One AG-UI event (the subset agentwire emits), as plain JSON. */
export type AgUiEvent = { type: string } & Record<string, unknown>;

interface OpenText {
  kind: 'text' | 'reasoning';
  messageId: string;
}

/** Turns agentwire events into AG-UI events, one stream at a time. */
export class AgUiEncoder {
  readonly #runId: string;
  readonly #stepNames = new Map<string, string>();
  readonly #openStepNames = new Set<string>();
  #open: OpenText | undefined;

  constructor(runId: string) {
    this.#runId = runId;
  }

  /**
   * An encoder for a stream that resumes where `state` stands (its `lastSeq`), without replaying the
   * events before: the steps it knows are the state's, named by their current titles, the running
   * ones open. No message is open: a resumed stream's next text starts a message of its own.
   * Follow with {@link AgUiEncoder.resume} of the same state.
   */
  static fromState(runId: string, state: RunState): AgUiEncoder {
    const encoder = new AgUiEncoder(runId);
    const steps = Object.values(state.steps).sort((a, b) => a.seq - b.seq);
    for (const step of steps) encoder.#name(step.id, step.parentId, step.title, step.status === 'running');
    return encoder;
  }

  /** The AG-UI events for one agentwire event. */
  encode(event: AgentEvent): AgUiEvent[] {
    const out: AgUiEvent[] = [];
    const isText = event.type === 'text.delta';
    if (!isText || (this.#open && this.#open.kind !== (event.stepId === undefined ? 'text' : 'reasoning'))) this.#close(out);
    switch (event.type) {
      case 'run.started':
        out.push({ type: 'RUN_STARTED', threadId: this.#runId, runId: this.#runId });
        break;
      case 'step.started':
        out.push({ type: 'STEP_STARTED', stepName: this.#name(event.stepId, event.parentId, event.title, true) });
        break;
      case 'step.finished': {
        const name = this.#stepNames.get(event.stepId) ?? event.stepId;
        if (event.status === 'error') out.push(custom('agentwire.step.error', { stepId: event.stepId, stepName: name, error: event.error }));
        this.#openStepNames.delete(name);
        out.push({ type: 'STEP_FINISHED', stepName: name });
        break;
      }
      case 'step.log':
        out.push(custom('agentwire.step.log', { stepId: event.stepId, stepName: this.#stepNames.get(event.stepId), text: event.text }));
        break;
      case 'step.updated':
        out.push(custom('agentwire.step.updated', { stepId: event.stepId, stepName: this.#stepNames.get(event.stepId), title: event.title }));
        break;
      case 'text.delta': {
        if (event.text === '') break;
        const kind = event.stepId === undefined ? 'text' : 'reasoning';
        if (!this.#open) {
          const messageId = `${this.#runId}-${kind === 'text' ? 'message' : 'reasoning'}-${event.seq}`;
          this.#open = { kind, messageId };
          if (kind === 'text') out.push({ type: 'TEXT_MESSAGE_START', messageId, role: 'assistant' });
          else out.push({ type: 'REASONING_START', messageId }, { type: 'REASONING_MESSAGE_START', messageId, role: 'reasoning' });
        }
        out.push({ type: kind === 'text' ? 'TEXT_MESSAGE_CONTENT' : 'REASONING_MESSAGE_CONTENT', messageId: this.#open.messageId, delta: event.text });
        break;
      }
      case 'tool.call':
        out.push(
          { type: 'TOOL_CALL_START', toolCallId: event.callId, toolCallName: event.name },
          { type: 'TOOL_CALL_ARGS', toolCallId: event.callId, delta: JSON.stringify(event.args ?? {}) },
          { type: 'TOOL_CALL_END', toolCallId: event.callId },
        );
        break;
      case 'tool.result':
        out.push({
          type: 'TOOL_CALL_RESULT',
          messageId: `${event.callId}-result`,
          toolCallId: event.callId,
          role: 'tool',
          content: event.error ? `error: ${event.error.message}` : typeof event.result === 'string' ? event.result : JSON.stringify(event.result ?? null),
        });
        break;
      case 'status':
        out.push(custom('agentwire.status', { message: event.message }));
        break;
      case 'data':
        out.push(custom(event.name, event.value));
        break;
      case 'run.snapshot':
        out.push({ type: 'STATE_SNAPSHOT', snapshot: event.state });
        break;
      case 'run.finished':
        out.push({ type: 'RUN_FINISHED', threadId: this.#runId, runId: this.#runId, outcome: { type: 'success' }, ...(event.output === undefined ? {} : { result: event.output }) });
        break;
      case 'run.cancelled':
        out.push({ type: 'RUN_FINISHED', threadId: this.#runId, runId: this.#runId, outcome: { type: 'cancelled' } });
        break;
      case 'run.failed':
        out.push({ type: 'RUN_ERROR', message: event.error.message, code: event.error.code });
        break;
    }
    return out;
  }

  /**
   * The events that put a client joining mid-run in the encoder's current state: `RUN_STARTED`,
   * a `STATE_SNAPSHOT` of what it missed, then `STEP_STARTED` for each open step and a start for
   * an open message (call after encoding the missed events and discarding their output).
   */
  resume(state: unknown): AgUiEvent[] {
    const out: AgUiEvent[] = [{ type: 'RUN_STARTED', threadId: this.#runId, runId: this.#runId }, { type: 'STATE_SNAPSHOT', snapshot: state }];
    for (const name of this.#openStepNames) out.push({ type: 'STEP_STARTED', stepName: name });
    if (this.#open?.kind === 'text') out.push({ type: 'TEXT_MESSAGE_START', messageId: this.#open.messageId, role: 'assistant' });
    if (this.#open?.kind === 'reasoning') {
      out.push({ type: 'REASONING_START', messageId: this.#open.messageId }, { type: 'REASONING_MESSAGE_START', messageId: this.#open.messageId, role: 'reasoning' });
    }
    return out;
  }

  /** Names a step by its path ("Parent › Child"), unique among the open steps; `open`: it is one of them. */
  #name(stepId: string, parentId: StepState['parentId'], title: string, open: boolean): string {
    const parent = parentId === undefined ? undefined : this.#stepNames.get(parentId);
    let name = parent === undefined ? title : `${parent} › ${title}`;
    if (this.#openStepNames.has(name)) name = `${name} (${stepId})`;
    this.#stepNames.set(stepId, name);
    if (open) this.#openStepNames.add(name);
    return name;
  }

  #close(out: AgUiEvent[]): void {
    if (!this.#open) return;
    const { kind, messageId } = this.#open;
    this.#open = undefined;
    if (kind === 'text') out.push({ type: 'TEXT_MESSAGE_END', messageId });
    else out.push({ type: 'REASONING_MESSAGE_END', messageId }, { type: 'REASONING_END', messageId });
  }
}

function custom(name: string, value: unknown): AgUiEvent {
  return { type: 'CUSTOM', name, value };
}

