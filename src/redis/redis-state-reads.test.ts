/**
 * Issue 18, item 2, on the Redis store: `GET /api/runs/:id` serves the state the producer
 * checkpoints, not a re-read and re-fold of the whole log per request (readers are anonymous by
 * default). Before the checkpoints every GET of a 50,000-event run read and parsed all 50,000 events
 * (167-389 ms a request on loopback).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../gateway/create-gateway.js';
import { type ListeningGateway, listen } from '../gateway/adapters/listen.js';
import type { AgentContext } from '../producer/agent.js';
import { type RedisStore, createRedisStore } from '../redis/redis-store.js';
import { type RedisServer, redisSuitesEnabled, startRedis } from '../../test/helpers/redis-server.js';

const enabled = redisSuitesEnabled('Redis state reads suite');
const EVENTS = 20_000;

describe.runIf(enabled)('reads of a Redis run', () => {
  let redis: RedisServer;
  let store: RedisStore;
  let listening: ListeningGateway;
  let runId: string;

  beforeAll(async () => {
    redis = await startRedis();
    store = await createRedisStore({ url: redis.url, keyPrefix: 'aw:reads:', onConnectionChange: () => {} });
    const agents = {
      async *words(ctx: AgentContext) {
        for (let index = 0; index < EVENTS; index++) {
          if (index % 500 === 0) await ctx.sleep(0);
          yield `w${index} `;
        }
      },
    };
    const gateway = createGateway({ agents, store, uiDir: false });
    listening = await listen(gateway, { port: 0, host: '127.0.0.1' });
    runId = (await gateway.runner.start({ input: null })).id;
    await gateway.runner.whenEnded(runId);
  });

  afterAll(async () => {
    await listening?.close();
    await store?.close();
    await redis?.stop();
  });

  it(`GET /api/runs/:id of a ${EVENTS}-event run parses far fewer than its events`, async () => {
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const response = await fetch(`${listening.url}/api/runs/${runId}`);
      expect(response.status).toBe(200);
      await response.text();
      expect(parse.mock.calls.length).toBeLessThan(EVENTS / 16);
    } finally {
      parse.mockRestore();
    }
  });
});
