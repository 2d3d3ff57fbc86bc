/**
 * Several gateways on one Redis keep the single-gateway promises: an `Idempotency-Key` starts one
 * run whichever gateway each retry reaches, and `maxRunsPerPrincipal` holds exactly under a burst
 * spread over gateways, freed when a run ends and when its producer is lost — on one Redis and on a
 * Redis Cluster (where the shared keys and the scripts that use them each stay on one slot).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../src/gateway/create-gateway.js';
import { type ListeningGateway, listen } from '../src/gateway/adapters/listen.js';
import type { AgentContext } from '../src/producer/agent.js';
import { type RedisStore, createRedisStore } from '../src/redis/redis-store.js';
import { type RedisBackend, REDIS_BACKENDS } from './helpers/redis-backends.js';
import { redisSuitesEnabled } from './helpers/redis-server.js';
import { waitFor } from './helpers/wait.js';

const enabled = redisSuitesEnabled('Redis shared limits suite');
const TOKEN = 'alice-token-0123456789';
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };

const agents = {
  /** Runs until cancelled. */
  async *waiting(ctx: AgentContext) {
    yield 'started';
    await ctx.sleep(60_000);
  },
};

describe.runIf(enabled).each(REDIS_BACKENDS)('shared state across gateways on $name', ({ start }) => {
  let redis: RedisBackend;
  let prefixes = 0;
  const opened: { server: ListeningGateway; store: RedisStore }[] = [];
  beforeAll(async () => {
    redis = await start();
  }, 60_000);
  afterEach(async () => {
    for (const { server, store } of opened.splice(0)) {
      await server.close({ deadlineMs: 500 });
      await store.close();
    }
  });
  afterAll(async () => {
    await redis?.stop();
  });

  async function gateways(count: number, leaseMs = 2000) {
    const keyPrefix = `aw:shared${++prefixes}:`;
    return Promise.all(
      Array.from({ length: count }, async () => {
        const store = await createRedisStore({ url: redis.url, keyPrefix, leaseMs, onConnectionChange: () => {} });
        const gateway = createGateway({ agents, store, graceMs: 'continue', uiDir: false, auth: { tokens: { alice: TOKEN } }, limits: { maxRunsPerPrincipal: 20 } });
        const server = await listen(gateway, { port: 0 });
        opened.push({ server, store });
        return { url: server.url, store };
      }),
    );
  }

  const post = (url: string, body: unknown, key?: string) =>
    fetch(`${url}/api/runs`, { method: 'POST', headers: { ...HEADERS, ...(key ? { 'idempotency-key': key } : {}) }, body: JSON.stringify(body) });

  async function running(url: string): Promise<number> {
    const { runs } = (await (await fetch(`${url}/api/runs?limit=500`, { headers: HEADERS })).json()) as { runs: { status: string }[] };
    return runs.filter((run) => run.status === 'running').length;
  }

  it('the same Idempotency-Key and body on gateway A then B returns the same run; another body is refused', async () => {
    const [a, b] = await gateways(2);
    const first = await post(a!.url, { input: 'hello' }, 'key-1');
    expect(first.status).toBe(201);
    const { id } = (await first.json()) as { id: string };
    const again = await post(b!.url, { input: 'hello' }, 'key-1');
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { id: string }).id).toBe(id);
    const other = await post(b!.url, { input: 'something else' }, 'key-1');
    expect(other.status).toBe(409);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('AW_IDEMPOTENCY_MISMATCH');
    expect(await running(a!.url)).toBe(1);
  });

  it('concurrent requests with one Idempotency-Key on two gateways start one run', async () => {
    const [a, b] = await gateways(2);
    const responses = await Promise.all(Array.from({ length: 10 }, (_, index) => post((index % 2 === 0 ? a : b)!.url, { input: 'once' }, 'key-burst')));
    const ids = await Promise.all(responses.map(async (response) => ((await response.json()) as { id: string }).id));
    expect(new Set(ids).size).toBe(1);
    expect(responses.map((response) => response.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(await running(a!.url)).toBe(1);
  });

  it('60 concurrent starts on one gateway: exactly maxRunsPerPrincipal (20) run, the rest get 429', async () => {
    const [a] = await gateways(1);
    const statuses = (await Promise.all(Array.from({ length: 60 }, () => post(a!.url, { input: null })))).map((response) => response.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(20);
    expect(statuses.filter((status) => status === 429)).toHaveLength(40);
    expect(await running(a!.url)).toBe(20);
  });

  it('21 concurrent starts on each of two gateways: 20 run in all; an ended run frees its slot', async () => {
    const [a, b] = await gateways(2);
    const responses = await Promise.all(Array.from({ length: 42 }, (_, index) => post((index % 2 === 0 ? a : b)!.url, { input: null })));
    const started = responses.filter((response) => response.status === 201);
    expect(started).toHaveLength(20);
    expect(await running(a!.url)).toBe(20);
    expect((await post(b!.url, { input: null })).status).toBe(429);
    const { id } = (await started[0]!.json()) as { id: string };
    expect((await fetch(`${b!.url}/api/runs/${id}/cancel`, { method: 'POST', headers: HEADERS })).status).toBe(200);
    // The cancel is a request: the run's producer (maybe A, told over pub/sub) ends it and frees the slot.
    await waitFor(async () => (await post(b!.url, { input: null })).status === 201, 'a run may start once the cancelled one ended', 5_000, 20);
  });

  it("a gateway lost with its runs frees their slots once their leases expire", async () => {
    const [a, b] = await gateways(2, 300);
    for (let index = 0; index < 20; index++) expect((await post(a!.url, { input: null })).status).toBe(201);
    expect((await post(b!.url, { input: null })).status).toBe(429);
    await a!.store.close(); // a crash: A's leases are no longer renewed
    await waitFor(async () => (await post(b!.url, { input: null })).status === 201, 'B may start a run once A is known lost', 10_000, 50);
  });

  it('sent no command that spans two slots, and needed no redirection, through all of the above', async () => {
    const errors = await redis.errors();
    expect(errors.CROSSSLOT ?? 0).toBe(0);
    expect(errors.MOVED ?? 0).toBe(0);
  });
});
