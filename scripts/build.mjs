// Builds dist/: compiles src/ with tsc (JS, declarations, source maps), copies the React default
// stylesheet, writes the browser stubs of the Node-only entries and builds the viewer page (src/ui,
// React) with Vite into dist/ui.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeBrowserStubs } from './browser-stubs.mjs';

const require = createRequire(import.meta.url);
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
cpSync('src/react/styles.css', 'dist/react/styles.css');
await writeBrowserStubs();
const { build } = await import('vite');
await build({
  configFile: false,
  root: 'src/ui',
  base: '/',
  logLevel: 'warn',
  // The gateway's CSP allows no inline script or style: everything goes to files under assets/.
  build: { outDir: '../../dist/ui', emptyOutDir: true, assetsDir: 'assets', modulePreload: { polyfill: false }, assetsInlineLimit: 0, sourcemap: false },
  oxc: { jsx: { runtime: 'automatic' } },
});
chmodSync('dist/cli/main.js', 0o755);
