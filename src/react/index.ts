/**
 * `agentwire/react`: hooks and components for agent runs. Unstyled-friendly (`aw-*` class names,
 * `--aw-*` CSS variables); import `agentwire/react/styles.css` for the default look.
 *
 * @module
 */
export type { AnswerProps } from './answer.js';
export { Answer } from './answer.js';
export type { CopyButtonProps } from './copy-button.js';
export { CopyButton } from './copy-button.js';
export type { FoldedTextProps } from './folded-text.js';
export { FoldedText } from './folded-text.js';
export { formatCount, formatDuration, formatValue } from './format.js';
export { highlightCode } from './highlight.js';
export type { StepToggles } from './hooks.js';
export { useNow, useStepToggles, useStickToBottom } from './hooks.js';
export type { StatusIconProps } from './icons.js';
export { StatusIcon } from './icons.js';
export type { MarkdownBlocks } from './markdown.js';
export { BlockSplitter, calmTail, escapeHtml, isSafeHref, renderMarkdown } from './markdown.js';
export type { RunIndicator, RunViewProps } from './run-view.js';
export { ConnectionPill, RunHeader, RunView, runIndicator } from './run-view.js';
export { runToMarkdown, stepToMarkdown, summarizeInput } from './run-markdown.js';
export type { StatusLineProps } from './status-line.js';
export { StatusLine } from './status-line.js';
export type { StepProps } from './step.js';
export { COLLAPSE_DELAY_MS, Step } from './step.js';
export type { ToolCallProps } from './tool-call.js';
export { ToolCall } from './tool-call.js';
export type { UseRunResult, UseStartRunResult } from './use-run.js';
export { useRun, useRunStore, useStartRun } from './use-run.js';
