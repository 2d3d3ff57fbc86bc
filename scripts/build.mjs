// Builds dist/: compiles src/ with tsc (JS, declarations, source maps) and copies the viewer page.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
cpSync('src/ui', 'dist/ui', { recursive: true });
chmodSync('dist/cli/main.js', 0o755);
