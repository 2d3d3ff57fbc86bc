/**
 * The Redis a suite runs on, as one list: a single `redis-server`, and a 3-master Redis Cluster,
 * each with what fault tests do to it (a command on every node, a restart that loses the data),
 * so a suite written once proves its promises on both.
 */
import { Cluster, Redis } from 'ioredis';
import { clusterErrors, startRedisCluster } from './redis-cluster.js';
import { startRedis } from './redis-server.js';

/** A running Redis (one server or a cluster). */
export interface RedisBackend {
  /** The store's URL (`redis://…` or `redis-cluster://…`). */
  readonly url: string;
  /** A client for keyed commands (a cluster client on a cluster, so a key reaches its slot's node). */
  readonly admin: Redis | Cluster;
  /** Sends one command to every node (`ACL SETUSER`, `CONFIG SET`…). */
  everyNode(command: string, ...args: (string | number)[]): Promise<void>;
  /** Kills Redis and starts it again without its data (a restart without persistence). */
  restartEmpty(): Promise<void>;
  /** Errors of each kind Redis answered so far (`INFO errorstats`, summed over the nodes). */
  errors(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** Each kind of Redis a suite runs on, by name. */
export const REDIS_BACKENDS: readonly { name: string; start: () => Promise<RedisBackend> }[] = [
  {
    name: 'one Redis',
    async start() {
      const server = await startRedis();
      const admin = new Redis(server.url);
      return {
        url: server.url,
        admin,
        everyNode: async (command, ...args) => void (await admin.call(command, ...args)),
        async restartEmpty() {
          await server.kill();
          await server.restart();
        },
        errors: () => clusterErrors({ nodes: [server] }),
        async stop() {
          admin.disconnect();
          await server.stop();
        },
      };
    },
  },
  {
    name: 'a 3-master Redis Cluster',
    async start() {
      const cluster = await startRedisCluster(3);
      const admin = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })));
      admin.on('error', () => {});
      return {
        url: cluster.url,
        admin,
        async everyNode(command, ...args) {
          await Promise.all(
            cluster.nodes.map(async (node) => {
              const client = new Redis(node.url);
              try {
                await client.call(command, ...args);
              } finally {
                client.disconnect();
              }
            }),
          );
        },
        restartEmpty: () => cluster.restartEmpty(),
        errors: () => clusterErrors(cluster),
        async stop() {
          admin.disconnect();
          await cluster.stop();
        },
      };
    },
  },
];
