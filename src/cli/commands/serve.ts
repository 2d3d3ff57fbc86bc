/**
 * `agentwire serve`: the gateway, the run viewer and the demo agents (or yours) on one port.
 *
 * @module
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { demoAgents } from '../../demo/demo-agents.js';
import { createGateway } from '../../gateway/create-gateway.js';
import { listen } from '../../gateway/listen.js';
import type { AgentsInput } from '../../runner/agents.js';
import { loadAgentModule } from '../agent-module.js';
import { openRedisStore } from '../open-redis-store.js';

interface ServeFlags {
  port: number;
  host: string;
  agentModule?: string;
  demoSpeed: number;
  grace: number | 'continue';
  heartbeat: number;
  retry: number;
  exposeErrors: boolean;
  redis?: string;
  redisLease?: number;
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
    .option('--heartbeat <ms>', 'interval of heartbeat comments on idle streams (ms)', integer('heartbeat', 1, 3_600_000), 15_000)
    .option('--retry <ms>', 'reconnect delay sent to clients in the retry: field (ms)', integer('retry', 0, 3_600_000), 2_000)
    .option('--expose-errors', 'show unexpected agent error messages to clients (development only)', false)
    .addOption(new Option('--redis <url>', 'keep the run log in Redis (redis://host:port) so several gateways serve every run').env('AGENTWIRE_REDIS_URL'))
    .option('--redis-lease <ms>', "lease of this gateway on its runs in Redis; a survivor fails a run whose lease expired (producer_lost)", integer('redis-lease', 100, 3_600_000))
    .action(async (flags: ServeFlags) => {
      const agents: AgentsInput = flags.agentModule ? await loadAgentModule(flags.agentModule) : demoAgents({ speed: flags.demoSpeed });
      const store = flags.redis ? await openRedisStore(flags.redis, flags.redisLease) : undefined;
      const gateway = createGateway({
        agents,
        ...(store ? { store } : {}),
        graceMs: flags.grace,
        heartbeatMs: flags.heartbeat,
        retryMs: flags.retry,
        exposeErrors: flags.exposeErrors,
      });
      let server: Awaited<ReturnType<typeof listen>>;
      try {
        server = await listen(gateway, { port: flags.port, host: flags.host });
      } catch (error) {
        await gateway.close();
        await store?.close();
        const code = (error as NodeJS.ErrnoException).code;
        const reason = code === 'EADDRINUSE' ? `port ${flags.port} is already in use (try --port 0 or another port)` : (error as Error).message;
        throw Object.assign(new Error(`cannot listen on ${flags.host}:${flags.port}: ${reason}`), { usage: code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' });
      }
      const names = gateway.runner.agents.list().map((agent) => agent.name);
      console.log(`agentwire listening on ${server.url}  (agents: ${names.join(', ')})${store ? '  (run log: Redis)' : ''}`);
      console.log(`  open ${server.url}/ in a browser, or stream a run:`);
      console.log(
        `  curl -N -X POST -H 'accept: text/event-stream' -H 'content-type: application/json' -d '{"input":"What is the capital of France?"}' ${server.url}/api/runs`,
      );
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          console.error(`agentwire: ${signal} again, exiting now`);
          process.exit(1);
        }
        stopping = true;
        console.log(`agentwire: ${signal} received, ending streams and shutting down…`);
        server.close().then(
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
