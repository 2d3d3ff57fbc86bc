/**
 * Opens the store's connections to one Redis server or to a Redis Cluster, from one URL:
 * `redis://` / `rediss://` for a server, `redis-cluster://` / `rediss-cluster://` with one or more
 * seed nodes (`host:port,host:port`) for a cluster. On a cluster every command goes to the node of
 * its key's slot, commands issued in one turn are pipelined per node, and a pipeline that spans
 * slots is split by key (so a pipeline of many runs' keys never fails with CROSSSLOT).
 *
 * @module
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { AgentwireError } from '../protocol/errors.js';

/** Opens one more connection with `overrides` on top of the store's connection options. */
export interface Connect {
  (overrides?: RedisOptions): Redis;
  /**
   * On a cluster only: a plain connection to one node, the `attempt`-th (round the list) of those
   * known (the URL's seeds, then the nodes the first cluster client discovered). Classic pub/sub
   * reaches every node, so one node's connection hears every channel.
   */
  readonly node?: (attempt: number, overrides?: RedisOptions) => Redis;
}

const CLUSTER_SCHEME = /^(rediss?)-cluster:\/\/(.*)$/;

/** True for a `redis-cluster://` or `rediss-cluster://` URL. */
export function isClusterUrl(url: string): boolean {
  return CLUSTER_SCHEME.test(url);
}

/** The seed nodes, credentials and TLS choice of a cluster URL; throws `AW_INVALID_OPTION` on a malformed one. */
export function parseClusterUrl(url: string): { nodes: { host: string; port: number }[]; username?: string; password?: string; tls: boolean } {
  const match = CLUSTER_SCHEME.exec(url);
  const invalid = (why: string) =>
    new AgentwireError('AW_INVALID_OPTION', `Redis cluster URL ${redactUrl(url)} ${why}; expected redis-cluster://[user:password@]host:port[,host:port…]`);
  if (!match) throw invalid('has another scheme');
  const rest = match[2] as string;
  const at = rest.lastIndexOf('@');
  const hosts = (at === -1 ? rest : rest.slice(at + 1)).replace(/\/+$/, '');
  let username: string | undefined;
  let password: string | undefined;
  if (at !== -1) {
    const credentials = rest.slice(0, at);
    const colon = credentials.indexOf(':');
    username = decodeURIComponent(colon === -1 ? credentials : credentials.slice(0, colon)) || undefined;
    password = colon === -1 ? undefined : decodeURIComponent(credentials.slice(colon + 1));
  }
  if (hosts === '') throw invalid('names no node');
  const nodes = hosts.split(',').map((part) => {
    let parsed: URL;
    try {
      parsed = new URL(`redis://${part.trim()}`);
    } catch {
      throw invalid(`has a malformed node "${part}"`);
    }
    if (parsed.hostname === '' || parsed.pathname !== '' || parsed.search !== '' || parsed.username !== '') throw invalid(`has a malformed node "${part}"`);
    return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: parsed.port === '' ? 6379 : Number(parsed.port) };
  });
  return { nodes, ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }), tls: match[1] === 'rediss' };
}

/**
 * A {@link Connect} for `url` with `base` options (on a cluster, its `retryStrategy` becomes the
 * cluster's, and `extra` is merged over the cluster options, its `redisOptions` over the nodes').
 */
export function connectionFactory(url: string, base: RedisOptions, extra: ClusterOptions = {}): Connect {
  if (!isClusterUrl(url)) return (overrides = {}) => new Redis(url, { ...base, ...overrides });
  const { nodes, username, password, tls } = parseClusterUrl(url);
  const { retryStrategy, ...nodeOptions } = base;
  const access: RedisOptions = {
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(tls ? { tls: {} } : {}),
    ...extra.redisOptions,
  };
  let first: Cluster | undefined;
  const connect = (overrides: RedisOptions = {}) => {
    const { retryStrategy: _ignored, ...nodeOverrides } = overrides;
    const options: ClusterOptions = {
      ...(retryStrategy ? { clusterRetryStrategy: (attempt: number) => retryStrategy(attempt) ?? null } : {}),
      enableAutoPipelining: true,
      // A (un)subscribe batched into a pipeline fails on a connection already in subscriber mode.
      autoPipeliningIgnoredCommands: ['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe'],
      ...extra,
      redisOptions: { ...nodeOptions, ...access, ...nodeOverrides },
    };
    const cluster = new Cluster(nodes, options);
    first ??= cluster;
    return splitPipelinesBySlot(cluster);
  };
  const node = (attempt: number, overrides: RedisOptions = {}) => {
    const known = new Map(nodes.map((seed) => [`${seed.host}:${seed.port}`, seed]));
    for (const found of first?.nodes('all') ?? []) {
      const { host = '127.0.0.1', port = 6379 } = found.options;
      known.set(`${host}:${port}`, { host, port });
    }
    const target = [...known.values()][attempt % known.size] as { host: string; port: number };
    return new Redis({ ...base, ...access, ...overrides, host: target.host, port: target.port });
  };
  return Object.assign(connect, { node });
}

/**
 * `cluster`, typed as the single-server client the store is written against, seen through a proxy
 * whose `pipeline()` is replaced: ioredis refuses a cluster pipeline whose keys live on several
 * nodes, so each queued command is sent on its own (auto-pipelining batches them per node) and
 * `exec()` answers the usual `[error, result]` pairs in order. The cluster itself keeps its own
 * `pipeline()` (auto-pipelining uses it), and `multi()` is left alone: a transaction stays on one slot.
 */
function splitPipelinesBySlot(cluster: Cluster): Redis {
  const send = cluster as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const pipeline = () => {
    const queued: [string, unknown[]][] = [];
    const recorder: object = new Proxy(
      {},
      {
        get(_target, name) {
          if (typeof name !== 'string' || name === 'then') return undefined;
          if (name === 'length') return queued.length;
          if (name === 'exec') {
            return () =>
              Promise.all(
                queued.map(([command, args]) => {
                  const method = send[command];
                  if (typeof method !== 'function') return [new Error(`unknown Redis command ${command}`), null];
                  return method.apply(cluster, args).then(
                    (result) => [null, result],
                    (error: unknown) => [error, null],
                  );
                }),
              );
          }
          return (...args: unknown[]) => {
            queued.push([name, args]);
            return recorder;
          };
        },
      },
    );
    return recorder;
  };
  return new Proxy(cluster, {
    get(target, name) {
      if (name === 'pipeline') return pipeline;
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as unknown as Redis;
}

/** `url` with its password hidden, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
