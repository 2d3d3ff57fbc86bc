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
 * @module
 */
export type { RedisStoreOptions } from './redis-store.js';
export type { StateReadStats } from './state-checkpoints.js';
export { LOG_LOST, PRODUCER_LOST, RedisStore, createRedisStore } from './redis-store.js';
