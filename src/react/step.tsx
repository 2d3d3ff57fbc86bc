/**
 * `<Step>`: one agent step as an accordion, with its nested steps and tool calls.
 *
 * @module
 */
import { memo, useEffect, useId, useRef, useState } from 'react';
import type { RunState, StepState } from '../protocol/run-state.js';
import { CopyButton } from './copy-button.js';
import { formatDuration } from './format.js';
import { type StepToggles, useNow, useStickToBottom } from './hooks.js';
import { Chevron, StatusIcon } from './icons.js';
import { NotKept } from './not-kept.js';
import { stepToMarkdown } from './run-markdown.js';
import { ToolCall } from './tool-call.js';

/** How long a successful step stays open before it folds, in ms. */
export const COLLAPSE_DELAY_MS = 1000;
/** Log lines shown before "show all N lines". */
const LOG_LIMIT = 200;
/** Deeper steps are drawn flat, with a breadcrumb to their parent. */
const MAX_INDENT = 3;

/** Props of {@link Step}. */
export interface StepProps {
  /** The whole run state (steps look up their children and tool calls in it). */
  state: RunState;
  stepId: string;
  /** The user's open/closed choices; a choice always beats the automatic behaviour. */
  toggles: StepToggles;
  /** Called when the user opens or closes a step. */
  onToggle: (stepId: string, open: boolean) => void;
  /** Nesting depth (0 for top-level steps). @defaultValue 0 */
  depth?: number;
}

function hasRunningDescendant(state: RunState, step: StepState): boolean {
  return step.childIds.some((id) => {
    const child = state.steps[id];
    return child !== undefined && (child.status === 'running' || hasRunningDescendant(state, child));
  });
}

/** True when nothing this step shows changed: its subtree's steps and tool calls, and the toggles of the subtree. */
function sameSubtree(previous: StepProps, next: StepProps, stepId: string): boolean {
  const before = previous.state.steps[stepId];
  const after = next.state.steps[stepId];
  if (before !== after || previous.toggles[stepId] !== next.toggles[stepId]) return false;
  if (!after) return true;
  for (const callId of after.toolCallIds) if (previous.state.toolCalls[callId] !== next.state.toolCalls[callId]) return false;
  return after.childIds.every((childId) => sameSubtree(previous, next, childId));
}

/**
 * An accordion step (`.aw-step`, `data-state` running/complete/error/cancelled, `data-step-id`).
 * Open while running; folds {@link COLLAPSE_DELAY_MS} after success unless the user toggled it;
 * stays open on error; never folds while a child runs. Bodies of closed steps are not mounted.
 */
export const Step = memo(
  function Step({ state, stepId, toggles, onToggle, depth = 0 }: StepProps) {
    const step = state.steps[stepId];
    const bodyId = useId();
    const [settled, setSettled] = useState(() => step !== undefined && step.status !== 'running');
    useEffect(() => {
      if (!step || step.status === 'running') return setSettled(false);
      if (step.status !== 'complete') return setSettled(true);
      const timer = setTimeout(() => setSettled(true), COLLAPSE_DELAY_MS);
      return () => clearTimeout(timer);
    }, [step?.status, step]);
    const now = useNow(step?.status === 'running');
    if (!step) return null;
    const childRunning = hasRunningDescendant(state, step);
    const automatic = step.status === 'error' || childRunning || !(settled && (step.status === 'complete' || step.status === 'cancelled'));
    const open = toggles[stepId] ?? automatic;
    const duration = (step.endedAt ?? now) - step.startedAt;
    const parent = step.parentId === undefined ? undefined : state.steps[step.parentId];
    return (
      <section className="aw-step" data-state={step.status} data-step-id={step.id} data-depth={Math.min(depth, MAX_INDENT)} data-kind={step.kind}>
        <h3 className="aw-step__heading">
          <button type="button" className="aw-step__header" aria-expanded={open} aria-controls={bodyId} onClick={() => onToggle(stepId, !open)}>
            <StatusIcon status={step.status} />
            <span className="aw-step__title">
              {depth > MAX_INDENT && parent ? <span className="aw-step__crumb">↳ {parent.title} · </span> : null}
              {step.title}
            </span>
            <span className="aw-duration">{formatDuration(duration)}</span>
            <Chevron />
          </button>
        </h3>
        <div className="aw-step__body" id={bodyId} hidden={!open}>
          {open ? <StepBody state={state} step={step} toggles={toggles} onToggle={onToggle} depth={depth} /> : null}
        </div>
      </section>
    );
  },
  (previous, next) => previous.stepId === next.stepId && previous.onToggle === next.onToggle && previous.depth === next.depth && sameSubtree(previous, next, next.stepId),
);

function StepBody({ state, step, toggles, onToggle, depth }: { state: RunState; step: StepState; toggles: StepToggles; onToggle: StepProps['onToggle']; depth: number }) {
  return (
    <>
      <div className="aw-step__actions">
        <CopyButton label="Copy step" ariaLabel={`Copy step: ${step.title}`} text={() => stepToMarkdown(state, step.id)} />
      </div>
      {step.error && step.status === 'error' ? (
        <p className="aw-step__error">
          <strong>{step.error.code}</strong> {step.error.message}
        </p>
      ) : null}
      <NotKept count={step.truncated?.textChars} unit="characters" />
      {step.text ? <Thought text={step.text} /> : null}
      <NotKept count={step.truncated?.logLines} unit="lines" />
      {step.logs.length > 0 ? <Logs lines={step.logs} /> : null}
      {step.toolCallIds.map((callId) => {
        const call = state.toolCalls[callId];
        return call ? <ToolCall key={callId} call={call} /> : null;
      })}
      {step.childIds.length > 0 ? (
        <div className="aw-step__children">
          {step.childIds.map((childId) => (
            <Step key={childId} state={state} stepId={childId} toggles={toggles} onToggle={onToggle} depth={depth + 1} />
          ))}
        </div>
      ) : null}
    </>
  );
}

/** Streamed thought text in a bottom-pinned scroll box. */
function Thought({ text }: { text: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useStickToBottom(ref, text);
  return (
    <div className="aw-thought" ref={ref} tabIndex={0}>
      {text}
    </div>
  );
}

/** Log lines, the last {@link LOG_LIMIT} unless the reader asks for all. */
function Logs({ lines }: { lines: readonly string[] }) {
  const [all, setAll] = useState(false);
  const shown = all ? lines : lines.slice(-LOG_LIMIT);
  return (
    <div className="aw-logs">
      {lines.length > shown.length ? (
        <button type="button" className="aw-link-button" onClick={() => setAll(true)}>
          Show all {lines.length} lines
        </button>
      ) : null}
      {shown.map((line, index) => (
        // Lines only ever append, so the index is a stable key.
        // biome-ignore lint/suspicious/noArrayIndexKey: append-only list
        <div className="aw-logs__line" key={index}>
          {line}
        </div>
      ))}
    </div>
  );
}
