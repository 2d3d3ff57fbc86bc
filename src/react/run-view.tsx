/**
 * `<RunView>`: a whole run — header with status and timings, steps, tool calls, status line,
 * answer, errors — plus the single polite announcer for screen readers.
 *
 * @module
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { RunSnapshot } from '../client/run-store.js';
import type { RunState } from '../protocol/run-state.js';
import { Answer } from './answer.js';
import { NotKept } from './not-kept.js';
import { CopyButton } from './copy-button.js';
import { formatCount, formatDuration } from './format.js';
import { type StepToggles, useNow, useStepToggles } from './hooks.js';
import { runToMarkdown, summarizeInput } from './run-markdown.js';
import { StatusLine } from './status-line.js';
import { Step } from './step.js';
import { ToolCall } from './tool-call.js';

/** Props of {@link RunView}. */
export interface RunViewProps {
  /** The run (from `useRun`, `useStartRun` or a `RunStore`). */
  snapshot: RunSnapshot;
  /** Called by the Stop button; omit to hide it. */
  onStop?: () => Promise<unknown>;
  /** Controlled open/closed choices; by default kept per run in `sessionStorage`. */
  toggles?: StepToggles;
  onToggle?: (stepId: string, open: boolean) => void;
}

/** Events older than this before the page opened are replayed silently (ms; allows for clock skew). */
const ANNOUNCE_SLACK_MS = 5_000;

/** What the connection pill says. */
export type RunIndicator = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'cancelled' | 'error' | 'disconnected';

/** The indicator for a snapshot: the run's end wins, then the connection. */
export function runIndicator(snapshot: RunSnapshot): RunIndicator {
  const { state, connection } = snapshot;
  if (state.status === 'finished') return 'ended';
  if (state.status === 'cancelled') return 'cancelled';
  if (state.status === 'failed') return 'error';
  if (connection.state === 'reconnecting') return 'reconnecting';
  if (connection.state === 'closed') return connection.reason === 'error' ? 'disconnected' : 'ended';
  if (connection.state === 'open' && state.status === 'running') return 'live';
  return 'connecting';
}

/**
 * A run as the viewer shows it. Steps fold by the rules of `<Step>`; the user's choices stick for
 * the page's life (and reloads, via `sessionStorage`).
 */
export function RunView({ snapshot, onStop, toggles: controlled, onToggle: onControlledToggle }: RunViewProps) {
  const { state } = snapshot;
  const [ownToggles, setOwnToggle] = useStepToggles(snapshot.runId);
  const toggles = controlled ?? ownToggles;
  const onToggle = onControlledToggle ?? setOwnToggle;
  const streaming = state.status === 'running' || state.status === 'idle';
  return (
    <article className="aw-run" data-status={state.status} data-last-seq={state.lastSeq} aria-label="Agent run">
      <RunHeader snapshot={snapshot} onStop={onStop} />
      <ConnectionAlert snapshot={snapshot} />
      <div className="aw-timeline">
        <NotKept count={state.truncated?.steps} unit="steps" />
        <NotKept count={state.truncated?.toolCalls} unit="tool calls" />
        {state.rootStepIds.map((stepId) => (
          <Step key={stepId} state={state} stepId={stepId} toggles={toggles} onToggle={onToggle} />
        ))}
        {state.rootToolCallIds.map((callId) => {
          const call = state.toolCalls[callId];
          return call ? <ToolCall key={callId} call={call} /> : null;
        })}
      </div>
      <StatusLine message={state.statusMessage} />
      {state.text !== '' || state.status === 'finished' ? (
        <section className="aw-answer-section" aria-label="Answer">
          <NotKept count={state.truncated?.textChars} unit="characters" />
          <Answer text={state.text} streaming={streaming} />
          <div className="aw-answer-actions">
            <CopyButton label="Copy answer" text={() => state.text} />
            <CopyButton label="Copy run as Markdown" text={() => runToMarkdown(state)} />
          </div>
        </section>
      ) : null}
      {state.status === 'failed' && state.error ? (
        <div className="aw-run__error" role="alert">
          <strong>The run failed.</strong> {state.error.message} <code>{state.error.code}</code>
        </div>
      ) : null}
      {state.status === 'cancelled' ? <p className="aw-run__cancelled">Cancelled — {state.cancelReason ?? 'stopped'}.</p> : null}
      <Announcer state={state} />
    </article>
  );
}

