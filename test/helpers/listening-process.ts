/**
 * A child process that serves HTTP and prints `listening on http://…` once it does (an example,
 * `npx agentwire serve` in a packed install), stopped with its whole process group.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { ROOT, requireBuild } from './process.js';

/** A started server process. */
export interface ListeningProcess {
  readonly child: ChildProcess;
  /** The URL it printed. */
  readonly url: string;
  /** Everything it printed so far. */
  output(): string;
  /** Sends SIGTERM to its process group and resolves once it has exited. */
  stop(): Promise<void>;
}

/** Starts `command args` in its own process group and resolves with the URL it prints. */
export async function startListening(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ListeningProcess> {
  // Its own process group, so stopping it also stops a server a wrapper (npx) started.
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-(child.pid as number), 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    await exited;
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 30_000;
      const timer = setTimeout(() => reject(new Error(`${command} printed no URL in ${timeoutMs} ms:\n${output}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/[^\s)]+)/.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${command} exited (${child.exitCode ?? child.signalCode}) before listening:\n${output}`));
      });
    });
    return { child, url, output: () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs `examples/<file>` with Node on a free port (`PORT=0`); examples import 'agentwire', i.e. dist/. */
export function startExample(file: string, env: Record<string, string> = {}): Promise<ListeningProcess> {
  requireBuild();
  return startListening(process.execPath, [`examples/${file}`], { cwd: ROOT, env: { ...process.env, PORT: '0', ...env } });
}

/** {@link startExample} before a suite's tests and stopped after them; read `url` inside the tests. */
export function useExample(file: string, env: Record<string, string> = {}): { readonly url: string } {
  let server: ListeningProcess | undefined;
  beforeAll(async () => {
    server = await startExample(file, env);
  }, 40_000);
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get url() {
      if (!server) throw new Error(`examples/${file} has not started yet`);
      return server.url;
    },
  };
}
