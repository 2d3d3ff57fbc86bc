/**
 * A real 3-master Redis Cluster for tests, from Debian's `redis-server` and `redis-cli`: three
 * servers with `cluster-enabled yes` on free loopback ports (each with its own bus port and
 * directory), joined by `redis-cli --cluster create … --cluster-yes`, ready once every node
 * reports `cluster_state:ok` and all 16384 slots assigned.
 */
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { type RedisServer, freePort, startRedis } from './redis-server.js';

/** A running cluster. */
export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  /** `redis-cluster://127.0.0.1:<port>,…` naming every node. */
  readonly url: string;
  stop(): Promise<void>;
  /**
   * Kills every node (SIGKILL) and starts it again: without persistence each comes back empty but
   * with its cluster configuration (`nodes.conf`), so the cluster serves the same slots, no data.
   */
  restartEmpty(): Promise<void>;
}

/** Starts a cluster of `masters` nodes (no replicas). */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  try {
    for (let index = 0; index < masters; index++) {
      const busPort = await freePort();
      nodes.push(await startRedis({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(busPort), '--cluster-node-timeout', '5000'] }));
    }
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed (${create.status}):\n${create.stdout}\n${create.stderr}`);
    await clusterReady(nodes);
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }
  return {
    nodes,
    url: `redis-cluster://${nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}`,
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()));
    },
    async restartEmpty() {
      await Promise.all(nodes.map((node) => node.kill()));
      await Promise.all(nodes.map((node) => node.restart()));
      await clusterReady(nodes);
    },
  };
}

/** Resolves once every node reports `cluster_state:ok`, all slots assigned and every node known (20 s at most). */
async function clusterReady(nodes: readonly RedisServer[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ready = nodes.every((node) => {
      const info = spawnSync('redis-cli', ['-p', String(node.port), 'cluster', 'info'], { encoding: 'utf8' }).stdout ?? '';
      return info.includes('cluster_state:ok') && info.includes('cluster_slots_assigned:16384') && info.includes(`cluster_known_nodes:${nodes.length}`);
    });
    if (ready) return;
    if (Date.now() > deadline) throw new Error('the Redis Cluster did not reach cluster_state:ok within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Errors of each kind the cluster's nodes answered so far (`INFO errorstats`), summed over nodes. */
export async function clusterErrors(cluster: Pick<RedisCluster, 'nodes'>): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const node of cluster.nodes) {
    const client = new Redis(node.url);
    try {
      for (const [, kind, count] of ((await client.info('errorstats')) as string).matchAll(/^errorstat_(\w+):count=(\d+)/gm)) {
        totals[kind as string] = (totals[kind as string] ?? 0) + Number(count);
      }
    } finally {
      client.disconnect();
    }
  }
  return totals;
}
