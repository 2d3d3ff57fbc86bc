/**
 * The browser-safe entries (`agentwire`, protocol, reducer, client, react) run in browsers: nothing
 * they import, however indirectly, may use a Node built-in, `Buffer` or `process`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/process.js';

const NODE_MODULES = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);

/** Every source file reachable from `entry` by relative imports, and every bare import seen. */
function importGraph(entry: string): { files: string[]; bare: string[] } {
  const files = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g)) {
      const specifier = (match[1] ?? match[2] ?? match[3]) as string;
      if (specifier.startsWith('.')) {
        const base = resolve(dirname(file), specifier.replace(/\.js$/, ''));
        visit(existsSync(`${base}.ts`) ? `${base}.ts` : `${base}.tsx`);
      }
      else bare.add(specifier);
    }
  };
  visit(resolve(ROOT, entry));
  return { files: [...files], bare: [...bare] };
}

describe.each(['src/index.ts', 'src/protocol/index.ts', 'src/reducer/index.ts', 'src/client/index.ts', 'src/react/index.ts'])('%s', (entry) => {
  it('imports no Node built-in, directly or indirectly', () => {
    const { files, bare } = importGraph(entry);
    expect(files.length).toBeGreaterThan(1);
    expect(bare.filter((specifier) => NODE_MODULES.has(specifier))).toEqual([]);
  });

  it('uses no Buffer or process global', () => {
    for (const file of importGraph(entry).files) {
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(code, file).not.toMatch(/\bBuffer\b|\bprocess\.|\brequire\(/);
    }
  });
});
