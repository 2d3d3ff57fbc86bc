/**
 * What a recorded SSE body contains: events and comments with their arrival times, `retry:`,
 * ids, and framing faults (invalid UTF-8, a BOM mid-stream, an event left unterminated at EOF).
 *
 * @module
 */
import { createParser } from 'eventsource-parser';
import type { Probe } from './probe.js';

/** One event as it arrived. */
export interface ArrivedEvent {
  at: number;
  id: string | undefined;
  event: string | undefined;
  data: string;
  /** The server's own send time, when the data is JSON with a numeric `at` (agentwire events). */
  sentAt: number | undefined;
}

/** The analysis of a body. */
export interface StreamAnalysis {
  events: ArrivedEvent[];
  comments: number[];
  retry: number | undefined;
  invalidUtf8: boolean;
  bomMidStream: boolean;
  /** Bytes after the last blank line when the server ended the body: an event never dispatched. */
  unterminatedTail: string;
  /** Longest time without a byte while watching, in ms. */
  longestSilenceMs: number;
}

/** Parses a probe's body chunk by chunk, stamping each event with its chunk's arrival time. */
export function analyzeStream(probe: Probe): StreamAnalysis {
  const analysis: StreamAnalysis = { events: [], comments: [], retry: undefined, invalidUtf8: false, bomMidStream: false, unterminatedTail: '', longestSilenceMs: 0 };
  let now = 0;
  const parser = createParser({
    onEvent: (message) => {
      let sentAt: number | undefined;
      try {
        const parsed = JSON.parse(message.data) as { at?: unknown };
        if (typeof parsed?.at === 'number') sentAt = parsed.at;
      } catch {
        // not JSON
      }
      analysis.events.push({ at: now, id: message.id, event: message.event, data: message.data, sentAt });
    },
    onComment: () => analysis.comments.push(now),
    onRetry: (retry) => {
      analysis.retry = retry;
    },
  });
  const strict = new TextDecoder('utf-8', { fatal: true });
  const lenient = new TextDecoder('utf-8');
  let text = '';
  let previous = probe.headersMs;
  for (const [index, chunk] of probe.chunks.entries()) {
    now = chunk.at;
    analysis.longestSilenceMs = Math.max(analysis.longestSilenceMs, chunk.at - previous);
    previous = chunk.at;
    try {
      strict.decode(chunk.bytes, { stream: true });
    } catch {
      analysis.invalidUtf8 = true;
    }
    const decoded = lenient.decode(chunk.bytes, { stream: true });
    if (decoded.includes('\uFEFF') && !(index === 0 && decoded.indexOf('\uFEFF') === 0) ) analysis.bomMidStream = true;
    text += decoded;
    parser.feed(decoded);
  }
  analysis.longestSilenceMs = Math.max(analysis.longestSilenceMs, (probe.ended ? previous : probe.durationMs) - previous);
  if (probe.ended) {
    const lastBlank = Math.max(text.lastIndexOf('\n\n'), text.lastIndexOf('\r\n\r\n'), text.lastIndexOf('\r\r'));
    const tail = text.slice(lastBlank === -1 ? 0 : lastBlank).replace(/^[\r\n]+/, '');
    if (/^(data|event|id):/m.test(tail)) analysis.unterminatedTail = tail;
  }
  return analysis;
}
