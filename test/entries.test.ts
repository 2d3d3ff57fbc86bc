/**
 * Every entry of the built package, imported by its specifier as users do: each exports exactly the
 * names listed in helpers/entries.ts; the Node-only ones give browser bundles a stub that throws
 * with a way out, and the browser-safe ones bundle for a browser without a Node module.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BROWSER_SAFE_ENTRIES, ENTRY_EXPORTS, NODE_ONLY_ENTRIES, browserStubMessage, printEntryExports } from './helpers/entries.js';
import { ROOT, requireBuild, run } from './helpers/process.js';

type Conditions = Record<string, string>;
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, Conditions | string> };
/** The JavaScript entries of `exports`, by specifier (the stylesheet and package.json are files, not entries). */
const entries = Object.fromEntries(
  Object.entries(manifest.exports)
    .filter((pair): pair is [string, Conditions] => typeof pair[1] === 'object')
    .map(([subpath, conditions]) => [subpath === '.' ? 'agentwire' : `agentwire/${subpath.slice(2)}`, conditions]),
);

describe('the entries', () => {
  it('are the ones listed, each with its types and an import', () => {
    expect(Object.keys(entries).sort()).toEqual(Object.keys(ENTRY_EXPORTS).sort());
    requireBuild();
    for (const [entry, conditions] of Object.entries(entries)) {
      expect(Object.keys(conditions)[0], entry).toBe('types');
      for (const condition of ['types', 'import']) expect(existsSync(join(ROOT, conditions[condition] ?? '')), `${entry} ${condition}`).toBe(true);
    }
  });

  it('each export exactly the names listed, imported by their specifiers', async () => {
    requireBuild();
    const result = await run(process.execPath, ['--input-type=module', '-e', printEntryExports()], { cwd: ROOT });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(ENTRY_EXPORTS);
  });

  it.each(NODE_ONLY_ENTRIES)('%s is Node-only: under the browser condition it throws, naming agentwire/client', async (entry) => {
    requireBuild();
    const conditions = entries[entry] as Conditions;
    // Bundlers take the first condition they know: `browser` must come before `import`.
    expect(Object.keys(conditions).indexOf('browser'), entry).toBeGreaterThan(0);
    expect(Object.keys(conditions).indexOf('browser')).toBeLessThan(Object.keys(conditions).indexOf('import'));
    const script = `await import(${JSON.stringify(entry)}).then(() => console.log('loaded'), (error) => console.log(error.message));`;
    const result = await run(process.execPath, ['--conditions=browser', '--input-type=module', '-e', script], { cwd: ROOT });
    expect(result.stdout.trim(), result.stderr).toBe(browserStubMessage(entry));
  });

  it('the browser-safe entries load under the browser condition', async () => {
    requireBuild();
    expect(BROWSER_SAFE_ENTRIES).toContain('agentwire');
    const result = await run(process.execPath, ['--conditions=browser', '--input-type=module', '-e', printEntryExports(BROWSER_SAFE_ENTRIES)], { cwd: ROOT });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(Object.fromEntries(BROWSER_SAFE_ENTRIES.map((entry) => [entry, ENTRY_EXPORTS[entry]])));
  });
});

describe('a browser bundle (Vite)', () => {
  const project = mkdtempSync(join(tmpdir(), 'agentwire-browser-'));
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  /** The code of a Vite browser build of a module that imports and uses every name of `selected`. */
  async function bundle(selected: readonly string[]): Promise<string> {
    requireBuild();
    if (!existsSync(join(project, 'node_modules'))) {
      mkdirSync(join(project, 'node_modules'));
      symlinkSync(ROOT, join(project, 'node_modules', 'agentwire'), 'dir');
    }
    const imports = selected.map((entry, index) => `import { ${(ENTRY_EXPORTS[entry] ?? []).map((name) => `${name} as n${index}_${name}`).join(', ')} } from '${entry}';`);
    const used = selected.flatMap((entry, index) => (ENTRY_EXPORTS[entry] ?? []).map((name) => `n${index}_${name}`));
    const main = join(project, `main-${selected.length}-${selected[0]?.replace(/\W/g, '-')}.js`);
    writeFileSync(main, `${imports.join('\n')}\nconsole.log(${used.join(', ')});\n`);
    const { build } = await import('vite');
    const result = (await build({
      configFile: false,
      root: project,
      logLevel: 'silent',
      build: { write: false, minify: false, rollupOptions: { input: main } },
    })) as { output: { code?: string }[] };
    return result.output.map((chunk) => chunk.code ?? '').join('\n');
  }

  it.each(NODE_ONLY_ENTRIES)('of every name of %s is its stub, which throws as the page loads it', async (entry) => {
    const code = await bundle([entry]);
    expect(code).toContain(`throw new Error(${JSON.stringify(browserStubMessage(entry))})`);
    expect(code).not.toContain('__vite-browser-external');
  }, 60_000);

  it('of every name of the browser-safe entries pulls in no Node module', async () => {
    const code = await bundle(BROWSER_SAFE_ENTRIES);
    expect(code).toContain('this.name = "AgentError"');
    // A browser build replaces a Node built-in with this empty module, and would fail at run time.
    expect(code).not.toContain('__vite-browser-external');
    expect(code).not.toMatch(/runs in Node, not in a browser/);
  }, 60_000);
});
