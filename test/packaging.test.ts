/**
 * What a user gets before the package is on the registry, installed the way the docs say:
 * `npm pack` in the clone, then, in a new project (`npm init -y`, `npm pkg set type=module`),
 * `npm install ./agentwire-<version>.tgz`. There
 * `npx agentwire serve` runs, every export resolves (with its types), and a script starts a
 * gateway and follows a run with the client.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRY_EXPORTS, PEER_ENTRIES, printEntryExports } from './helpers/entries.js';
import { startListening } from './helpers/listening-process.js';
import { ROOT, run } from './helpers/process.js';

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

describe('the packed package', () => {
  let project: string;
  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), 'agentwire-pack-'));
    const packed = await run(npm, ['pack', '--ignore-scripts', '--pack-destination', project, '--silent'], { timeoutMs: 120_000 });
    expect(packed.code, packed.stderr).toBe(0);
    // The file name the docs print: `npm install ./agentwire-0.1.0.tgz`.
    expect(readdirSync(project)).toEqual([`agentwire-${version}.tgz`]);
    // A new project as the docs make one: `npm init -y` (which writes "type": "commonjs" on npm 11), then
    // `npm pkg set type=module`, which the ESM-only package and the docs' import snippets need.
    for (const args of [['init', '-y'], ['pkg', 'set', 'type=module']]) {
      const step = await run(npm, args, { cwd: project, timeoutMs: 60_000 });
      expect(step.code, step.stderr).toBe(0);
    }
    expect((JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { type?: string }).type).toBe('module');
    const installed = await run(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error', `./agentwire-${version}.tgz`], { cwd: project, timeoutMs: 240_000 });
    expect(installed.code, installed.stderr).toBe(0);
    // Recorded as a file dependency, so the project's own `npm install` keeps it.
    const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    expect(manifest.dependencies?.agentwire).toBe(`file:agentwire-${version}.tgz`);
  }, 400_000);
  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('runs `npx agentwire serve` from the installed package and streams a demo run', async () => {
    const serve = await startListening(npx, ['agentwire', 'serve', '--port', '0', '--demo-speed', '0'], { cwd: project });
    const { url } = serve;
    try {
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
      await serve.stop();
    }
  }, 60_000);

  it('runs a script against the installed package: a gateway on 127.0.0.1:0, a run started and replayed with the client (absolute baseUrl)', async () => {
    writeFileSync(
      join(project, 'client-run.mjs'),
      [
        "import { createGateway, demoAgents, listen } from 'agentwire/gateway';",
        "import { startRun, subscribe } from 'agentwire/client';",
        "import { initialRunState, reduce } from 'agentwire/reducer';",
        "const gateway = createGateway({ agents: demoAgents({ speed: 0 }) });",
        "const server = await listen(gateway, { host: '127.0.0.1', port: 0 });",
        'let runId;',
        'let state = initialRunState();',
        'const types = [];',
        "for await (const event of startRun({ baseUrl: server.url, agent: 'demo', input: 'What is the capital of France?', onRunId: (id) => { runId = id; } })) {",
        '  types.push(event.type);',
        '  state = reduce(state, event);',
        '}',
        'let replayed = 0;',
        'for await (const _event of subscribe(runId, { baseUrl: server.url })) replayed++;',
        'await server.close();',
        'console.log(JSON.stringify({ url: server.url, first: types[0], last: types.at(-1), events: types.length, replayed, status: state.status, text: state.text }));',
      ].join('\n'),
    );
    const result = await run(process.execPath, ['client-run.mjs'], { cwd: project, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { url: string; first: string; last: string; events: number; replayed: number; status: string; text: string };
    expect(report.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(report).toMatchObject({ first: 'run.started', last: 'run.finished', status: 'finished' });
    expect(report.text).toContain('Paris');
    expect(report.replayed).toBe(report.events);
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
        "import { createRunStore, RunStreamError } from 'agentwire/client';",
        // These need optional peers the project does not have (react, ioredis): they must resolve.
        "const resolved = ['agentwire/react', 'agentwire/react/styles.css', 'agentwire/redis'].map((entry) => import.meta.resolve(entry).replace(/^.*node_modules\\/agentwire\\//, ''));",
        "const gateway = createGateway({ agents: { a: async function* () { yield 'x'; } }, uiDir: false });",
        'await gateway.close();',
        "const state = reduce(initialRunState(), { type: 'run.started', runId: 'r', agent: 'a', input: 1, seq: 1, at: 0 });",
        "console.log(JSON.stringify({ version: pkg.version, types: EVENT_TYPES.length, status: state.status, frame: encodeSseEvent({ type: 'status', message: 'hi', seq: 2, at: 0 }), ok: [listen, MemoryStore, AgentError, defineAgent, isAgentwireError, validateAgentYield, createRunStore, RunStreamError].every((f) => typeof f === 'function'), resolved }));",
      ].join('\n'),
    );
    const result = await run(process.execPath, ['check.mjs'], { cwd: project });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { version: string; types: number; status: string; frame: string; ok: boolean; resolved: string[] };
    expect(report).toMatchObject({ version, types: 14, status: 'running', ok: true, resolved: ['dist/react/index.js', 'dist/react/styles.css', 'dist/redis/index.js'] });
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
        "import { startRun, type RunSnapshot } from 'agentwire/client';",
        "const snapshot: RunSnapshot | undefined = undefined;",
        "const events: AsyncGenerator<AgentEvent> = startRun({ baseUrl: 'http://127.0.0.1:8787', input: 'hi' });",
        'async function* agent(ctx: AgentContext) { yield* ctx.step("s", async function* (step) { yield step.log("x"); }); yield "hi"; }',
        'const gateway: Gateway = createGateway({ agents: { agent } });',
        "const event: AgentEvent = { type: 'text.delta', text: 'a', seq: 1, at: 0 };",
        "const delta: TextDeltaEvent = { type: 'text.delta', text: 'b' };",
        'const state: RunState = reduce(initialRunState(), event);',
        "// @ts-expect-error: a wrong event shape must not type-check",
        "const bad: AgentEvent = { type: 'text.delta', seq: 1, at: 0 };",
        'void [gateway, delta, state, bad, snapshot, events];',
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
