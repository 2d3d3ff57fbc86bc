import { describe, expect, it } from 'vitest';
import type { GatewayRequest } from '../http-types.js';
import { resumeCursor } from './run-lookup.js';

const withCursor = (lastEventId: string | undefined, query = ''): GatewayRequest => ({
  method: 'GET',
  url: new URL(`http://gateway.invalid/api/runs/run_1/events${query}`),
  signal: new AbortController().signal,
  header: (name) => (name === 'last-event-id' ? lastEventId : undefined),
  readBody: async () => '',
});

describe('resumeCursor', () => {
  it('prefers Last-Event-ID, then ?after, then ?lastEventId, and defaults to 0', () => {
    expect(resumeCursor(withCursor('7', '?after=3'))).toBe(7);
    expect(resumeCursor(withCursor(undefined, '?after=3&lastEventId=2'))).toBe(3);
    expect(resumeCursor(withCursor(undefined, '?lastEventId=2'))).toBe(2);
    expect(resumeCursor(withCursor(undefined))).toBe(0);
  });

  it('refuses a malformed cursor, echoing at most its first 40 characters', () => {
    const huge = '9x'.repeat(5_000);
    let message = '';
    try {
      resumeCursor(withCursor(huge));
    } catch (error) {
      expect(error).toMatchObject({ code: 'AW_BAD_CURSOR' });
      message = (error as Error).message;
    }
    expect(message).toContain(`"${huge.slice(0, 40)}…"`);
    expect(message.length).toBeLessThan(200);
    expect(() => resumeCursor(withCursor('-1'))).toThrow('got "-1"');
  });
});
