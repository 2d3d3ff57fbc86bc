import { describe, expect, it } from 'vitest';
import { toStoredEvent } from '../../store/store.js';
import { MAX_SHARED_JSON } from './shared-frames.js';
import { AGENTWIRE_FORMAT } from './stream-formats.js';

const stored = (seq: number, text: string) => toStoredEvent({ type: 'text.delta', text, seq, at: 0 });
const utf8 = new TextDecoder();

describe('AGENTWIRE_FORMAT', () => {
  it('frames an event as id, event and data lines', () => {
    expect(AGENTWIRE_FORMAT.frame(stored(7, 'Paris'))).toBe('id: 7\nevent: text.delta\ndata: {"type":"text.delta","text":"Paris","seq":7,"at":0}\n\n');
  });

  it('hands every subscriber of the same batch the same bytes, framed once', () => {
    const batch = [stored(1, 'a'), stored(2, 'é')];
    const bytes = AGENTWIRE_FORMAT.shared?.bytes(batch, 'run_a');
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(utf8.decode(bytes)).toBe(batch.map((event) => AGENTWIRE_FORMAT.frame(event)).join(''));
    // Another subscriber's slice of the same log: a new array, the same events.
    expect(AGENTWIRE_FORMAT.shared?.bytes(batch.slice(), 'run_a')).toBe(bytes);
  });

  it('never hands a batch the bytes of another: same seq in another run, or another batch ending at the same event', () => {
    const shared = AGENTWIRE_FORMAT.shared;
    const one = [stored(3, 'a')];
    const first = shared?.bytes(one, 'run_a');
    expect(utf8.decode(shared?.bytes([stored(3, 'b')], 'run_b'))).toContain('"text":"b"');
    expect(utf8.decode(shared?.bytes([stored(3 + 256, 'c')], 'run_b'))).toContain('"text":"c"');
    expect(shared?.bytes(one, 'run_a')).toBe(first);
    // A reader that was behind gets a longer batch ending at the same event: framed for it alone.
    expect(shared?.bytes([stored(2, 'z'), ...one], 'run_a')).toBeUndefined();
  });

  it('keeps no bytes of a large event (framed per subscriber instead)', () => {
    const large = stored(1, 'x'.repeat(MAX_SHARED_JSON));
    expect(AGENTWIRE_FORMAT.shared?.bytes([large], 'run_a')).toBeUndefined();
    const many = Array.from({ length: 200 }, (_, index) => stored(index + 1, 'y'.repeat(400)));
    expect(AGENTWIRE_FORMAT.shared?.bytes(many, 'run_a')).toBeUndefined();
  });
});
