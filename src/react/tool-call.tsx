/**
 * `<ToolCall>`: a tool call as a card — name, status, duration, arguments and result.
 *
 * @module
 */
import { memo } from 'react';
import type { ToolCallState } from '../protocol/run-state.js';
import { formatDuration, formatValue } from './format.js';
import { FoldedText } from './folded-text.js';
import { useNow } from './hooks.js';
import { StatusIcon } from './icons.js';

/** Props of {@link ToolCall}. */
export interface ToolCallProps {
  call: ToolCallState;
}

/** A tool call card (`.aw-tool`, `data-state` = the call's status). Long values fold behind "show more". */
export const ToolCall = memo(function ToolCall({ call }: ToolCallProps) {
  const now = useNow(call.status === 'running');
  const duration = (call.endedAt ?? now) - call.startedAt;
  return (
    <div className="aw-tool" data-state={call.status} data-call-id={call.id}>
      <div className="aw-tool__header">
        <StatusIcon status={call.status} />
        <span className="aw-tool__kind">tool</span>
        <code className="aw-tool__name">{call.name}</code>
        <span className="aw-tool__status">{call.status === 'complete' ? 'done' : call.status}</span>
        <span className="aw-duration">{formatDuration(duration)}</span>
      </div>
      <FoldedText label="Arguments" text={formatValue(call.args)} />
      {call.error ? <FoldedText label="Error" text={call.error.message} error /> : null}
      {call.status === 'complete' && call.result !== undefined ? <FoldedText label="Result" text={formatValue(call.result)} /> : null}
    </div>
  );
});
