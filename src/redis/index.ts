/**
 * `agentwire/redis`: the Redis Streams run log, for running several gateway processes behind a
 * load balancer. Any gateway serves any run; a gateway's death loses no stored event, and its runs
 * end with `run.failed` (`producer_lost`). Needs the `ioredis` package (an optional peer dependency).
 *
 * @example
 * ```ts
 * import { createGateway, listen } from 'agentwire/gateway';
 * import { createRedisStore } from 'agentwire/redis';
 *
 * const store = await createRedisStore({ url: process.env.AGENTWIRE_REDIS_URL });
 * const gateway = createGateway({ agents, store });
 * await listen(gateway, { port: 8787 });
 * ```
 *
 * On a Redis Cluster, name one or more of its nodes with a `redis-cluster://` URL (the same for
 * `agentwire serve --redis`); every run lives in one slot, and no command spans two:
 *
 * ```ts
 * const store = await createRedisStore({ url: 'redis-cluster://10.0.0.1:6379,10.0.0.2:6379' });
 * ```
 * @module
 */
export type { RedisStoreOptions } from './redis-store.js';
export type { StateReadStats } from './state-checkpoints.js';
export { LOG_LOST, PRODUCER_LOST, RedisStore, createRedisStore } from './redis-store.js';
