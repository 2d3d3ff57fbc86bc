import { describe, expect, it } from 'vitest';
import { toStoredEvent } from '../../store/store.js';
import { AGENTWIRE_FORMAT } from './stream-formats.js';

const stored = (seq: number, text: string) => toStoredEvent({ type: 'text.delta', text, seq, at: 0 });

describe('AGENTWIRE_FORMAT', () => {
  it('frames an event as id, event and data lines', () => {
    expect(AGENTWIRE_FORMAT.frame(stored(7, 'Paris'))).toBe('id: 7\nevent: text.delta\ndata: {"type":"text.delta","text":"Paris","seq":7,"at":0}\n\n');
  });

  it('never hands an event the cached frame of another event in its slot', () => {
    const event = stored(3, 'a');
    const first = AGENTWIRE_FORMAT.frame(event);
    expect(first).toContain('"text":"a"');
    expect(AGENTWIRE_FORMAT.frame(event)).toBe(first);
    // Same seq (another run), and a seq 256 further on: both share the slot, neither gets the other's frame.
    const sameSeq = stored(3, 'b');
    const nextLap = stored(3 + 256, 'c');
    expect(AGENTWIRE_FORMAT.frame(sameSeq)).toContain('"text":"b"');
    expect(AGENTWIRE_FORMAT.frame(nextLap)).toContain('"text":"c"');
    expect(AGENTWIRE_FORMAT.frame(event)).toBe(first);
  });
});
