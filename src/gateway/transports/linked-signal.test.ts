import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { linkSignals, shareSignal } from './linked-signal.js';

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

  it('puts one listener on a shared source however many signals link to it, and aborts each linked one', () => {
    const shutdown = new AbortController();
    shareSignal(shutdown.signal);
    const links = Array.from({ length: 1000 }, () => linkSignals(new AbortController().signal, shutdown.signal));
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(1);
    for (const link of links.slice(0, 10)) link.dispose();
    shutdown.abort('closing');
    expect(links.slice(0, 10).every((link) => !link.signal.aborted)).toBe(true);
    expect(links.slice(10).every((link) => link.signal.aborted && link.signal.reason === 'closing')).toBe(true);
  });

  it('a link made after a shared source aborted is aborted at once, and other sources still work', () => {
    const shutdown = new AbortController();
    shareSignal(shutdown.signal);
    const before = linkSignals(shutdown.signal);
    shutdown.abort('first');
    expect(before.signal.reason).toBe('first');
    expect(linkSignals(shutdown.signal).signal.reason).toBe('first');
    const request = new AbortController();
    const other = linkSignals(request.signal, new AbortController().signal);
    request.abort('gone');
    expect(other.signal.reason).toBe('gone');
  });

  it('an unshared source gets one plain listener per link, removed at dispose', () => {
    const request = new AbortController();
    const link = linkSignals(request.signal);
    expect(getEventListeners(request.signal, 'abort')).toHaveLength(1);
    link.dispose();
    expect(getEventListeners(request.signal, 'abort')).toHaveLength(0);
  });

  it('is itself the listener on an unshared source: one object per link, not a closure and a context per source', () => {
    const request = new AbortController();
    const link = linkSignals(request.signal, new AbortController().signal);
    expect(getEventListeners(request.signal, 'abort')).toEqual([link]);
    request.abort('gone');
    expect(link.signal.reason).toBe('gone');
  });
});
