/**
 * {@link RunFold}: the reducer as a mutable builder, for a log that folds every event as it is
 * appended (the gateway's store) or a long list at once ({@link reduceAll}). Each event costs O(1)
 * amortised, however many steps, logs or calls the run has: the builder edits its own draft in
 * place, and copies a part (a step, its logs, the steps record) only the first time it edits it
 * after a state was handed out, so a handed-out state never changes and shares every part the
 * builder has not touched since. Handing out itself costs one shallow copy of the top object.
 *
 * It can also bound the state it builds ({@link RunFoldLimits}): the oldest answer text, step text
 * and step log lines are dropped, and counted in `truncated`, so a state kept by a server for the
 * life of a run stays within a size whatever the run streams.
 *
 * Browser-safe: no `node:*` import.
 *
 * @module
 */
import type { AgentEvent } from '../protocol/events.js';
import { finishedStatus, newStep, newToolCall, own } from './new-parts.js';
import { jsonLength, PartLedger } from './part-ledger.js';
import { initialRunState, type RunState, type StepState, type ToolCallState, type Truncation } from '../protocol/run-state.js';

/** Bounds of the state a {@link RunFold} builds (none by default). */
export interface RunFoldLimits {
  /**
   * Most characters of answer text kept. Past it, the oldest are dropped down to 3/4 of it (so a
   * long answer is cut once per quarter, not per token) and counted in `truncated.textChars`.
   */
  maxTextChars?: number;
  /**
   * Most characters of step log lines and step text kept, over all steps. Past it, the run's oldest
   * lines and text are dropped down to 3/4 of it, and counted in the step's `truncated` (`logLines`,
   * `textChars`) and in the run's `truncated.logLines`.
   */
  maxStepChars?: number;
  /**
   * Most bytes (estimated as JSON, log lines and text aside) of steps kept. Past it, the oldest
   * finished steps are dropped with their children and tool calls, down to 3/4 of it; when open
   * steps alone pass it, the oldest open ones without kept children go too (the newest step is
   * always kept). Counted in `truncated.steps`; later events of a dropped step are ignored.
   */
  maxStepBytes?: number;
  /**
   * Most bytes (estimated as JSON: name, args, result; from the events' JSON when {@link RunFold.add}
   * is given its length, counting a few bytes of envelope) of tool calls kept. Past it, the oldest calls
   * with a result (or cancelled) are dropped down to 3/4 of it, then the oldest running ones (the
   * newest call is always kept). Counted in `truncated.toolCalls`.
   */
  maxToolCallBytes?: number;
  /**
   * Most bytes (estimated as JSON; from the events' JSON when {@link RunFold.add} is given its length,
   * counting a few bytes of envelope) of `data` values kept, the latest value of each name. Past it,
   * the names set least recently are dropped down to 3/4 of it (the newest is always kept).
   * Counted in `truncated.data`.
   */
  maxDataBytes?: number;
}

/** See the module comment. */
export class RunFold {
  /** What the next event edits; never handed out (its top object is copied at hand-out). */
  #draft: RunState;
  /** The state handed out last (or given), returned again while nothing changed. */
  #handed: RunState;
  #dirty = false;
  /** Parts of the draft created since the last hand-out: edited in place; any other is copied first. */
  readonly #owned = new Set<object>();
  /**
   * The draft's `data` record while it is owned (in `#owned` too): a run that sets a value per event
   * is told so by one comparison, with no lookup in `#owned`.
   */
  #ownedData: Record<string, unknown> | undefined = undefined;
  readonly #maxText: number;
  readonly #maxStep: number;
  /**
   * What the steps keep, oldest first from `#keptHead` (only with a step bound): per log line or run
   * of text deltas, its step, its length and whether it is text.
   */
  #keptSteps: string[] = [];
  #keptLengths: number[] = [];
  #keptTexts: boolean[] = [];
  #keptHead = 0;
  #keptChars = 0;
  /**
   * The steps, tool calls and data names kept, oldest first, with their sizes (only with their
   * bounds): each made when the first part of its kind is added, as most runs have few kinds.
   */
  #stepParts: PartLedger | undefined = undefined;
  #callParts: PartLedger | undefined = undefined;
  #dataParts: PartLedger | undefined = undefined;
  readonly #maxStepBytes: number;
  readonly #maxCallBytes: number;
  readonly #maxDataBytes: number;