/** Header: agent, prompt, status pill, timings, Stop. */
export function RunHeader({ snapshot, onStop }: { snapshot: RunSnapshot; onStop?: (() => Promise<unknown>) | undefined }) {
  const { state } = snapshot;
  const indicator = runIndicator(snapshot);
  const live = state.status === 'running';
  const now = useNow(live, 250);
  const [stopping, setStopping] = useState(false);
  useEffect(() => {
    if (!live) setStopping(false);
  }, [live]);
  const stop = useCallback(() => {
    if (!onStop) return;
    setStopping(true);
    onStop().catch(() => setStopping(false));
  }, [onStop]);
  const elapsed = state.startedAt === undefined ? undefined : (state.endedAt ?? now) - state.startedAt;
  const ttft = state.firstTokenAt !== undefined && state.startedAt !== undefined ? state.firstTokenAt - state.startedAt : undefined;
  const reported = state.usage?.outputTokens;
  const tokens = reported ?? snapshot.answerDeltas;
  const streamSeconds = state.firstTokenAt === undefined ? 0 : ((state.endedAt ?? now) - state.firstTokenAt) / 1000;
  const rate = streamSeconds > 0.2 && tokens > 0 ? tokens / streamSeconds : undefined;
  return (
    <header className="aw-run__header">
      <div className="aw-run__title">
        <span className="aw-run__agent">{state.agent ?? 'agent'}</span>
        <h2 className="aw-run__prompt">{summarizeInput(state.input) || 'Run'}</h2>
      </div>
      <div className="aw-run__meta">
        <ConnectionPill snapshot={snapshot} indicator={indicator} />
        <dl className="aw-metrics">
          {elapsed !== undefined ? <Metric name="duration" label={live ? 'elapsed' : 'total'} value={formatDuration(elapsed)} /> : null}
          {ttft !== undefined ? <Metric name="ttft" label="first token" value={formatDuration(ttft)} /> : null}
          {rate !== undefined ? <Metric name="rate" label="tok/s" value={`${reported === undefined ? '~' : ''}${formatCount(rate)}`} /> : null}
        </dl>
        {onStop && live ? (
          <div className="aw-run__actions">
            <button type="button" className="aw-button aw-button--stop" onClick={stop} disabled={stopping} data-stopping={stopping || undefined}>
              <span className="aw-button__stop-icon" aria-hidden="true" />
              {stopping ? 'Stopping…' : 'Stop'}
            </button>
          </div>
        ) : null}
      </div>
    </header>
  );
}

function Metric({ name, label, value }: { name: string; label: string; value: string }) {
  return (
    <div className="aw-metric" data-metric={name}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

const PILL_TEXT: Record<RunIndicator, string> = {
  connecting: 'Connecting',
  live: 'Live',
  reconnecting: 'Reconnecting',
  ended: 'Ended',
  cancelled: 'Cancelled',
  error: 'Error',
  disconnected: 'Disconnected',
};

/** The connection / run status pill (`.aw-pill`, `data-indicator`). */
export function ConnectionPill({ snapshot, indicator }: { snapshot: RunSnapshot; indicator: RunIndicator }) {
  const { connection } = snapshot;
  const reconnecting = connection.state === 'reconnecting' ? connection : undefined;
  const [since, setSince] = useState(() => Date.now());
  useEffect(() => setSince(Date.now()), [reconnecting]);
  const now = useNow(reconnecting !== undefined, 200);
  let detail = '';
  if (reconnecting) {
    const left = Math.max(0, reconnecting.delayMs - (now - since));
    detail = ` — attempt ${reconnecting.attempt}, retry in ${(left / 1000).toFixed(1)} s`;
  }
  // The transport shows when it is not the default stream (a fallback is worth knowing about).
  if (connection.state === 'open' && connection.transport === 'poll') detail = ' · long-polling';
  return (
    <span className="aw-pill" data-indicator={indicator} data-transport={connection.state === 'open' ? connection.transport : undefined}>
      <span className="aw-pill__dot" aria-hidden="true" />
      {PILL_TEXT[indicator]}
      {detail}
    </span>
  );
}

/** Connection loss is an alert; a silent resume clears it. */
function ConnectionAlert({ snapshot }: { snapshot: RunSnapshot }) {
  const indicator = runIndicator(snapshot);
  if (indicator === 'reconnecting') {
    return (
      <div className="aw-run__notice" role="alert">
        Connection lost — the run continues on the server. Reconnecting…
      </div>
    );
  }
  if (indicator === 'disconnected') {
    const message = snapshot.error instanceof Error ? snapshot.error.message : 'the stream could not be resumed';
    return (
      <div className="aw-run__notice aw-run__notice--error" role="alert">
        Disconnected: {message}
      </div>
    );
  }
  return null;
}

/**
 * The one polite status region: run started, each top-level step done, the answer complete.
 * Never per token, never the timer.
 */
function Announcer({ state }: { state: RunState }) {
  const [message, setMessage] = useState('');
  const announced = useRef(new Set<string>());
  // What was already over well before the page opened (a replay) is not news.
  const openedAt = useRef(Date.now() - ANNOUNCE_SLACK_MS);
  useEffect(() => {
    const pending: string[] = [];
    const once = (key: string, at: number | undefined, text: string) => {
      if (announced.current.has(key)) return;
      announced.current.add(key);
      if (at !== undefined && at >= openedAt.current) pending.push(text);
    };
    if (state.status !== 'idle') once('started', state.startedAt, 'Run started');
    for (const stepId of state.rootStepIds) {
      const step = state.steps[stepId];
      if (!step || step.status === 'running' || step.endedAt === undefined) continue;
      const outcome = step.status === 'complete' ? 'done' : step.status === 'error' ? 'failed' : 'cancelled';
      once(`step:${stepId}`, step.endedAt, `${step.title}, ${outcome}, ${((step.endedAt - step.startedAt) / 1000).toFixed(1)} seconds`);
    }
    if (state.status === 'finished') once('end', state.endedAt, 'Answer complete');
    if (state.status === 'failed') once('end', state.endedAt, 'Run failed');
    if (state.status === 'cancelled') once('end', state.endedAt, 'Run cancelled');
    if (pending.length > 0) setMessage(pending.join('. '));
  }, [state]);
  return (
    <div className="aw-visually-hidden" role="status" aria-live="polite">
      {message}
    </div>
  );
}
