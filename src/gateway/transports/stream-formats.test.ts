import { describe, expect, it } from 'vitest';
import { toStoredEvent } from '../../store/store.js';
import { MAX_SHARED_JSON } from './shared-frames.js';
import { AGENTWIRE_FORMAT } from './stream-formats.js';

const stored = (seq: number, text: string) => toStoredEvent({ type: 'text.delta', text, seq, at: 0 });
const utf8 = new TextDecoder();
const text = (frames: string | Uint8Array | undefined) => (typeof frames === 'string' || frames === undefined ? frames : utf8.decode(frames));

describe('AGENTWIRE_FORMAT', () => {
  it('frames an event as id, event and data lines', () => {
    expect(AGENTWIRE_FORMAT.frame(stored(7, 'Paris'))).toBe('id: 7\nevent: text.delta\ndata: {"type":"text.delta","text":"Paris","seq":7,"at":0}\n\n');
  });

  it('frames a batch as text for its first subscriber, then hands every other the same bytes', () => {
    const batch = [stored(1, 'a'), stored(2, 'é')];
    const expected = batch.map((event) => AGENTWIRE_FORMAT.frame(event)).join('');
    expect(AGENTWIRE_FORMAT.shared?.frames(batch, 'run_a')).toBe(expected);
    // Other subscribers' slices of the same log: new arrays, the same events.
    const bytes = AGENTWIRE_FORMAT.shared?.frames(batch.slice(), 'run_a');
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(text(bytes)).toBe(expected);
    expect(AGENTWIRE_FORMAT.shared?.frames(batch.slice(), 'run_a')).toBe(bytes);
  });

  it('never hands a batch the frames of another: same seq in another run, or another batch ending at the same event', () => {
    const shared = AGENTWIRE_FORMAT.shared;
    const one = [stored(3, 'a')];
    shared?.frames(one, 'run_a');
    const first = shared?.frames(one, 'run_a');
    expect(first).toBeInstanceOf(Uint8Array);
    expect(text(shared?.frames([stored(3, 'b')], 'run_b'))).toContain('"text":"b"');
    expect(text(shared?.frames([stored(3 + 256, 'c')], 'run_b'))).toContain('"text":"c"');
    expect(shared?.frames(one, 'run_a')).toBe(first);
    // A reader that was behind gets a longer batch ending at the same event: framed for it alone.
    expect(shared?.frames([stored(2, 'z'), ...one], 'run_a')).toBeUndefined();
  });

  it('keeps no frame of a large event (framed per subscriber instead)', () => {
    const large = [stored(1, 'x'.repeat(MAX_SHARED_JSON))];
    expect(AGENTWIRE_FORMAT.shared?.frames(large, 'run_a')).toBeUndefined();
    expect(AGENTWIRE_FORMAT.shared?.frames(large, 'run_a')).toBeUndefined();
    const many = Array.from({ length: 200 }, (_, index) => stored(index + 1, 'y'.repeat(400)));
    expect(AGENTWIRE_FORMAT.shared?.frames(many, 'run_a')).toBeUndefined();
  });
});
