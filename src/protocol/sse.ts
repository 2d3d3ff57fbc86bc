/**
 * The SSE encoding of agentwire events: `id: <seq>`, `event: <type>`, `data: <JSON on one line>`,
 * then a blank line. `JSON.stringify` escapes every CR and LF inside strings and lone surrogates
 * as `\uXXXX`, so no text can end a line early and forge a field or an event.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * @module
 */
import type { AgentEvent } from './events.js';

/** Encodes one event as an SSE frame, from its already serialised JSON. */
export function encodeSseFrame(seq: number, type: string, json: string): string {
  return `id: ${seq}\nevent: ${type}\ndata: ${json}\n\n`;
}

/** Encodes one event as an SSE frame. */
export function encodeSseEvent(event: AgentEvent): string {
  return encodeSseFrame(event.seq, event.type, JSON.stringify(event));
}

/** The `retry:` line that opens every stream: tells `EventSource` how long to wait before reconnecting (ms). */
export function encodeSseRetry(milliseconds: number): string {
  return `retry: ${Math.max(0, Math.floor(milliseconds))}\n\n`;
}

/**
 * An SSE comment line (ignored by parsers), used for heartbeats. Line breaks in `text` are replaced
 * by spaces so a comment can never start a field.
 */
export function encodeSseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/** The heartbeat comment. */
export const SSE_HEARTBEAT = ': ping\n\n';

/**
 * Encodes items as `data:`-only frames (the framing of AG-UI and of the AI SDK UI message stream),
 * with an `id: <seq>` line on the last frame so `Last-Event-ID` resume works at event granularity.
 */
export function encodeSseDataFrames(items: readonly unknown[], seq: number): string {
  let frames = '';
  items.forEach((item, index) => {
    frames += `${index === items.length - 1 ? `id: ${seq}\n` : ''}data: ${JSON.stringify(item)}\n\n`;
  });
  return frames;
}
