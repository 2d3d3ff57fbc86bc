/**
 * Step scopes: the helpers an agent uses to open (nested) steps, write step logs and text, call
 * tools and report status. Each helper is used with `yield` (plain events) or `yield*` (steps and
 * tools, which yield their start and end events around the work and return its result).
 *
 * @module
 */
import type {
  DataEvent,
  ErrorInfo,
  StatusEvent,
  StepLogEvent,
  StepUpdatedEvent,
  TextDeltaEvent,
} from '../protocol/events.js';
import type { AgentItem } from './agent.js';

/** The body of a step: an async generator (or iterable) of items, or a plain async function. */
export type StepBody<T> =
  | ((step: StepScope) => AsyncGenerator<AgentItem, T, undefined>)
  | ((step: StepScope) => Generator<AgentItem, T, undefined>)
  | ((step: StepScope) => Promise<T> | T);

/** Options for {@link StepScope.step}. */
export interface StepOptions {
  title: string;
  /** `agent`, `thought`, `tool`, `search`, … (the viewer picks an icon). */
  kind?: string;
}

/** Helpers bound to a step (or, for the context, to the run's top level). */
export interface StepScope {
  /** The step's id; `undefined` at the top level. */
  readonly stepId: string | undefined;
  /**
   * Runs `body` as a step nested in this scope: yields `step.started`, the body's items, then
   * `step.finished` (`error` if the body throws, and the error is re-thrown). Returns the body's
   * return value. Use with `yield*`.
   */
  step<T>(title: string | StepOptions, body: StepBody<T>): AsyncGenerator<AgentItem, T, undefined>;
  /**
   * Calls a tool: yields `tool.call`, awaits `run(signal)`, yields `tool.result` (or its error, re-thrown)
   * and returns the result. Use with `yield*`.
   */
  tool<T>(name: string, args: unknown, run: (signal: AbortSignal) => Promise<T> | T): AsyncGenerator<AgentItem, T, undefined>;
  /** A `step.log` line in this step. At the top level it becomes a `status` line. */
  log(text: string): StepLogEvent | StatusEvent;
  /** A `text.delta` in this step (thought text); at the top level, answer text. */
  text(text: string): TextDeltaEvent;
  /** Renames this step (`step.updated`). At the top level it becomes a `status` line. */
  update(title: string): StepUpdatedEvent | StatusEvent;
  /** A transient `status` line. */
  status(message: string): StatusEvent;
  /** An application `data` event. */
  data(name: string, value: unknown): DataEvent;
}

/** What a scope needs from its run. */
export interface ScopeHost {
  readonly signal: AbortSignal;
  nextId(prefix: 's' | 'c'): string;
  /** Turns a thrown value into the error shown to users. */
  toErrorInfo(error: unknown): ErrorInfo;
}

/** Creates the helpers for the scope of `stepId` (`undefined`: the top level). */
export function createScope(host: ScopeHost, stepId: string | undefined): StepScope {
  return new Scope(host, stepId);
}

const status = (message: string): StatusEvent => ({ type: 'status', message });
const data = (name: string, value: unknown): DataEvent => ({ type: 'data', name, value });
const topLevelText = (text: string): TextDeltaEvent => ({ type: 'text.delta', text });

/**
 * A scope's helpers. They are getters that return plain functions, so `scope.log(…)` and
 * `const { log } = scope` both work; a helper that depends on the scope is made the first time it
 * is read, and the top level's text helpers are the same functions for every run, so a scope costs
 * one small object plus the helpers its agent uses. Its state is in plain (TypeScript-private)
 * properties, not `#private` ones, so a context wrapped with `Object.create(scope)` still works.
 */
export class Scope implements StepScope {
  readonly stepId: string | undefined;
  private readonly _host: ScopeHost;
  private _step: StepScope['step'] | undefined;
  private _tool: StepScope['tool'] | undefined;
  private _log: ((text: string) => StepLogEvent) | undefined;
  private _text: ((text: string) => TextDeltaEvent) | undefined;
  private _update: ((title: string) => StepUpdatedEvent) | undefined;

  constructor(host: ScopeHost, stepId: string | undefined) {
    this._host = host;
    this.stepId = stepId;
  }

  get step(): StepScope['step'] {
    return (this._step ??= (title, body) => runStep(this._host, this.stepId, typeof title === 'string' ? { title } : title, body));
  }

  get tool(): StepScope['tool'] {
    return (this._tool ??= (name, args, run) => runTool(this._host, this.stepId, name, args, run));
  }

  get log(): StepScope['log'] {
    const { stepId } = this;
    if (stepId === undefined) return status;
    return (this._log ??= (text) => ({ type: 'step.log', stepId, text }));
  }

  get text(): StepScope['text'] {
    const { stepId } = this;
    if (stepId === undefined) return topLevelText;
    return (this._text ??= (text) => ({ type: 'text.delta', text, stepId }));
  }

  get update(): StepScope['update'] {
    const { stepId } = this;
    if (stepId === undefined) return status;
    return (this._update ??= (title) => ({ type: 'step.updated', stepId, title }));
  }

  get status(): StepScope['status'] {
    return status;
  }

  get data(): StepScope['data'] {
    return data;
  }
}

async function* runStep<T>(
  host: ScopeHost,
  parentId: string | undefined,
  options: StepOptions,
  body: StepBody<T>,
): AsyncGenerator<AgentItem, T, undefined> {
  const stepId = host.nextId('s');
  // Keys in the schema's order, so the runner's fast check (`acceptCanonicalYield`) takes the
  // event as it is and the log's JSON has the same key order as a hand-written event's.
  yield {
    type: 'step.started',
    stepId,
    ...(parentId === undefined ? {} : { parentId }),
    title: options.title,
    ...(options.kind === undefined ? {} : { kind: options.kind }),
  };
  let result: T;
  try {
    const produced = body(createScope(host, stepId));
    result = (isIterable(produced) ? yield* produced : await produced) as T;
  } catch (error) {
    yield { type: 'step.finished', stepId, status: 'error', error: host.toErrorInfo(error) };
    throw error;
  }
  yield { type: 'step.finished', stepId, status: 'complete' };
  return result;
}

async function* runTool<T>(
  host: ScopeHost,
  stepId: string | undefined,
  name: string,
  args: unknown,
  run: (signal: AbortSignal) => Promise<T> | T,
): AsyncGenerator<AgentItem, T, undefined> {
  const callId = host.nextId('c');
  yield { type: 'tool.call', callId, ...(stepId === undefined ? {} : { stepId }), name, args };
  let result: T;
  try {
    result = await run(host.signal);
  } catch (error) {
    yield { type: 'tool.result', callId, error: host.toErrorInfo(error) };
    throw error;
  }
  yield { type: 'tool.result', callId, result };
  return result;
}

function isIterable<T>(value: unknown): value is AsyncGenerator<AgentItem, T, undefined> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (Symbol.asyncIterator in value || Symbol.iterator in value) &&
    typeof (value as { next?: unknown }).next === 'function'
  );
}
