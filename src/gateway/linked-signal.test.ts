import { describe, expect, it } from 'vitest';
import { linkSignals } from './linked-signal.js';

describe('linkSignals', () => {
  it('aborts when any source aborts, with that reason, and detaches from the others', () => {
    const first = new AbortController();
    const second = new AbortController();
    const linked = linkSignals(first.signal, undefined, second.signal);
    expect(linked.signal.aborted).toBe(false);
    second.abort('bye');
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe('bye');
    first.abort('later');
    expect(linked.signal.reason).toBe('bye');
  });

  it('is aborted at once when a source already is', () => {
    const linked = linkSignals(AbortSignal.abort('gone'), new AbortController().signal);
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe('gone');
  });

  it('after dispose, sources no longer reach it', () => {
    const source = new AbortController();
    const linked = linkSignals(source.signal);
    linked.dispose();
    source.abort();
    expect(linked.signal.aborted).toBe(false);
  });
});
