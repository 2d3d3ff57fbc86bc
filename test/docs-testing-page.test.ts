/**
 * "How it is tested" (docs/testing.md) is said to list every suite: each test file under test/ is
 * named on the page, and each test file the page names exists, so a new suite or a renamed one
 * cannot leave the page behind.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/process.js';

/** Every `*.test.ts` below `dir`, as a path relative to the repository root. */
function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
  });
}

describe('the testing page', () => {
  const page = readFileSync(join(ROOT, 'docs/testing.md'), 'utf8');

  it('names every suite under test/', () => {
    const files = testFiles(join(ROOT, 'test'));
    expect(files.length).toBeGreaterThan(20);
    expect(files.filter((file) => !page.includes(`\`${file}\``))).toEqual([]);
  });

  it('names no test file that does not exist', () => {
    const named = [...page.matchAll(/`(test\/[\w/.-]+\.test\.ts)`/g)].map((match) => match[1] as string);
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter((file) => !existsSync(join(ROOT, file)))).toEqual([]);
  });
});
