import { describe, expect, it } from 'vitest';
import { formatLogLine } from './serve-logger.js';

describe('serve --log-format pretty, on lines it cannot read as usual', () => {
  it('passes a line that is not JSON through unchanged', () => {
    expect(formatLogLine('not json at all\n', false)).toBe('not json at all\n');
  });

  it('names an unknown level by its number and indents an error without a stack, with its code', () => {
    const line = JSON.stringify({ level: 35, time: 0, msg: 'odd', err: { message: 'disk full', code: 'ENOSPC' }, runId: 'run_1' });
    const text = formatLogLine(line, false);
    expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} 35    odd  runId=run_1\n {4}disk full \(ENOSPC\)\n$/);
  });
});
