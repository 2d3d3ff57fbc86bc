import { createParser, type EventSourceMessage, type ParseError } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import type { AgentEvent, EventBody } from './events.js';
import { SSE_HEARTBEAT, encodeSseComment, encodeSseEvent, encodeSseRetry } from './sse.js';

/** Text that a naive encoder would let end a line, start a field or forge an event. */
const HOSTILE_TEXTS = [
  'line one\nline two',
  'carriage\rreturn',
  'crlf\r\nline',
  'blank line\n\nafter',
  'data: x',
  '\ndata: forged\n\n',
  'event: run.finished',
  '\nevent: run.finished\ndata: {}\n\n',
  'id: 99',
  '\nid: 99\n',
  'retry: 1',
  '\r\nretry: 1\r\n',
  ': comment',
  '\n: comment\n',
  '𝄞🎉',
  'é ü 中文 🏳️‍🌈',
  '\uD800',
  'before \uDC00 after',
  'nul \u0000 inside',
  'line\u2028separator\u2029paragraph',
  '\uFEFF',
  '\uFEFFbom first',
  '',
  '   ',
];

function stamp(bodies: EventBody[]): AgentEvent[] {
  return bodies.map((body, index) => ({ ...body, seq: index + 1, at: 1_700_000_000_000 + index }) as AgentEvent);
}

/** One event of (nearly) every type for each hostile text, placed in every text field. */
function hostileEvents(): AgentEvent[] {
  const bodies: EventBody[] = [{ type: 'run.started', runId: 'run-1', agent: 'echo', input: { prompt: HOSTILE_TEXTS } }];
  HOSTILE_TEXTS.forEach((text, index) => {
    const stepId = `step-${index}`;
    bodies.push(
      { type: 'step.started', stepId, title: text, kind: text },
      { type: 'step.log', stepId, text },
      { type: 'step.updated', stepId, title: text },
      { type: 'text.delta', stepId, text },
      { type: 'text.delta', text },
      { type: 'tool.call', callId: `call-${index}`, stepId, name: text, args: { text, nested: [text] } },
      { type: 'tool.result', callId: `call-${index}`, result: text, error: { message: text, code: 'AW_AGENT_ERROR' } },
      { type: 'status', message: text },
      { type: 'data', name: text, value: { [text]: text } },
      { type: 'step.finished', stepId, status: 'error', error: { message: text, code: text } },
    );
  });
  bodies.push({ type: 'run.finished', output: HOSTILE_TEXTS.join('\n') });
  return stamp(bodies);
}

const RETRY_MS = 2500;

/** The wire stream: a retry line first, then every event, with heartbeats interleaved. */
function encodeStream(events: AgentEvent[]): string {
  let stream = encodeSseRetry(RETRY_MS) + SSE_HEARTBEAT;
  events.forEach((event, index) => {
    stream += encodeSseEvent(event);
    if (index % 3 === 0) stream += SSE_HEARTBEAT;
  });
  return stream + SSE_HEARTBEAT;
}

interface Decoded {
  events: EventSourceMessage[];
  retries: number[];
  comments: string[];
  errors: ParseError[];
}

function collectingParser(): { parser: ReturnType<typeof createParser>; decoded: Decoded } {
  const decoded: Decoded = { events: [], retries: [], comments: [], errors: [] };
  const parser = createParser({
    onEvent: (event) => decoded.events.push(event),
    onRetry: (retry) => decoded.retries.push(retry),
    onComment: (comment) => decoded.comments.push(comment),
    onError: (error) => decoded.errors.push(error),
  });
  return { parser, decoded };
}

function decodeChunks(chunks: Iterable<string>): Decoded {
  const { parser, decoded } = collectingParser();
  for (const chunk of chunks) parser.feed(chunk);
  return decoded;
}

/** The decoded stream reduced to what a client uses: id, event name and parsed data. */
function summarise(decoded: Decoded): { id: string | undefined; event: string | undefined; data: unknown }[] {
  return decoded.events.map((message) => ({ id: message.id, event: message.event, data: JSON.parse(message.data) as unknown }));
}

