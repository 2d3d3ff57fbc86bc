/**
 * `agentwire serve --redis <url>`: connects the Redis run log, loading `agentwire/redis` (and so
 * `ioredis`) only when asked, with a one-line error when it cannot. A `redis-cluster://` URL
 * connects to a Redis Cluster (see `RedisStoreOptions.url`).
 *
 * @module
 */
import type { RunStore } from '../store/store.js';

/** Connects a Redis store, or throws an error whose message says what to do. */
export async function openRedisStore(url: string, leaseMs: number | undefined): Promise<RunStore> {
  let module: typeof import('../redis/index.js');
  try {
    module = await import('../redis/index.js');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String(error).includes('ioredis')) {
      throw new Error('--redis needs the ioredis package: npm install ioredis');
    }
    throw error;
  }
  try {
    return await module.createRedisStore({ url, ...(leaseMs === undefined ? {} : { leaseMs }) });
  } catch (error) {
    throw new Error(`cannot start with --redis: ${(error as Error).message}`, { cause: error });
  }
}
