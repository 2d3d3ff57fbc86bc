/**
 * Nothing fails in silence and no limit passes under a burst, on the default (memory) store: an
 * agent's `finally` that throws is reported, an `authenticate` that throws on a WebSocket upgrade
 * is logged, `maxRunsPerOwner` holds under 60 concurrent starts, and two gateways sharing one
 * store share its idempotency keys.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createGateway } from '../src/gateway/create-gateway.js';
import { type ListeningGateway, listen } from '../src/gateway/adapters/listen.js';
import type { Logger } from '../src/gateway/operations/logger.js';
import type { AgentContext } from '../src/producer/agent.js';
import { Runner } from '../src/runner/runner.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { waitFor } from './helpers/wait.js';


const agents = {
  async *waiting(ctx: AgentContext) {
    yield 'started';
    await ctx.sleep(60_000);
  },
  /** Its cleanup fails once the run is cancelled. */
  async *messyCleanup(ctx: AgentContext) {
    try {
      yield 'started';
      await ctx.sleep(60_000);
    } finally {
      // eslint-disable-next-line no-unsafe-finally
      throw new Error('cleanup failed: the temp dir is gone');
    }
  },
};

function memoryLogger(): Logger & { lines: { level: string; object: Record<string, unknown>; message: string }[] } {
  const lines: { level: string; object: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (object: Record<string, unknown>, message: string) => lines.push({ level, object, message });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

const servers: ListeningGateway[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close({ deadlineMs: 500 })));
});

async function serve(options: Partial<Parameters<typeof createGateway>[0]> = {}): Promise<ListeningGateway> {
  const server = await listen(createGateway({ agents, graceMs: 'continue', uiDir: false, ...options }), { port: 0 });
  servers.push(server);
  return server;
}

const post = (url: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) => fetch(`${url}/api/runs`, { method: 'POST', headers, body: JSON.stringify(body) });

describe('errors are reported, not swallowed', () => {
  it("reports what an agent's finally throws after its run was cancelled", async () => {
    const reported: { error: unknown; runId: string }[] = [];
    const server = await serve({ onAgentError: (error, run) => reported.push({ error, runId: run.runId }) });
    const response = await post(server.url, { agent: 'messyCleanup', input: null });
    const { id } = (await response.json()) as { id: string };
    expect((await fetch(`${server.url}/api/runs/${id}/cancel`, { method: 'POST' })).status).toBe(200);
    const [report] = await waitFor(() => (reported.length > 0 ? reported : undefined), "the finally's error is reported");
    expect(report).toMatchObject({ runId: id });
    expect((report?.error as Error).message).toBe('cleanup failed: the temp dir is gone');
  });

  it('logs an authenticate that throws on a WebSocket upgrade', async () => {
    const logger = memoryLogger();
    const server = await serve({
      logger,
      auth: {
        authenticate: () => {
          throw new Error('the session service is down');
        },
      },
    });
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/ws`);
    await new Promise<void>((resolve) => {
      ws.once('error', () => resolve());
      ws.once('close', () => resolve());
    });
    const line = await waitFor(() => logger.lines.find((entry) => entry.object.event === 'ws.upgrade_failed'), 'the failed upgrade is logged');
    expect(line.level).toBe('error');
    expect((line.object.err as Error).message).toBe('the session service is down');
  });
});

describe('limits and keys on the memory store', () => {
  it('60 starts in one turn of the loop: exactly maxRunsPerOwner (20) start, the rest get AW_TOO_MANY_RUNS', async () => {
    const store = new MemoryStore();
    const runner = new Runner({ store, agents, graceMs: 'continue', maxRunsPerOwner: 20 });
    const results = await Promise.allSettled(Array.from({ length: 60 }, () => runner.start({ agent: 'waiting', input: null, owner: 'alice' })));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(20);
    const refused = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    expect(refused).toHaveLength(40);
    expect(refused.every((result) => (result.reason as { code?: string }).code === 'AW_TOO_MANY_RUNS')).toBe(true);
    expect((await store.listRuns({ owner: 'alice', limit: 100 })).filter((record) => record.status === 'running')).toHaveLength(20);
    // An ended run frees its slot in the store's count.
    const [first] = results as PromiseFulfilledResult<{ id: string }>[];
    expect(await runner.cancel(first!.value.id)).toBe(true);
    await expect(runner.start({ agent: 'waiting', input: null, owner: 'alice' })).resolves.toMatchObject({ status: 'running' });
    await expect(runner.start({ agent: 'waiting', input: null, owner: 'alice' })).rejects.toThrow(/20 runs running/);
    await runner.shutdown();
    await store.close();
  });

  it('two gateways on one MemoryStore share Idempotency-Keys', async () => {
    const store = new MemoryStore();
    const [a, b] = [await serve({ store }), await serve({ store })];
    const headers = { 'content-type': 'application/json', 'idempotency-key': 'shared-key' };
    const first = (await (await post(a.url, { agent: 'waiting', input: 1 }, headers)).json()) as { id: string };
    const again = await post(b.url, { agent: 'waiting', input: 1 }, headers);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(first.id);
    expect((await post(b.url, { agent: 'waiting', input: 2 }, headers)).status).toBe(409);
    await store.close();
  });
});
