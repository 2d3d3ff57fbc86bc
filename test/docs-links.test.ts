/**
 * The relative links of the Markdown outside the docs site (README.md, bench/PERF.md) point at files
 * that exist; the site's own pages are checked by the VitePress build, which fails on a dead link.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/process.js';

/** The relative link targets of a Markdown file, without their #fragments. */
function relativeLinks(markdown: string): string[] {
  const targets = [...markdown.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] as string);
  return targets.filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith('#')).map((target) => target.split('#')[0] as string);
}

describe('links outside the docs site', () => {
  for (const file of ['README.md', 'bench/PERF.md']) {
    it(`every relative link of ${file} exists`, () => {
      const links = relativeLinks(readFileSync(join(ROOT, file), 'utf8'));
      expect(links.length).toBeGreaterThan(0);
      const missing = links.filter((link) => !existsSync(join(ROOT, dirname(file), link)));
      expect(missing).toEqual([]);
    });
  }
});
