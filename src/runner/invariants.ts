/**
 * The run invariants the runner enforces on what an agent yields: step ids unique, a parent open
 * when its child starts, events only for open steps, children finished before parents, tool
 * results only for calls made. A violation fails the run with `AW_STEP_INVALID`.
 *
 * @module
 */
import type { AgentYield, ErrorInfo, StepFinishedEvent } from '../protocol/events.js';
import { AgentwireError } from '../protocol/errors.js';

const NONE: readonly StepFinishedEvent[] = Object.freeze([]);

/**
 * Tracks open steps and calls of one run. Each collection is made by the first event that adds to
 * it: most runs open few steps and call few tools, and many none.
 */
export class RunInvariants {
  /** Open step ids in start order (a child always starts after its parent). */
  #open: Map<string, string | undefined> | undefined;
  #seenSteps: Set<string> | undefined;
  #pendingCalls: Set<string> | undefined;
  #seenCalls: Set<string> | undefined;

  /**
   * Checks one yielded event. Returns the events to emit before it: `step.finished` for children
   * still open when their parent finishes (usually none: a shared empty array).
   */
  accept(event: AgentYield): readonly StepFinishedEvent[] {
    switch (event.type) {
      case 'step.started': {
        if (this.#seenSteps?.has(event.stepId)) fail(`step id "${event.stepId}" was already used in this run`);
        if (event.parentId !== undefined && !this.#open?.has(event.parentId)) {
          fail(`step "${event.stepId}" names parent "${event.parentId}", which is not an open step`);
        }
        (this.#seenSteps ??= new Set()).add(event.stepId);
        (this.#open ??= new Map()).set(event.stepId, event.parentId);
        return NONE;
      }
      case 'step.finished': {
        this.#requireOpen(event.stepId, event.type);
        const closing = this.closeDescendants(event.stepId, {
          code: 'AW_STEP_UNFINISHED',
          message: 'the step was still open when its parent finished',
        });
        this.#open?.delete(event.stepId);
        return closing;
      }
      case 'step.log':
      case 'step.updated':
        this.#requireOpen(event.stepId, event.type);
        return NONE;
      case 'text.delta':
        if (event.stepId !== undefined) this.#requireOpen(event.stepId, event.type);
        return NONE;
      case 'tool.call':
        if (this.#seenCalls?.has(event.callId)) fail(`tool call id "${event.callId}" was already used in this run`);
        if (event.stepId !== undefined) this.#requireOpen(event.stepId, event.type);
        (this.#seenCalls ??= new Set()).add(event.callId);
        (this.#pendingCalls ??= new Set()).add(event.callId);
        return NONE;
      case 'tool.result':
        if (!this.#pendingCalls?.delete(event.callId)) {
          fail(`tool.result for "${event.callId}", which is not a pending tool call`);
        }
        return NONE;
      default:
        return NONE;
    }
  }

  /** `step.finished` events for every open descendant of `stepId` (or every open step), children first. */
  closeDescendants(stepId: string | undefined, error: ErrorInfo): readonly StepFinishedEvent[] {
    const open = this.#open;
    if (open === undefined || open.size === 0) return NONE;
    const ids = [...open.keys()].reverse();
    const closing: StepFinishedEvent[] = [];
    for (const id of ids) {
      if (id === stepId || (stepId !== undefined && !this.#isDescendant(id, stepId))) continue;
      open.delete(id);
      closing.push({ type: 'step.finished', stepId: id, status: 'error', error });
    }
    return closing;
  }

  /** True while any step is open. */
  get hasOpenSteps(): boolean {
    return (this.#open?.size ?? 0) > 0;
  }

  #isDescendant(id: string, ancestor: string): boolean {
    let parent = this.#open?.get(id);
    while (parent !== undefined) {
      if (parent === ancestor) return true;
      parent = this.#open?.get(parent);
    }
    return false;
  }

  #requireOpen(stepId: string, type: string): void {
    if (this.#open?.has(stepId)) return;
    fail(
      this.#seenSteps?.has(stepId)
        ? `${type} for step "${stepId}", which has already finished`
        : `${type} for step "${stepId}", which was never started`,
    );
  }
}

function fail(message: string): never {
  throw new AgentwireError('AW_STEP_INVALID', `invalid agent output: ${message}`);
}
