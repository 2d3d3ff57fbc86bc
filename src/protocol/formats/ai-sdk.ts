/**
 * The AI SDK UI message stream encoding of a run, so an unmodified `useChat` front end can talk to
 * an agentwire agent. Stateful per stream.
 *
 * | agentwire | AI SDK UI message stream |
 * |---|---|
 * | `run.started` | `start` (`messageId` = run id), `start-step` |
 * | `step.*` | `data-step` parts, one per step id, re-sent whole on each change (`useChat` reconciles by id): `{ title, kind, parentId, status, logs, error }` |
 * | `text.delta` (answer) | `text-start` / `text-delta` / `text-end`, one text part |
 * | `text.delta` in a step | `reasoning-start` / `reasoning-delta` / `reasoning-end`, id = step id |
 * | `tool.call` | `tool-input-available` |
 * | `tool.result` | `tool-output-available`, or `tool-output-error` |
 * | `status` | a transient `data-status` |
 * | `data` | `data-<name>` |
 * | `run.finished` | `finish-step`, `finish` (`messageMetadata`: `{ output, usage }`) |
 * | `run.failed` | `error` (`errorText`: message and code) |
 * | `run.cancelled` | `abort` (`reason`) |
 *
 * The stream ends with `data: [DONE]`.
 *
 * @see https://ai-sdk.dev/docs/ai-sdk-ui/stream-protocol
 * @module
 */
import type { AgentEvent, ErrorInfo } from '../events.js';
import type { RunState } from '../run-state.js';

/** One UI message stream chunk, as plain JSON. */
export type AiSdkChunk = { type: string } & Record<string, unknown>;

/** The header that marks a UI message stream. */
export const AI_SDK_STREAM_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'x-vercel-ai-ui-message-stream': 'v1' });

/** The frame that ends a UI message stream. */
export const AI_SDK_DONE_FRAME = 'data: [DONE]\n\n';

interface StepData {
  title: string;
  kind: string | undefined;
  parentId: string | undefined;
  status: 'running' | 'complete' | 'error';
  logs: string[];
  error: ErrorInfo | undefined;
}

/** Turns agentwire events into AI SDK UI message stream chunks, one stream at a time. */
export class AiSdkEncoder {
  readonly #steps = new Map<string, StepData>();
  readonly #openReasoning = new Set<string>();
  #textId: string | undefined;
  #texts = 0;
  readonly #runId: string;

  constructor(runId: string) {
    this.#runId = runId;
  }

  /**
   * An encoder for a stream that resumes where `state` stands (its `lastSeq`), without replaying the
   * events before: the same encoder the replay would leave (its steps, open reasoning and answer
   * text part), built from the state.
   */
  static fromState(runId: string, state: RunState): AiSdkEncoder {
    const encoder = new AiSdkEncoder(runId);
    const running = state.status === 'running' || state.status === 'idle';
    for (const step of Object.values(state.steps).sort((a, b) => a.seq - b.seq)) {
      const status = step.status === 'running' ? 'running' : step.status === 'complete' ? 'complete' : 'error';
      encoder.#steps.set(step.id, { title: step.title, kind: step.kind, parentId: step.parentId, status, logs: [...step.logs], error: step.error });
      if (running && step.status === 'running' && step.text !== '') encoder.#openReasoning.add(step.id);
    }
    if (running && (state.text !== '' || (state.truncated?.textChars ?? 0) > 0)) encoder.#textId = `${runId}-text-${++encoder.#texts}`;
    return encoder;
  }

  /** The chunks for one agentwire event. */
  encode(event: AgentEvent): AiSdkChunk[] {
    switch (event.type) {
      case 'run.started':
        return [{ type: 'start', messageId: this.#runId }, { type: 'start-step' }];
      case 'step.started':
        this.#steps.set(event.stepId, { title: event.title, kind: event.kind, parentId: event.parentId, status: 'running', logs: [], error: undefined });
        return [this.#stepChunk(event.stepId)];
      case 'step.log':
        return this.#updateStep(event.stepId, (step) => step.logs.push(event.text));
      case 'step.updated':
        return this.#updateStep(event.stepId, (step) => {
          step.title = event.title;
        });
      case 'step.finished': {
        const out: AiSdkChunk[] = [];
        if (this.#openReasoning.delete(event.stepId)) out.push({ type: 'reasoning-end', id: event.stepId });
        out.push(
          ...this.#updateStep(event.stepId, (step) => {
            step.status = event.status;
            step.error = event.error;
          }),
        );
        return out;
      }
      case 'text.delta': {
        if (event.text === '') return [];
        if (event.stepId !== undefined) {
          const out: AiSdkChunk[] = [];
          if (!this.#openReasoning.has(event.stepId)) {
            this.#openReasoning.add(event.stepId);
            out.push({ type: 'reasoning-start', id: event.stepId });
          }
          out.push({ type: 'reasoning-delta', id: event.stepId, delta: event.text });
          return out;
        }
        const out: AiSdkChunk[] = [];
        if (this.#textId === undefined) {
          this.#textId = `${this.#runId}-text-${++this.#texts}`;
          out.push({ type: 'text-start', id: this.#textId });
        }
        out.push({ type: 'text-delta', id: this.#textId, delta: event.text });
        return out;
      }
      case 'tool.call':
        return [{ type: 'tool-input-available', toolCallId: event.callId, toolName: event.name, input: event.args ?? {} }];
      case 'tool.result':
        return event.error
          ? [{ type: 'tool-output-error', toolCallId: event.callId, errorText: `${event.error.message} (${event.error.code})` }]
          : [{ type: 'tool-output-available', toolCallId: event.callId, output: event.result ?? null }];
      case 'status':
        return [{ type: 'data-status', data: { message: event.message }, transient: true }];
      case 'data':
        return [{ type: `data-${event.name}`, data: event.value }];
      case 'run.snapshot':
        return [{ type: 'data-snapshot', data: event.state }];
      case 'run.finished':
        return [
          ...this.#closeAll(),
          { type: 'finish-step' },
          {
            type: 'finish',
            finishReason: 'stop',
            messageMetadata: { ...(event.output === undefined ? {} : { output: event.output }), ...(event.usage === undefined ? {} : { usage: event.usage }) },
          },
        ];
      case 'run.failed':
        return [...this.#closeAll(), { type: 'error', errorText: `${event.error.message} (${event.error.code})` }];
      case 'run.cancelled':
        return [...this.#closeAll(), { type: 'abort', reason: event.reason }];
    }
  }

  #stepChunk(stepId: string): AiSdkChunk {
    const step = this.#steps.get(stepId) as StepData;
    return { type: 'data-step', id: stepId, data: { ...step, logs: [...step.logs] } };
  }

  #updateStep(stepId: string, update: (step: StepData) => void): AiSdkChunk[] {
    const step = this.#steps.get(stepId);
    if (!step) return [];
    update(step);
    return [this.#stepChunk(stepId)];
  }

  #closeAll(): AiSdkChunk[] {
    const out: AiSdkChunk[] = [...this.#openReasoning].map((id) => ({ type: 'reasoning-end', id }));
    this.#openReasoning.clear();
    if (this.#textId !== undefined) out.push({ type: 'text-end', id: this.#textId });
    this.#textId = undefined;
    return out;
  }
}

