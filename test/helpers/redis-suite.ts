/**
 * The Redis a store suite shares: one `redis-server` and an admin client for the whole `describe`,
 * and the stores each test opens closed after it, so one test's leases and followers do not reach
 * into the next.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { RedisStore } from '../../src/redis/redis-store.js';
import { type RedisServer, startRedis } from './redis-server.js';

/** What {@link redisSuite} gives a `describe`: read `redis` and `admin` inside hooks and tests only. */
export interface RedisSuite {
  /** The server, started before the first test. */
  readonly redis: RedisServer;
  /** A plain client on it, for looking at keys and stats behind the store's back. */
  readonly admin: Redis;
  /** Closes `stores` after the current test; returns them for chaining. */
  track<T extends RedisStore[]>(...stores: T): T;
}

/** Registers the suite's hooks (call it at the top of a `describe`) and returns its handles. */
export function redisSuite(): RedisSuite {
  let redis: RedisServer | undefined;
  let admin: Redis | undefined;
  const stores: RedisStore[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });
  afterAll(async () => {
    admin?.disconnect();
    await redis?.stop();
  });
  return {
    get redis() {
      if (!redis) throw new Error('redisSuite: the server starts in beforeAll; read it in a hook or a test');
      return redis;
    },
    get admin() {
      if (!admin) throw new Error('redisSuite: the admin client connects in beforeAll; read it in a hook or a test');
      return admin;
    },
    track: (...opened) => {
      stores.push(...opened);
      return opened;
    },
  };
}
