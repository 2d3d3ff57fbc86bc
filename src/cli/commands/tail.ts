/**
 * `agentwire tail <url>`: start a run (or follow one) and watch it in the terminal — a live step
 * tree on a TTY, append-only lines when piped, NDJSON with `--json`. Reconnects by itself (saying so
 * once per outage), but gives up on a run URL that never answered; Ctrl-C
 * cancels a run tail started, and only detaches from one it follows; so does a reader that goes
 * away (`| head`), quietly.
 *
 * @module
 */
import logUpdate from 'log-update';
import type { Command } from 'commander';
import { cancelRun } from '../../client/cancel-run.js';
import { causeText } from '../../client/cause-text.js';
import { startRun } from '../../client/start-run.js';
import { subscribe } from '../../client/subscribe.js';
import type { ConnectionStatus } from '../../client/types.js';
import type { AgentEvent } from '../../protocol/events.js';
import { isTerminalType } from '../../protocol/events.js';
import { reduce } from '../../reducer/reduce.js';
import { initialRunState } from '../../protocol/run-state.js';
import { connectionHint, credentialsHint, errorCodes, isCertificateError } from '../connection-hint.js';
import { positiveMilliseconds } from '../milliseconds.js';
import { TOKEN_HELP, resolveToken } from '../token.js';
import { UsageError } from '../usage-error.js';
import { createInsecureFetch } from '../tail/insecure-fetch.js';
import { createPlainPrinter } from '../tail/plain-printer.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, createReconnectWatch } from '../tail/reconnect-watch.js';
import { renderRun, summarize } from '../tail/render-tree.js';

interface TailFlags {
  input?: string;
  agent?: string;
  json: boolean;
  plain: boolean;
  token?: string;
  insecure: boolean;
  connectTimeout: number;
}

