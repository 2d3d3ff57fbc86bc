// The `browser` stubs of the Node-only entries. Each entry of package.json `exports` with a
// `browser` condition gets a module that throws as a browser bundle loads it, saying what to use
// instead. The stub declares the Node entry's runtime names, so a bundler resolves the same imports
// and the user meets this message rather than the bundler's "X is not exported".
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Writes every stub named by `root`'s package.json; run after the Node entries are built. */
export async function writeBrowserStubs(root = process.cwd()) {
  const { name, exports } = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
  for (const [subpath, conditions] of Object.entries(exports)) {
    if (typeof conditions !== 'object' || conditions.browser === undefined) continue;
    const specifier = subpath === '.' ? name : `${name}/${subpath.slice(2)}`;
    const names = Object.keys(await import(pathToFileURL(resolve(root, conditions.import)).href));
    const message = `${specifier} runs in Node, not in a browser: use ${name}/client in the browser`;
    const stub = [
      `// ${specifier} as a browser bundle sees it (the "browser" condition): written by scripts/browser-stubs.mjs.`,
      `export let ${names.join(', ')};`,
      `throw new Error(${JSON.stringify(message)});`,
      '',
    ].join('\n');
    const file = resolve(root, conditions.browser);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, stub);
  }
}
