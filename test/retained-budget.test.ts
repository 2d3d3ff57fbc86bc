/**
 * The gateway-wide memory budget for retained runs (`MemoryStore` `maxRetainedBytes`): starting and
 * abandoning runs cannot grow the gateway past it. Finished runs go first; a running run that grows
 * past it is failed with `AW_OVERLOADED` (when running runs alone take it at a start, the start
 * answers 503 `AW_OVERLOADED`).
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

  it('fails the running run that grows past it with AW_OVERLOADED (its stream ends with that run.failed), and the others go on', async () => {
    store = new MemoryStore({ maxRetainedBytes: 50_000 });
    server = await startNodeServer({ agents: [holding], store, graceMs: 60_000 });
    const current = store;
    const started: string[] = [];
    for (let index = 0; index < 3; index++) {
      started.push((await startRun(server.url, { agent: 'holding', input: null })).id);
      const id = started[index] as string;
      await waitFor(async () => ((await current.getRun(id))?.lastSeq ?? 0) >= 2 || (await current.getRun(id))?.status !== 'running', 'the run streamed its answer');
    }
    // Two runs of 20 KB fit in 50 KB; the third passed it and was failed, not the gateway's memory.
    const third = started[2] as string;
    expect((await current.getRun(third))?.status).toBe('failed');
    expect((await current.state(third))?.error?.code).toBe('AW_OVERLOADED');
    const stream = await fetch(`${server.url}/api/runs/${third}/events?after=0`);
    expect(await stream.text()).toMatch(/"type":"run.failed".*"code":"AW_OVERLOADED"/s);
    for (const id of started.slice(0, 2)) expect((await current.getRun(id))?.status).toBe('running');
    expect(current.retainedBytes).toBeLessThanOrEqual(50_000 + 21_000);
    // The failed run makes room: a new start goes through.
    const again = await startRun(server.url, { agent: 'holding', input: null });
    expect(again.id).toMatch(/^run_/);
    for (const id of [...started.slice(0, 2), again.id]) await fetch(`${server.url}/api/runs/${id}/cancel`, { method: 'POST' });
  });
});