function expectedSummary(events: AgentEvent[]): { id: string; event: string; data: unknown }[] {
  return events.map((event) => ({ id: String(event.seq), event: event.type, data: event }));
}

const EVENTS = hostileEvents();
const STREAM = encodeStream(EVENTS);
const HEARTBEATS = STREAM.split(SSE_HEARTBEAT).length - 1;

function expectWholeStream(decoded: Decoded): void {
  expect(decoded.errors).toEqual([]);
  expect(decoded.retries).toEqual([RETRY_MS]);
  expect(decoded.comments).toEqual(Array.from({ length: HEARTBEATS }, () => 'ping'));
  expect(decoded.events).toHaveLength(EVENTS.length);
  expect(summarise(decoded)).toEqual(expectedSummary(EVENTS));
}

describe('encodeSseEvent', () => {
  it('puts each event on exactly one data line so no text can end a line early', () => {
    for (const event of EVENTS) {
      const frame = encodeSseEvent(event);
      expect(frame).toBe(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      const lines = frame.split(/\r\n|\r|\n/);
      expect(lines).toHaveLength(5);
      expect(lines.slice(3)).toEqual(['', '']);
    }
  });

  it('never writes a raw CR, LF or lone surrogate onto the wire', () => {
    expect(STREAM).not.toMatch(/\r/);
    // A lone surrogate would become U+FFFD when the response is encoded as UTF-8.
    expect(STREAM).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    for (const event of EVENTS) expect(encodeSseEvent(event).slice(0, -2)).not.toMatch(/\n\n/);
  });

  it('does not let hostile text forge events, ids, names or retries when parsed in one chunk', () => {
    expectWholeStream(decodeChunks([STREAM]));
  });

  it('round-trips every event exactly, including astral characters, NUL, U+2028/9, BOM and lone surrogates', () => {
    const decoded = decodeChunks([STREAM]);
    for (const [index, message] of decoded.events.entries()) {
      const original = EVENTS[index];
      expect(message.id).toBe(String(original?.seq));
      expect(message.event).toBe(original?.type);
      expect(JSON.parse(message.data)).toStrictEqual(original);
    }
    const loneSurrogate = decoded.events
      .map((message) => JSON.parse(message.data) as AgentEvent)
      .find((event) => event.type === 'step.log' && event.text === '\uD800');
    expect(loneSurrogate).toBeDefined();
  });

  it('survives being fed one character at a time', () => {
    expectWholeStream(decodeChunks(STREAM));
  });

  it('survives being fed one UTF-16 code unit at a time (astral characters split across chunks)', () => {
    const units = Array.from({ length: STREAM.length }, (_, index) => STREAM[index] ?? '');
    expectWholeStream(decodeChunks(units));
  });

  it('survives a split into two chunks at every position', () => {
    // One compact event per hostile text keeps this O(n²) sweep fast; the stream has no CR at all,
    // so every position (including inside "\n\n" and inside surrogate pairs) is a fair split.
    const events = stamp([
      { type: 'run.started', runId: 'run-1', agent: 'echo', input: null },
      ...HOSTILE_TEXTS.map((text): EventBody => ({ type: 'text.delta', text })),
      { type: 'run.cancelled', reason: HOSTILE_TEXTS.join('') },
    ]);
    const stream = encodeStream(events);
    expect(stream).not.toMatch(/\r/);
    const heartbeats = stream.split(SSE_HEARTBEAT).length - 1;
    const expected = JSON.stringify({ retries: [RETRY_MS], comments: heartbeats, events: expectedSummary(events) });
    const failures: number[] = [];
    for (let position = 0; position <= stream.length; position++) {
      const decoded = decodeChunks([stream.slice(0, position), stream.slice(position)]);
      const actual = JSON.stringify({ retries: decoded.retries, comments: decoded.comments.length, events: summarise(decoded) });
      if (decoded.errors.length > 0 || actual !== expected) failures.push(position);
    }
    expect(failures).toEqual([]);
    // The sweep's comparison is by JSON text; check the unsplit decode by deep equality too.
    expect(summarise(decodeChunks([stream]))).toEqual(expectedSummary(events));
  });

  it('survives UTF-8 bytes split inside multibyte characters by a streaming TextDecoder', () => {
    const bytes = new TextEncoder().encode(STREAM);
    const insideCharacter: number[] = [];
    for (let index = 1; index < bytes.length; index++) {
      if (((bytes[index] ?? 0) & 0xc0) === 0x80) insideCharacter.push(index);
    }
    expect(insideCharacter.length).toBeGreaterThan(10);
    const expected = expectedSummary(EVENTS);
    for (const position of insideCharacter) {
      const decoder = new TextDecoder();
      const chunks = [
        decoder.decode(bytes.subarray(0, position), { stream: true }),
        decoder.decode(bytes.subarray(position), { stream: true }),
        decoder.decode(),
      ];
      const decoded = decodeChunks(chunks);
      expect(decoded.errors, `byte split at ${position}`).toEqual([]);
      expect(summarise(decoded), `byte split at ${position}`).toEqual(expected);
    }
  });

  it('survives UTF-8 fed one byte at a time through a streaming TextDecoder', () => {
    const bytes = new TextEncoder().encode(STREAM);
    const decoder = new TextDecoder();
    const chunks: string[] = [];
    for (let index = 0; index < bytes.length; index++) chunks.push(decoder.decode(bytes.subarray(index, index + 1), { stream: true }));
    chunks.push(decoder.decode());
    expectWholeStream(decodeChunks(chunks));
  });
});

describe('encodeSseComment', () => {
  it.each(['a\nb', 'a\rb', 'a\r\nb', 'ping\n\ndata: forged\n\n', '\nid: 7\nevent: run.finished\ndata: {}\n', 'x\r\rretry: 1\r\r'])(
    'cannot start a field or an event from comment text %j',
    (text) => {
      const comment = encodeSseComment(text);
      expect(comment.startsWith(': ')).toBe(true);
      expect(comment.slice(0, -2)).not.toMatch(/[\r\n]/);
      const decoded = decodeChunks([comment]);
      expect(decoded.events).toEqual([]);
      expect(decoded.retries).toEqual([]);
      expect(decoded.errors).toEqual([]);
      expect(decoded.comments).toHaveLength(1);
    },
  );

  it('keeps the comment text readable with line breaks as spaces', () => {
    expect(encodeSseComment('a\nb')).toBe(': a b\n\n');
    expect(decodeChunks([encodeSseComment('a\r\nb')]).comments).toEqual(['a b']);
  });

  it('produces the heartbeat a parser reports as the comment "ping"', () => {
    expect(decodeChunks([SSE_HEARTBEAT]).comments).toEqual(['ping']);
    expect(encodeSseComment('ping')).toBe(SSE_HEARTBEAT);
  });
});

describe('encodeSseRetry', () => {
  it('reports the reconnection delay through onRetry without dispatching an event', () => {
    const decoded = decodeChunks([encodeSseRetry(RETRY_MS)]);
    expect(decoded.retries).toEqual([RETRY_MS]);
    expect(decoded.events).toEqual([]);
    expect(decoded.errors).toEqual([]);
  });

  it('never sends a fractional or negative retry that EventSource would ignore', () => {
    expect(encodeSseRetry(1500.9)).toBe('retry: 1500\n\n');
    expect(encodeSseRetry(-5)).toBe('retry: 0\n\n');
    expect(decodeChunks([encodeSseRetry(1500.9), encodeSseRetry(-5)]).retries).toEqual([1500, 0]);
  });

  it('opens the stream so the retry is known before the first event arrives', () => {
    const order: string[] = [];
    const parser = createParser({
      onRetry: () => order.push('retry'),
      onEvent: (event) => order.push(`event ${event.id ?? ''}`),
    });
    parser.feed(encodeStream(EVENTS.slice(0, 2)));
    expect(order).toEqual(['retry', 'event 1', 'event 2']);
  });
});
