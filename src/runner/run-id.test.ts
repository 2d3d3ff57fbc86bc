import { describe, expect, it } from 'vitest';
import { createRunId, isRunIdShape } from './run-id.js';

describe('createRunId', () => {
  it('is run_ and 128 bits in unpadded base64url, and never repeats', () => {
    const ids = Array.from({ length: 20_000 }, createRunId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 2_000)) {
      expect(id).toMatch(/^run_[A-Za-z0-9_-]{22}$/);
      expect(isRunIdShape(id)).toBe(true);
      const bytes = Buffer.from(id.slice(4), 'base64url');
      expect(bytes.length).toBe(16);
      expect(bytes.toString('base64url')).toBe(id.slice(4)); // the same encoding Node gives
    }
  });

  it('spreads its bits: every base64url character turns up in the first position, both ends of each byte in use', () => {
    const ids = Array.from({ length: 20_000 }, createRunId);
    expect(new Set(ids.map((id) => id[4])).size).toBe(64);
    const bytes = ids.map((id) => Buffer.from(id.slice(4), 'base64url'));
    for (let position = 0; position < 16; position++) {
      const values = bytes.map((each) => each[position] as number);
      expect(Math.min(...values)).toBeLessThan(8);
      expect(Math.max(...values)).toBeGreaterThan(247);
    }
  });
});
