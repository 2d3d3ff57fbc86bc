import { afterAll, beforeAll, describe } from 'vitest';
import { type RedisServer, redisSuitesEnabled, startRedis } from '../../test/helpers/redis-server.js';
import { runStoreContract } from '../store/store-contract.js';
import { createRedisStore } from './redis-store.js';

const enabled = redisSuitesEnabled('RedisStore contract');

describe.runIf(enabled)('RedisStore', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  // One key prefix per test: the contract assumes a fresh store, and owners ('alice') recur across tests.
  let stores = 0;
  runStoreContract('RedisStore', () => createRedisStore({ url: redis.url, leaseMs: 2000, keyPrefix: `aw:contract${++stores}:` }));
});