  /**
   * @param state the state to fold into (the initial state when none is given); never mutated
   * @param limits bounds of the state built (none when not given)
   */
  constructor(state: RunState = initialRunState(), limits: RunFoldLimits = {}) {
    this.#handed = state;
    this.#draft = { ...state };
    this.#maxText = limits.maxTextChars ?? Number.POSITIVE_INFINITY;
    this.#maxStep = limits.maxStepChars ?? Number.POSITIVE_INFINITY;
    this.#maxStepBytes = limits.maxStepBytes ?? Number.POSITIVE_INFINITY;
    this.#maxCallBytes = limits.maxToolCallBytes ?? Number.POSITIVE_INFINITY;
    this.#maxDataBytes = limits.maxDataBytes ?? Number.POSITIVE_INFINITY;
    this.#indexAll();
  }


  /** The state of every event folded so far: the same object until another event changes it. Never mutated afterwards. */
  get state(): RunState {
    if (!this.#dirty) return this.#handed;
    this.#handed = { ...this.#draft };
    this.#owned.clear();
    this.#ownedData = undefined;
    this.#dirty = false;
    return this.#handed;
  }

  /**
   * Folds one more event in: the same result as {@link reduce}, ignoring events at or below the `lastSeq` reached.
   *
   * @param eventJsonLength the length of `event` as JSON (`JSON.stringify(event).length`), when the caller
   *   has it (a store holds each event's JSON): the bounds then estimate the size of a `data` value, a tool
   *   call's args and a tool result from it, less the least its envelope takes, instead of serialising
   *   them again. Such an estimate is never below the one made without it, so the bounds hold either way;
   *   it only counts a few bytes of envelope (the digits of `seq` and `at`, the keys) as the part's.
   */
  add(event: AgentEvent, eventJsonLength?: number): void {
    const draft = this.#draft;
    if (event.type === 'run.snapshot') {
      if (event.seq < draft.lastSeq) return;
      this.#draft = { ...event.state, lastSeq: event.seq };
      this.#owned.clear();
      this.#ownedData = undefined;
      this.#dirty = true;
      this.#indexAll();
      return;
    }
    if (event.seq <= draft.lastSeq) return;
    draft.lastSeq = event.seq;
    this.#dirty = true;
    switch (event.type) {
      case 'run.started':
        draft.runId = event.runId;
        draft.agent = event.agent;
        draft.input = event.input;
        draft.status = 'running';
        draft.startedAt = event.at;
        return;
      case 'step.started': {
        const parent = event.parentId === undefined ? undefined : own(draft.steps, event.parentId);
        const step = newStep(event);
        this.#mine(step.logs);
        this.#mine(step.childIds);
        this.#mine(step.toolCallIds);
        const steps = this.#steps();
        put(steps, step.id, this.#mine(step));
        if (parent) {
          // The parent as it was before this start (the same step when a step names itself its parent).
          const edited = parent.id === step.id ? this.#mine({ ...parent }) : (this.#step(parent.id) as StepState);
          edited.childIds = this.#array(edited.childIds);
          edited.childIds.push(step.id);
          put(steps, edited.id, edited);
        } else {
          draft.rootStepIds = this.#array(draft.rootStepIds);
          draft.rootStepIds.push(step.id);
        }
        (this.#stepParts ??= ledger(this.#maxStepBytes))?.add(step.id, stepCost(step));
        this.#boundSteps();
        return;
      }
      case 'step.log': {
        const step = this.#step(event.stepId);
        if (!step) return;
        step.logs = this.#array(step.logs);
        step.logs.push(event.text);
        if (this.#maxStep !== Number.POSITIVE_INFINITY) this.#kept(step.id, event.text.length, false);
        return;
      }
      case 'step.updated': {
        const step = this.#step(event.stepId);
        if (!step) return;
        step.title = event.title;
        this.#stepParts?.update(step.id, stepCost(step));
        return;
      }
      case 'step.finished': {
        const step = this.#step(event.stepId);
        if (!step) return;
        step.status = finishedStatus(event);
        step.endedAt = event.at;
        step.error = event.error;
        this.#stepParts?.update(step.id, stepCost(step));
        return;
      }
      case 'text.delta':
        if (event.stepId !== undefined) {
          const step = this.#step(event.stepId);
          if (!step) return;
          step.text += event.text;
          if (this.#maxStep !== Number.POSITIVE_INFINITY && event.text !== '') this.#kept(step.id, event.text.length, true);
          return;
        }
        draft.text += event.text;
        draft.firstTokenAt ??= event.at;
        if (draft.text.length > this.#maxText) this.#cutText();
        return;
      case 'tool.call': {
        const call = newToolCall(event);
        put(this.#toolCalls(), call.id, call);
        const step = event.stepId === undefined ? undefined : this.#step(event.stepId);
        if (step) {
          step.toolCallIds = this.#array(step.toolCallIds);
          step.toolCallIds.push(call.id);
        } else {
          draft.rootToolCallIds = this.#array(draft.rootToolCallIds);
          draft.rootToolCallIds.push(call.id);
        }
        (this.#callParts ??= ledger(this.#maxCallBytes))?.add(call.id, eventJsonLength === undefined ? callCost(call) : callCostFromJson(call, eventJsonLength));
        this.#boundCalls();
        return;
      }
      case 'tool.result': {
        const call = own(draft.toolCalls, event.callId);
        if (!call) return;
        const status = event.error ? 'error' : 'complete';
        put(this.#toolCalls(), call.id, { ...call, status, result: event.result, error: event.error, endedAt: event.at });
        const parts = this.#callParts;
        if (parts) {
          const outcome =
            eventJsonLength === undefined
              ? jsonLength(event.result) + jsonLength(event.error)
              : Math.max(0, eventJsonLength - RESULT_ENVELOPE - event.callId.length);
          parts.update(call.id, (parts.cost(call.id) ?? 0) + outcome);
          this.#boundCalls();
        }
        return;
      }
      case 'status':
        draft.statusMessage = event.message;
        return;
      case 'data':
        if (draft.data !== this.#ownedData) this.#ownedData = draft.data = this.#record(draft.data);
        put(draft.data, event.name, event.value);
        if (this.#maxDataBytes !== Number.POSITIVE_INFINITY) {
          const base = 8 + event.name.length;
          const cost = eventJsonLength === undefined ? base + jsonLength(event.value) : Math.max(base, eventJsonLength - DATA_ENVELOPE);
          (this.#dataParts ??= new PartLedger(this.#maxDataBytes)).add(event.name, cost);
          this.#boundData();
        }
        return;
      case 'run.finished':
        this.#endRun(event.at);
        draft.status = 'finished';
        draft.output = event.output;
        draft.usage = event.usage;
        return;
      case 'run.failed':
        this.#endRun(event.at);
        draft.status = 'failed';
        draft.error = event.error;
        return;
      case 'run.cancelled':
        this.#endRun(event.at);
        draft.status = 'cancelled';
        draft.cancelReason = event.reason;
        return;
    }
  }

  /** Ends the run: clears the status line and marks calls still running as cancelled. */
  #endRun(at: number): void {
    const draft = this.#draft;
    for (const call of Object.values(draft.toolCalls)) {
      if (call.status === 'running') put(this.#toolCalls(), call.id, { ...call, status: 'cancelled', endedAt: at });
    }
    draft.statusMessage = undefined;
    draft.endedAt = at;
  }

  /** Drops the oldest answer text down to 3/4 of the bound (never half a surrogate pair). */
  #cutText(): void {
    const draft = this.#draft;
    let cut = draft.text.length - (this.#maxText - (this.#maxText >> 2));
    const code = draft.text.charCodeAt(cut);
    if (code >= 0xdc00 && code <= 0xdfff) cut++;
    draft.text = draft.text.slice(cut);
    const truncated = this.#truncation(draft);
    truncated.textChars += cut;
  }

  /**
   * Records a log line (or text, joined to the step's text just before it) kept by a step, and drops
   * the steps' oldest lines and text down to 3/4 of the bound when they are past it.
   */
  #kept(stepId: string, length: number, text: boolean): void {
    const last = this.#keptSteps.length - 1;
    if (text && last >= this.#keptHead && this.#keptTexts[last] && this.#keptSteps[last] === stepId) {
      this.#keptLengths[last] = (this.#keptLengths[last] as number) + length;
    } else {
      this.#keptSteps.push(stepId);
      this.#keptLengths.push(length);
      this.#keptTexts.push(text);
    }
    this.#keptChars += length;
    if (this.#keptChars > this.#maxStep) this.#dropOldest(this.#maxStep - (this.#maxStep >> 2));
  }

  /** Drops the steps' oldest lines and text until they keep at most `target` characters. */
  #dropOldest(target: number): void {
    const lines = new Map<string, number>();
    const chars = new Map<string, number>();
    while (this.#keptChars > target && this.#keptHead < this.#keptSteps.length) {
      const head = this.#keptHead;
      const id = this.#keptSteps[head] as string;
      const length = this.#keptLengths[head] as number;
      const over = this.#keptChars - target;
      if (this.#keptTexts[head] && length > over) {
        // Text is cut where the bound falls, not dropped whole.
        this.#keptLengths[head] = length - over;
        this.#keptChars -= over;
        chars.set(id, (chars.get(id) ?? 0) + over);
        break;
      }
      this.#keptChars -= length;
      this.#keptHead++;
      if (this.#keptTexts[head]) chars.set(id, (chars.get(id) ?? 0) + length);
      else lines.set(id, (lines.get(id) ?? 0) + 1);
    }
    if (this.#keptHead > this.#keptSteps.length >> 1) {
      this.#keptSteps = this.#keptSteps.slice(this.#keptHead);
      this.#keptLengths = this.#keptLengths.slice(this.#keptHead);
      this.#keptTexts = this.#keptTexts.slice(this.#keptHead);
      this.#keptHead = 0;
    }
    // A step started again under the same id no longer has what was counted for its first life: clamp.
    let dropped = 0;
    for (const [id, count] of lines) {
      const step = this.#step(id);
      const drop = step ? Math.min(count, step.logs.length) : 0;
      if (!step || drop === 0) continue;
      step.logs = this.#mine(step.logs.slice(drop));
      this.#truncation(step).logLines += drop;
      dropped += drop;
    }
    if (dropped > 0) this.#truncation(this.#draft).logLines += dropped;
    for (const [id, count] of chars) {
      const step = this.#step(id);
      if (!step) continue;
      let drop = Math.min(count, step.text.length);
      const code = step.text.charCodeAt(drop);
      if (code >= 0xdc00 && code <= 0xdfff) drop++;
      if (drop === 0) continue;
      step.text = step.text.slice(drop);
      this.#truncation(step).textChars += drop;
    }
  }

  /** Past the steps' bound: drops the oldest finished steps (with their children), then open leaves. */
  #boundSteps(): void {
    const parts = this.#stepParts;
    if (!parts || parts.total <= parts.max) return;
    const target = parts.max - (parts.max >> 2);
    const steps = this.#steps();
    const removed = new Set<string>();
    const calls = new Set<string>();
    const newest = parts.newest;
    for (const finishedOnly of [true, false]) {
      for (const id of parts.oldest()) {
        if (parts.total <= target || parts.size <= 1) break;
        const step = own(steps, id);
        if (!step || removed.has(id) || id === newest) continue;
        if (finishedOnly ? step.status === 'running' : step.childIds.some((child) => own(steps, child)?.parentId === id)) continue;
        this.#dropStep(step, removed, calls);
      }
      if (parts.total <= target) break;
    }
    if (removed.size === 0) return;
    const truncated = this.#truncation(this.#draft);
    truncated.steps = (truncated.steps ?? 0) + removed.size;
    // Unlinked once per cut, so a cut costs the size of what it edits, not that per step dropped.
    this.#draft.rootStepIds = this.#mine(this.#draft.rootStepIds.filter((id) => !removed.has(id)));
    // Any step may list a dropped one (a step started again under its id lists it under another parent).
    for (const step of Object.values(this.#draft.steps)) {
      if (step.childIds.length === 0 || !step.childIds.some((id) => removed.has(id))) continue;
      const edited = this.#step(step.id) as StepState;
      edited.childIds = this.#mine(edited.childIds.filter((id) => !removed.has(id)));
    }
    this.#unlinkCalls(calls);
  }

  /** Drops a step with its descendants and their tool calls (into `removed` and `calls`, unlinked once per cut). */
  #dropStep(root: StepState, removed: Set<string>, calls: Set<string>): void {
    const steps = this.#draft.steps;
    const pending = [root];
    for (let step = pending.pop(); step; step = pending.pop()) {
      removed.add(step.id);
      delete steps[step.id];
      this.#stepParts?.delete(step.id);
      for (const callId of step.toolCallIds) this.#dropCall(callId, calls);
      for (const childId of step.childIds) {
        const child = own(steps, childId);
        if (child && child.parentId === step.id && !removed.has(childId)) pending.push(child);
      }
    }
  }

  /** Past the tool calls' bound: drops the oldest ended calls, then the oldest running ones. */
  #boundCalls(): void {
    const parts = this.#callParts;
    if (!parts || parts.total <= parts.max) return;
    const target = parts.max - (parts.max >> 2);
    const calls = new Set<string>();
    const record = this.#toolCalls();
    for (const endedOnly of [true, false]) {
      for (const id of parts.oldest()) {
        if (parts.total <= target || parts.size <= 1) break;
        const call = own(record, id);
        if (call && (!endedOnly || call.status !== 'running')) this.#dropCall(id, calls);
      }
      if (parts.total <= target) break;
    }
    this.#unlinkCalls(calls);
  }

  /** Drops one tool call from the record (into `calls`; unlinked from its step by {@link #unlinkCalls}). */
  #dropCall(id: string, calls: Set<string>): void {
    const record = this.#toolCalls();
    if (!own(record, id)) return;
    calls.add(id);
    delete record[id];
    this.#callParts?.delete(id);
  }

  /** Takes the dropped calls out of their steps' and the run's lists, and counts them. */
  #unlinkCalls(calls: Set<string>): void {
    if (calls.size === 0) return;
    const draft = this.#draft;
    const truncated = this.#truncation(draft);
    truncated.toolCalls = (truncated.toolCalls ?? 0) + calls.size;
    draft.rootToolCallIds = this.#mine(draft.rootToolCallIds.filter((id) => !calls.has(id)));
    for (const step of Object.values(draft.steps)) {
      if (step.toolCallIds.length === 0 || !step.toolCallIds.some((id) => calls.has(id))) continue;
      const edited = this.#step(step.id) as StepState;
      edited.toolCallIds = this.#mine(edited.toolCallIds.filter((id) => !calls.has(id)));
    }
  }

  /** Past the data's bound: drops the names set least recently (never the newest). */
  #boundData(): void {
    const parts = this.#dataParts;
    if (!parts || parts.total <= parts.max) return;
    const target = parts.max - (parts.max >> 2);
    const data = (this.#draft.data = this.#record(this.#draft.data));
    let dropped = 0;
    for (const name of parts.oldest()) {
      if (parts.total <= target || parts.size <= 1) break;
      parts.delete(name);
      delete data[name];
      dropped++;
    }
    const truncated = this.#truncation(this.#draft);
    truncated.data = (truncated.data ?? 0) + dropped;
  }

  /** Indexes what the state folded into keeps (the given one, or a snapshot's), for the bounds there are. */
  #indexAll(): void {
    if (this.#maxStep !== Number.POSITIVE_INFINITY) this.#indexSteps();
    const { steps, toolCalls, data } = this.#draft;
    // Made again from what the state holds (none for an empty one: made by the first part added).
    this.#stepParts = isEmpty(steps) ? undefined : ledger(this.#maxStepBytes);
    this.#callParts = isEmpty(toolCalls) ? undefined : ledger(this.#maxCallBytes);
    this.#dataParts = isEmpty(data) ? undefined : ledger(this.#maxDataBytes);
    if (this.#stepParts) {
      for (const step of Object.values(steps).sort((a, b) => a.seq - b.seq)) this.#stepParts.add(step.id, stepCost(step));
    }
    if (this.#callParts) {
      for (const call of Object.values(toolCalls).sort((a, b) => a.startedAt - b.startedAt)) {
        this.#callParts.add(call.id, callCost(call) + jsonLength(call.result) + jsonLength(call.error));
      }
    }
    if (this.#dataParts) {
      for (const [name, value] of Object.entries(data)) this.#dataParts.add(name, 8 + name.length + jsonLength(value));
    }
  }

  /** Indexes what the steps of the state folded into (the given one, or a snapshot's) keep, oldest step first. */
  #indexSteps(): void {
    if (this.#keptSteps.length !== 0) {
      this.#keptSteps = [];
      this.#keptLengths = [];
      this.#keptTexts = [];
    }
    this.#keptHead = 0;
    this.#keptChars = 0;
    if (isEmpty(this.#draft.steps)) return;
    const steps = Object.values(this.#draft.steps).sort((a, b) => a.seq - b.seq);
    for (const step of steps) {
      for (const line of step.logs) {
        this.#keptSteps.push(step.id);
        this.#keptLengths.push(line.length);
        this.#keptTexts.push(false);
        this.#keptChars += line.length;
      }
      if (step.text !== '') {
        this.#keptSteps.push(step.id);
        this.#keptLengths.push(step.text.length);
        this.#keptTexts.push(true);
        this.#keptChars += step.text.length;
      }
    }
  }

  /** The `truncated` counts of the (owned) run or step, created on first use. */
  #truncation(target: { truncated?: Truncation | undefined }): Truncation {
    if (!target.truncated || !this.#owned.has(target.truncated)) {
      target.truncated = this.#mine({ textChars: 0, logLines: 0, ...target.truncated });
    }
    return target.truncated;
  }

  /** The draft's step `id`, owned (copied into an owned steps record on its first edit), or `undefined`. */
  #step(id: string): StepState | undefined {
    const step = own(this.#draft.steps, id);
    if (!step || this.#owned.has(step)) return step;
    const copy = this.#mine({ ...step });
    put(this.#steps(), id, copy);
    return copy;
  }

  #steps(): Record<string, StepState> {
    return (this.#draft.steps = this.#record(this.#draft.steps));
  }

  #toolCalls(): Record<string, ToolCallState> {
    return (this.#draft.toolCalls = this.#record(this.#draft.toolCalls));
  }

  #record<T extends object>(value: T): T {
    return this.#owned.has(value) ? value : this.#mine({ ...value });
  }

  #array<T>(value: T[]): T[] {
    return this.#owned.has(value) ? value : this.#mine(value.slice());
  }

  #mine<T extends object>(value: T): T {
    this.#owned.add(value);
    return value;
  }
}

/** Sets an own property, `__proto__` included (an assignment would set the prototype). */
function put<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
  else record[key] = value;
}

/** A ledger for a bound, or none when there is no bound. */
function ledger(max: number): PartLedger | undefined {
  return max === Number.POSITIVE_INFINITY ? undefined : new PartLedger(max);
}

/** True when the record has no own enumerable key. */
function isEmpty(record: object): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return false;
  return true;
}

/** About the JSON size of a step in a state, its logs and text aside (its id is in the record, its parent's list and itself). */
function stepCost(step: StepState): number {
  return 180 + 3 * step.id.length + step.title.length + (step.kind?.length ?? 0) + (step.parentId?.length ?? 0) + jsonLength(step.error);
}

/*
 * The least an event's JSON holds besides a part's fields, for estimating the part from the event's
 * length: the fixed keys and quotes, a `seq` and an `at` of one digit each. A `data` event
 * (`{"type":"data","seq":1,"at":1,"name":"","value":}`, 49 + name + value) is costed
 * `8 + name + value`, so 41 less than its JSON at most; a `tool.call`
 * (`{"type":"tool.call","seq":1,"at":1,"callId":"","name":"","args":}`, 65 + id + name + stepId + args
 * with its key) as {@link callCost}, 45 + 2 × id more than it at least; a `tool.result`
 * (`{"type":"tool.result","seq":1,"at":1,"callId":""}`, 49 + id + result + error with their keys).
 */
const DATA_ENVELOPE = 41;
const CALL_ENVELOPE = 65;
const RESULT_ENVELOPE = 49;

/** {@link callCost} from the `tool.call` event's JSON length, never below it (see the envelopes above). */
function callCostFromJson(call: ToolCallState, eventJsonLength: number): number {
  return Math.max(110 + 3 * call.id.length + call.name.length + (call.stepId?.length ?? 0), 110 + 2 * call.id.length + eventJsonLength - CALL_ENVELOPE);
}

/** About the JSON size of a tool call as it starts (its id is in the record, its step's list and itself). */
function callCost(call: ToolCallState): number {
  return 110 + 3 * call.id.length + call.name.length + (call.stepId?.length ?? 0) + jsonLength(call.args);
}