/** What a tail URL names: a gateway to start a run on, or a run to follow. */
export function parseTailUrl(raw: string): { baseUrl: string; runId: string | undefined } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`not a URL: ${raw} (e.g. http://127.0.0.1:8787 or http://127.0.0.1:8787/api/runs/<id>)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`tail needs an http(s) URL, got ${url.protocol}`);
  const match = /^(.*?)\/(?:api\/)?runs\/([^/]+)(?:\/events)?\/?$/.exec(url.pathname);
  if (match) return { baseUrl: `${url.origin}${match[1]}`, runId: decodeURIComponent(match[2] as string) };
  return { baseUrl: `${url.origin}${url.pathname.replace(/\/+$/, '').replace(/\/api$/, '')}`, runId: undefined };
}

/** Adds `tail` to the program. */
export function registerTailCommand(program: Command): void {
  program
    .command('tail <url>')
    .description('Watch a run in the terminal: start one on a gateway URL (with --input) or follow a run URL (…/runs/<id>).')
    .option('-i, --input <text>', 'start a run with this input (JSON if it parses, else a string)')
    .option('-a, --agent <name>', 'the agent to start (default: the gateway\'s default agent)')
    .option('--json', 'print one event per line (NDJSON), for scripts', false)
    .option('--plain', 'append-only text even on a terminal', false)
    .option('-t, --token <token>', TOKEN_HELP)
    .option('-k, --insecure', 'accept a self-signed certificate (https)', false)
    .option('--connect-timeout <ms>', 'give up on a run URL that does not answer within this long (a stream that was live keeps reconnecting)', positiveMilliseconds('connect-timeout'), DEFAULT_CONNECT_TIMEOUT_MS)
    .action(async (url: string, flags: TailFlags) => {
      const code = await tail(url, flags);
      // Exit now rather than when idle keep-alive sockets time out (once what was written is flushed).
      if (!process.stdout.destroyed) await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
      process.exit(code);
    });
}

async function tail(url: string, flags: TailFlags): Promise<number> {
  const { baseUrl, runId: followId } = parseTailUrl(url);
  if (followId === undefined && flags.input === undefined) throw new UsageError('give --input to start a run, or a run URL (…/api/runs/<id>) to follow one');
  if (followId !== undefined && (flags.input !== undefined || flags.agent !== undefined)) throw new UsageError('--input and --agent start a run; a run URL follows an existing one: use one or the other');
  const token = resolveToken(flags.token);
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const controller = new AbortController();
  const live = process.stdout.isTTY === true && !flags.json && !flags.plain;
  let runId = followId;
  let state = initialRunState();
  let status: ConnectionStatus | undefined;
  let interrupted = false;
  /** A failure that retrying cannot fix (an untrusted certificate, a run URL that never answered), seen while reconnecting. */
  let fatal: unknown;
  const giveUp = (error: unknown) => {
    fatal ??= error;
    controller.abort();
  };
  const target = new URL(baseUrl).host;
  const watch = createReconnectWatch({
    target,
    // A started run answered its start request; only a followed URL can be wrong from the outset.
    connectTimeoutMs: followId === undefined ? undefined : flags.connectTimeout,
    // On a terminal the live frame shows the reconnect instead (a stderr line would tear it).
    say: (line) => {
      if (!live) process.stderr.write(`agentwire tail: ${line}\n`);
    },
    giveUp,
  });
  const onStatus = (next: ConnectionStatus) => {
    status = next;
    if (next.state === 'reconnecting' && isCertificateError(next.error)) return giveUp(next.error);
    watch.onStatus(next);
  };
  const fetchImpl = flags.insecure ? createInsecureFetch() : undefined;
  const common = { baseUrl, headers, signal: controller.signal, onStatus, ...(fetchImpl ? { fetch: fetchImpl } : {}) };
  const events: AsyncIterable<AgentEvent> =
    followId !== undefined
      ? subscribe(followId, common)
      : startRun({ ...common, input: parseInput(flags.input as string), ...(flags.agent ? { agent: flags.agent } : {}), onRunId: (id) => (runId = id) });

  /** Cancels the run tail started (so it does not run on through its grace period); detaches from one it follows. */
  const stop = async (): Promise<void> => {
    if (followId !== undefined || runId === undefined) return controller.abort();
    await cancelRun(runId, { baseUrl, headers, reason: 'cancelled from agentwire tail', ...(fetchImpl ? { fetch: fetchImpl } : {}) }).catch(() => controller.abort());
  };
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    // A started run then ends with run.cancelled, which is still shown.
    void stop();
  };
  process.on('SIGINT', onSigint);
  /** Set when stdout's reader went away (`| head -2`): nothing more can be shown, so stop quietly. */
  let outputClosed: Promise<void> | undefined;
  process.stdout.on('error', () => {
    outputClosed ??= stop().then(() => controller.abort());
  });
  const report = (error: unknown) => {
    const hint = connectionHint(error) ?? (errorCodes(error).includes('AW_UNAUTHORIZED') ? credentialsHint(Boolean(token)) : undefined);
    process.stderr.write(`agentwire tail: ${causeText(error)}\n${hint ? `  ${hint}\n` : ''}`);
  };

  const printPlain = createPlainPrinter((text) => process.stdout.write(text));
  let frame = 0;
  let answerTokens = 0;
  const draw = () => {
    const lines = renderRun(state, { frame: frame++, now: Date.now(), answerLines: Math.max(5, (process.stdout.rows ?? 40) - 20) });
    if (status?.state === 'reconnecting') {
      lines.push(`reconnecting to ${target} (${causeText(status.error)}; attempt ${status.attempt}, retry in ${Math.round(status.delayMs / 100) / 10} s)… Ctrl-C to stop`);
    }
    logUpdate(lines.join('\n'));
  };
  const ticker = live ? setInterval(draw, 80) : undefined;
  try {
    for await (const event of events) {
      if (outputClosed) break;
      state = reduce(state, event);
      if (event.type === 'text.delta' && event.stepId === undefined) answerTokens++;
      if (flags.json) process.stdout.write(`${JSON.stringify(event)}\n`);
      else if (!live) printPlain(event, state);
      if (isTerminalType(event.type)) break;
    }
  } catch (error) {
    if (!controller.signal.aborted) {
      if (ticker) clearInterval(ticker);
      if (live) logUpdate.done();
      report(error);
      return 1;
    }
  } finally {
    watch.stop();
    process.off('SIGINT', onSigint);
    if (ticker) clearInterval(ticker);
  }
  if (outputClosed) {
    await outputClosed;
    return 0;
  }
  if (fatal !== undefined) {
    if (live) logUpdate.done();
    report(fatal);
    return 1;
  }
  if (live) {
    logUpdate.clear();
    process.stdout.write(`${renderRun(state, { frame: 0, now: Date.now(), color: true }).join('\n')}\n\n`);
  }
  if (!flags.json) process.stdout.write(`${live ? '' : '\n'}${state.status === 'idle' || state.status === 'running' ? 'detached' : summarize(state, answerTokens, live)}\n`);
  if (interrupted) return 130;
  return state.status === 'finished' ? 0 : 1;
}

function parseInput(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
