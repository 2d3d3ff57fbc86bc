import { describe, expect, it } from 'vitest';
import { causeText } from '../client/cause-text.js';
import { connectionHint, errorCodes, isCertificateError } from './connection-hint.js';

/** Node's fetch failure for a port nobody listens on: every address refused, wrapped twice. */
function refused(): TypeError {
  const v4 = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  const v6 = Object.assign(new Error('connect ECONNREFUSED ::1:1'), { code: 'ECONNREFUSED' });
  return new TypeError('fetch failed', { cause: Object.assign(new AggregateError([v4, v6]), { code: 'ECONNREFUSED' }) });
}

describe('connection hints from a cause chain', () => {
  it("reads codes through causes and an AggregateError's first error", () => {
    expect(errorCodes(refused())).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
    expect(connectionHint(refused())).toMatch(/nothing is listening there/);
    expect(causeText(refused())).toBe('fetch failed: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1');
  });

  it('finds a certificate code below the outer error', () => {
    const error = new TypeError('fetch failed', { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) });
    expect(isCertificateError(error)).toBe(true);
    expect(causeText(error)).toBe('fetch failed: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)');
  });

  it('stops at a cause that is no object, and at a cycle after a bounded depth', () => {
    expect(errorCodes(new Error('outer', { cause: 'a string' }))).toEqual([]);
    expect(errorCodes('nothing')).toEqual([]);
    expect(causeText(new Error('outer', { cause: 'a string' }))).toBe('outer: a string');
    const cycle = Object.assign(new Error('loop'), { code: 'ELOOP' }) as Error & { cause?: unknown };
    cycle.cause = cycle;
    expect(errorCodes(cycle)).toEqual(Array(6).fill('ELOOP'));
    expect(causeText(cycle)).toBe('loop (ELOOP)');
    expect(connectionHint(cycle)).toBeUndefined();
  });
});
