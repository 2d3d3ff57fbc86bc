/**
 * What a user of the published package gets: `npm pack`, install the tarball into an empty
 * project, then `npx agentwire serve` runs and every export resolves, with its types.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRY_EXPORTS, PEER_ENTRIES, printEntryExports } from './helpers/entries.js';
import { ROOT, run } from './helpers/process.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

describe('the packed package', () => {
  let project: string;
  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), 'agentwire-pack-'));
    const packed = await run(npm, ['pack', '--ignore-scripts', '--pack-destination', project, '--silent'], { timeoutMs: 120_000 });
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = readdirSync(project).find((name) => name.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const installed = await run(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error', `./${tarball}`], { cwd: project, timeoutMs: 240_000 });
    expect(installed.code, installed.stderr).toBe(0);
  }, 400_000);
  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('runs `npx agentwire serve` from the installed package and streams a demo run', async () => {
    const { spawn } = await import('node:child_process');
    // Its own process group, so stopping it also stops the server npx started.
    const child = spawn(npx, ['agentwire', 'serve', '--port', '0', '--demo-speed', '0'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed:\n${output}`)), 30_000);
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /listening on (http:\/\/\S+)/.exec(output);
          if (match?.[1]) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
      });
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      const response = await fetch(`${url}/api/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ input: 'What is the capital of France?' }),
      });
      const text = await response.text();
      expect(text).toMatch(/^retry: 2000/);
      expect(text).toContain('event: run.finished');
    } finally {
      process.kill(-(child.pid as number), 'SIGTERM');
      await exited;
    }
  }, 60_000);

  it('resolves every export at run time', async () => {
    writeFileSync(
      join(project, 'check.mjs'),
      [
        "import { AgentError, defineAgent, isAgentwireError } from 'agentwire';",
        "import { createGateway, listen, MemoryStore } from 'agentwire/gateway';",
        "import { encodeSseEvent, validateAgentYield, EVENT_TYPES } from 'agentwire/protocol';",
        "import { reduce, initialRunState } from 'agentwire/reducer';",
        "import pkg from 'agentwire/package.json' with { type: 'json' };",
        "const gateway = createGateway({ agents: { a: async function* () { yield 'x'; } }, uiDir: false });",
        'await gateway.close();',
        "const state = reduce(initialRunState(), { type: 'run.started', runId: 'r', agent: 'a', input: 1, seq: 1, at: 0 });",
        "console.log(JSON.stringify({ version: pkg.version, types: EVENT_TYPES.length, status: state.status, frame: encodeSseEvent({ type: 'status', message: 'hi', seq: 2, at: 0 }), ok: [listen, MemoryStore, AgentError, defineAgent, isAgentwireError, validateAgentYield].every((f) => typeof f === 'function') }));",
      ].join('\n'),
    );
    const result = await run(process.execPath, ['check.mjs'], { cwd: project });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { version: string; types: number; status: string; frame: string; ok: boolean };
    expect(report).toMatchObject({ types: 14, status: 'running', ok: true });
    expect(report.frame).toBe('id: 2\nevent: status\ndata: {"type":"status","message":"hi","seq":2,"at":0}\n\n');
  });

  it('each entry exports the names listed (those needing no optional peer: none is installed here)', async () => {
    const entries = Object.keys(ENTRY_EXPORTS).filter((entry) => PEER_ENTRIES[entry] === undefined);
    writeFileSync(join(project, 'entries.mjs'), printEntryExports(entries));
    const result = await run(process.execPath, ['entries.mjs'], { cwd: project });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(Object.fromEntries(entries.map((entry) => [entry, ENTRY_EXPORTS[entry]])));
  });

  it('resolves every export with its types', async () => {
    writeFileSync(
      join(project, 'check.ts'),
      [
        "import type { AgentContext, RunState } from 'agentwire';",
        "import { createGateway, type Gateway } from 'agentwire/gateway';",
        "import type { AgentEvent, TextDeltaEvent } from 'agentwire/protocol';",
        "import { reduce, initialRunState } from 'agentwire/reducer';",
        'async function* agent(ctx: AgentContext) { yield* ctx.step("s", async function* (step) { yield step.log("x"); }); yield "hi"; }',
        'const gateway: Gateway = createGateway({ agents: { agent } });',
        "const event: AgentEvent = { type: 'text.delta', text: 'a', seq: 1, at: 0 };",
        "const delta: TextDeltaEvent = { type: 'text.delta', text: 'b' };",
        'const state: RunState = reduce(initialRunState(), event);',
        "// @ts-expect-error: a wrong event shape must not type-check",
        "const bad: AgentEvent = { type: 'text.delta', seq: 1, at: 0 };",
        'void [gateway, delta, state, bad];',
        // Every entry has its declarations (a missing one is an implicit `any`: an error under --strict).
        ...Object.keys(ENTRY_EXPORTS).map((entry, index) => `import * as entry${index} from '${entry}'; void entry${index};`),
      ].join('\n'),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(
      process.execPath,
      [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2023', '--skipLibCheck', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'check.ts'],
      { cwd: project, timeoutMs: 60_000 },
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
  }, 60_000);
});
