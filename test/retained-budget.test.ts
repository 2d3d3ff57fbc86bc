/**
 * The gateway-wide memory budget for retained runs (`MemoryStore` `maxRetainedBytes`): starting and
 * abandoning runs cannot grow the gateway past it. Finished runs go first; when running runs alone
 * take it, a new start answers 503 `AW_OVERLOADED` until some end.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentContext, AgentDefinition } from '../src/producer/agent.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { type TestServer, startNodeServer } from './helpers/servers.js';
import { startRun } from './helpers/sse-client.js';
import { waitFor } from './helpers/wait.js';

/** Streams 20 KB of answer, then holds its run open until cancelled. */
const holding: AgentDefinition = {
  name: 'holding',
  async *run(ctx: AgentContext) {
    yield ctx.text('x'.repeat(20_000));
    await ctx.sleep(60_000);
  },
};

describe('maxRetainedBytes across the gateway', () => {
  let server: TestServer | undefined;
  let store: MemoryStore | undefined;
  afterEach(async () => {
    await server?.close();
    await store?.close();
  });

  it('refuses a new run with 503 AW_OVERLOADED while running runs take the budget, and starts one again once they end', async () => {
    store = new MemoryStore({ maxRetainedBytes: 50_000 });
    server = await startNodeServer({ agents: [holding], store, graceMs: 60_000 });
    const started: string[] = [];
    for (let index = 0; index < 3; index++) started.push((await startRun(server.url, { agent: 'holding', input: null })).id);
    const current = store;
    await waitFor(() => current.retainedBytes > 50_000, 'running runs past the budget');
    const refused = await fetch(`${server.url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'holding', input: null }) });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: { code: 'AW_OVERLOADED' } });
    // Once a run ends, the finished one is dropped to make room, and a start goes through.

    for (const id of started.slice(0, 2)) {
      const cancelled = await fetch(`${server.url}/api/runs/${id}/cancel`, { method: 'POST' });
      expect(cancelled.status, await cancelled.clone().text()).toBe(200);
    }
    await waitFor(async () => (await current.getRun(started[1] as string))?.status !== 'running', 'cancelled runs ended');
    const again = await startRun(server.url, { agent: 'holding', input: null });
    expect(again.id).toMatch(/^run_/);
    expect(await current.getRun(started[0] as string)).toBeUndefined();
  });
});
