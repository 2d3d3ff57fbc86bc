/**
 * `agentwire serve`: the gateway, the run viewer and the demo agents (or yours) on one port.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { demoAgents } from '../../demo/demo-agents.js';
import { createGateway } from '../../gateway/create-gateway.js';
import { listen } from '../../gateway/adapters/listen.js';
import type { AgentDefinition, AgentFunction } from '../../producer/agent.js';
import type { AgentsInput } from '../../runner/agents.js';
import { openaiAgent } from '../../sources/openai-agent.js';
import { sseBridgeAgent } from '../../sources/sse-bridge-agent.js';
import { loadAgentModule } from '../agent-module.js';
import { UsageError } from '../usage-error.js';
import { openRedisStore } from '../open-redis-store.js';
import { LOG_FORMATS, type LogFormat, createServeLogger } from '../serve-logger.js';

interface ServeFlags {
  port: number;
  host: string;
  agentModule?: string;
  demoSpeed: number;
  grace: number | 'continue';
  heartbeat: number;
  stallTimeout: number;
  retry: number;
  exposeErrors: boolean;
  openaiBaseUrl?: string;
  model?: string;
  bridge?: string;
  bridgeMethod: 'GET' | 'POST';
  authToken: string[];
  authTokensFile?: string;
  corsOrigin: string[];
  shutdown: 'cancel' | 'finish' | 'handoff';
  tlsCert?: string;
  tlsKey?: string;
  h2c: boolean;
  shutdownDeadline: number;
  redis?: string;
  redisLease: number;
  logFormat: LogFormat;
}

/** Adds `serve` to the program. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Run the gateway with the run viewer and the demo agents (or your own with --agent-module).')
    .addOption(new Option('-p, --port <port>', 'port to listen on (0 picks a free one)').default(8787).argParser(integer('port', 0, 65535)).env('PORT'))
    .addOption(new Option('-H, --host <host>', 'interface to listen on (0.0.0.0 for every interface)').default('127.0.0.1').env('HOST'))
    .option('-a, --agent-module <path>', 'serve the agents exported by this module instead of the demo agents')
    .option('--demo-speed <multiplier>', 'demo pace: 1 = 15–80 tokens/s, 2 = twice as fast, 0 = as fast as possible', number('demo-speed'), 1)
    .option('--grace <ms|continue>', "keep a run with no subscriber going this long (ms) before cancelling it; 'continue' never cancels", grace, 30_000)
    .option('--heartbeat <ms>', 'interval of the heartbeat comment on every stream (ms)', integer('heartbeat', 1, 3_600_000), 15_000)
    // The gateway's own default (stallTimeoutMs), repeated so --help shows it.
    .option('--stall-timeout <ms>', 'drop a subscriber that reads nothing this long (ms), so it cannot hold its run paused', integer('stall-timeout', 1, 3_600_000), 45_000)
    .option('--retry <ms>', 'reconnect delay sent to clients in the retry: field (ms)', integer('retry', 0, 3_600_000), 2_000)
    .option('--expose-errors', 'show unexpected agent error messages to clients (development only)', false)
    .option('--openai-base-url <url>', 'also serve an agent "openai" streaming from this OpenAI-compatible endpoint (key from OPENAI_API_KEY)')
    .option('--model <name>', 'the model for --openai-base-url')
    .option('--bridge <url>', 'also serve an agent "bridge" relaying this existing SSE endpoint')
    .addOption(new Option('--bridge-method <method>', 'how --bridge sends the input: GET ?input= or POST {input}').choices(['GET', 'POST']).default('GET'))
    .option('--auth-token <[principal:]token>', 'require "Authorization: Bearer <token>" (repeatable; env AGENTWIRE_AUTH_TOKEN)', collect, [])
    .option('--auth-tokens-file <path>', 'require bearer tokens listed in this file, one "principal:token" per line')
    .addOption(
      new Option('--shutdown <policy>', "on SIGTERM: 'cancel' live runs, let them 'finish' until the deadline, or 'handoff' (end streams so clients reconnect to another gateway, finish runs)")
        .choices(['cancel', 'finish', 'handoff'])
        .default('cancel'),
    )
    .option('--tls-cert <file>', 'serve HTTP/2 over TLS (and HTTP/1.1 by ALPN) with this PEM certificate (see: agentwire cert)')
    .option('--tls-key <file>', 'the PEM private key for --tls-cert')
    .option('--h2c', 'serve cleartext HTTP/2 (prior knowledge), for a proxy that speaks it', false)
    .option('--shutdown-deadline <ms>', 'longest a shutdown waits for runs to finish (ms)', integer('shutdown-deadline', 0, 3_600_000), 10_000)
    .option('--cors-origin <origin>', "allow this origin to call cross-origin (repeatable; '*' for any, without credentials)", collect, [])
    .addOption(new Option('--redis <url>', 'keep the run log in Redis (redis://host:port, or redis-cluster://host:port,… for a Redis Cluster) so several gateways serve every run').env('AGENTWIRE_REDIS_URL'))
    // The Redis store's own default (createRedisStore's leaseMs), repeated so --help can show it without loading ioredis.
    .option('--redis-lease <ms>', "lease of this gateway on its runs in Redis; a survivor fails a run whose lease expired (producer_lost)", integer('redis-lease', 100, 3_600_000), 10_000)
    .addOption(new Option('--log-format <format>', "log lines: 'pretty' (readable), 'json' (pino), or 'auto': pretty on a terminal, JSON when piped").choices(LOG_FORMATS).default('auto'))
    .action(async (flags: ServeFlags) => {
      // Checked before anything opens, so a bad pair is a usage error and not a failed listen.
      const transport = await transportFrom(flags);
      const agents = await collectAgents(flags);
      const auth = await authFrom(flags);
      const store = flags.redis ? await openRedisStore(flags.redis, flags.redisLease) : undefined;
      const logger = createServeLogger(flags.logFormat, { level: process.env.LOG_LEVEL ?? 'info' });
      // A rejection an agent leaves behind (a promise it never awaited) must not take every stream down.
      process.on('unhandledRejection', (reason) => logger.error({ event: 'unhandled_rejection', err: reason }, 'an unhandled promise rejection (most likely from an agent) was ignored'));
      const gateway = createGateway({
        agents,
        logger,
        ...(store ? { store } : {}),
        ...(auth ? { auth: { tokens: auth, ...(process.env.AGENTWIRE_STREAM_TOKEN_SECRET ? { streamTokenSecret: process.env.AGENTWIRE_STREAM_TOKEN_SECRET } : {}) } } : {}),
        ...(flags.corsOrigin.length > 0 ? { corsOrigins: flags.corsOrigin } : {}),
        graceMs: flags.grace,
        heartbeatMs: flags.heartbeat,
        stallTimeoutMs: flags.stallTimeout,
        retryMs: flags.retry,
        exposeErrors: flags.exposeErrors,
      });
      let server: Awaited<ReturnType<typeof listen>>;
      try {
        server = await listen(gateway, { port: flags.port, host: flags.host, ...transport });
      } catch (error) {
        await gateway.close();
        await store?.close();
        const code = (error as NodeJS.ErrnoException).code;
        const reason = code === 'EADDRINUSE' ? `port ${flags.port} is already in use (try --port 0 or another port)` : (error as Error).message;
        throw Object.assign(new Error(`cannot listen on ${flags.host}:${flags.port}: ${reason}`), { usage: code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' });
      }
      const names = gateway.runner.agents.list().map((agent) => agent.name);
      const protocol = { http1: '', h2: '  (HTTP/2 + HTTP/1.1 over TLS)', h2c: '  (cleartext HTTP/2)' }[server.protocol];
      console.log(`agentwire listening on ${server.url}  (agents: ${names.join(', ')})${store ? '  (run log: Redis)' : ''}${protocol}`);
      // With auth on, the line to copy must carry a token (a placeholder: the real ones stay out of logs).
      console.log(
        auth
          ? `  open ${server.url}/ in a browser and sign in with your token, or stream a run (TOKEN: for --auth-token alice:TOKEN, the part after the colon):`
          : `  open ${server.url}/ in a browser, or stream a run:`,
      );
      const curlFlags = server.protocol === 'h2' ? '-N -k' : server.protocol === 'h2c' ? '-N --http2-prior-knowledge' : '-N';
      console.log(
        `  curl ${curlFlags}${auth ? " -H 'authorization: Bearer TOKEN'" : ''} -X POST -H 'accept: text/event-stream' -H 'content-type: application/json' -d '{"input":"What is the capital of France?"}' ${server.url}/api/runs`,
      );
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          console.error(`agentwire: ${signal} again, exiting now`);
          process.exit(1);
        }
        stopping = true;
        console.log(`agentwire: ${signal} received, ending streams and shutting down…`);
        server.close({ runs: flags.shutdown === 'cancel' ? 'cancel' : 'finish', deadlineMs: flags.shutdownDeadline, endStreams: flags.shutdown === 'handoff' }).then(
          async () => {
            await store?.close();
            process.exit(0);
          },
          (error: unknown) => {
            console.error('agentwire: error during shutdown:', error);
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
}

/** The listen options for --tls-cert/--tls-key/--h2c. */
async function transportFrom(flags: ServeFlags): Promise<{ tls?: { cert: Buffer; key: Buffer }; h2c?: boolean }> {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (flags.tlsCert !== undefined && flags.h2c) throw new UsageError('--h2c is cleartext: it cannot be combined with --tls-cert');
  if (flags.tlsCert === undefined || flags.tlsKey === undefined) return flags.h2c ? { h2c: true } : {};
  const read = async (path: string, flag: string) => {
    try {
      return await readFile(path);
    } catch (error) {
      throw new UsageError(`${flag}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  return { tls: { cert: await read(flags.tlsCert, '--tls-cert'), key: await read(flags.tlsKey, '--tls-key') } };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** principal → token from --auth-token, AGENTWIRE_AUTH_TOKEN and --auth-tokens-file; undefined when none. */
async function authFrom(flags: ServeFlags): Promise<Record<string, string> | undefined> {
  const entries = [...flags.authToken];
  if (process.env.AGENTWIRE_AUTH_TOKEN) entries.push(process.env.AGENTWIRE_AUTH_TOKEN);
  if (flags.authTokensFile !== undefined) {
    let text: string;
    try {
      text = await readFile(flags.authTokensFile, 'utf8');
    } catch (error) {
      throw new UsageError(`--auth-tokens-file: cannot read ${flags.authTokensFile}: ${(error as Error).message}`);
    }
    for (const line of text.split(/\r?\n/)) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      if (!/^[^\s:]+[:\s]\s*\S+$/.test(trimmed)) throw new UsageError(`--auth-tokens-file: expected "principal:token", got "${trimmed.slice(0, 40)}"`);
      entries.push(trimmed.replace(/\s+/, ':'));
    }
  }
  if (entries.length === 0) return undefined;
  const tokens: Record<string, string> = {};
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const [principal, token] = colon > 0 ? [entry.slice(0, colon), entry.slice(colon + 1)] : [entries.length === 1 ? 'default' : `token-${index + 1}`, entry];
    if (token.length < 8) throw new UsageError(`--auth-token: the token of "${principal}" must have at least 8 characters`);
    tokens[principal] = token;
  });
  return tokens;
}

/** The demo agents or the module's, plus the source agents the flags ask for. */
async function collectAgents(flags: ServeFlags): Promise<AgentDefinition[]> {
  const base: AgentsInput = flags.agentModule ? await loadAgentModule(flags.agentModule) : demoAgents({ speed: flags.demoSpeed });
  const agents: AgentDefinition[] = Array.isArray(base)
    ? [...(base as AgentDefinition[])]
    : Object.entries(base as Record<string, AgentFunction | AgentDefinition>).map(([name, value]) =>
        typeof value === 'function' ? { name, run: value } : { ...value, name },
      );
  if (flags.openaiBaseUrl !== undefined || flags.model !== undefined) {
    if (!flags.openaiBaseUrl || !flags.model) throw new UsageError('--openai-base-url and --model go together');
    const apiKey = process.env.OPENAI_API_KEY;
    agents.push(openaiAgent({ baseURL: flags.openaiBaseUrl, model: flags.model, ...(apiKey ? { apiKey } : {}) }));
  }
  if (flags.bridge !== undefined) agents.push(sseBridgeAgent(flags.bridge, { method: flags.bridgeMethod }));
  return agents;
}

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`--${name} must be an integer from ${min} to ${max}.`);
    }
    return parsed;
  };
}

function number(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) throw new InvalidArgumentError(`--${name} must be a non-negative number.`);
    return parsed;
  };
}

function grace(value: string): number | 'continue' {
  if (value === 'continue') return 'continue';
  const parsed = Number(value);
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("--grace must be a number of milliseconds or 'continue'.");
  return parsed;
}
