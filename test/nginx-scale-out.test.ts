/**
 * Three `agentwire serve --redis` gateways on one Redis, behind a real nginx running the repo's
 * deploy/nginx.conf (round-robin upstream; adapted only for ports: the gateways' and a plain
 * loopback listener instead of 443 with TLS). Clients of the agentwire client follow runs through
 * nginx while the gateway serving most of their streams is killed with SIGKILL: every client gets
 * every event exactly once, in order, ending with a terminal event — `run.finished` for runs
 * produced elsewhere, `run.failed` (`producer_lost`) for the runs the killed gateway produced.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe } from '../src/client/subscribe.js';
import type { ConnectionStatus } from '../src/client/types.js';
import type { AgentEvent } from '../src/protocol/events.js';
import { metric, scrape } from './helpers/metrics.js';
import { type NginxProcess, findNginx, startNginxHttp } from './helpers/nginx.js';
import { ROOT, type ServeProcess, startServe } from './helpers/process.js';
import { type RedisServer, redisSuitesEnabled, startRedis } from './helpers/redis-server.js';
import { range, seqs, startRun } from './helpers/sse-client.js';
import { waitFor, within } from './helpers/wait.js';

const nginx = findNginx();
if (!nginx) {
  const reason = 'nginx is not installed: the nginx scale-out suite is skipped';
  if (process.env.CI === 'true') throw new Error(`${reason} (under CI it must be; .ci/run installs it)`);
  console.warn(`\n*** ${reason} ***\n`);
}
const enabled = Boolean(nginx) && redisSuitesEnabled('nginx scale-out suite');
const AGENTS = `${ROOT}test/fixtures/paced-agents.mjs`;
const COUNT = 300;

/** deploy/nginx.conf with the gateways' ports in its upstream and a plain listener on `port`; throws if the file no longer has what it adapts. */
function deployConfig(gatewayPorts: readonly number[], port: number): string {
  const original = readFileSync(`${ROOT}deploy/nginx.conf`, 'utf8');
  const replacements: [RegExp, string][] = [
    [/^\s*server 127\.0\.0\.1:8787;\n(\s*# server 127\.0\.0\.1:8788;.*\n)?/m, gatewayPorts.map((gatewayPort) => `    server 127.0.0.1:${gatewayPort};\n`).join('')],
    [/^\s*listen 443 ssl;\n/m, `    listen 127.0.0.1:${port};\n`],
    [/^\s*http2 on;.*\n/m, ''],
    [/^\s*ssl_certificate .*\n/m, ''],
    [/^\s*ssl_certificate_key .*\n/m, ''],
  ];
  let config = original;
  for (const [pattern, replacement] of replacements) {
    if (!pattern.test(config)) throw new Error(`deploy/nginx.conf no longer matches ${pattern}: update this test's adaptation`);
    config = config.replace(pattern, replacement);
  }
  return config;
}

describe.runIf(enabled)('three gateways behind nginx (deploy/nginx.conf) on one Redis', () => {
  let redis: RedisServer;
  let gateways: ServeProcess[] = [];
  let proxy: NginxProcess;
  beforeAll(async () => {
    redis = await startRedis();
    // --retry 100: clients come back within a fraction of a second after the kill.
    gateways = await Promise.all([0, 1, 2].map(() => startServe(['--redis', redis.url, '--agent-module', AGENTS, '--redis-lease', '1000', '--retry', '100', '--heartbeat', '1000'])));
    proxy = await startNginxHttp(nginx as string, (port) => deployConfig(gateways.map((gateway) => Number(new URL(gateway.url).port)), port));
  }, 60_000);
  afterAll(async () => {
    await proxy?.stop();
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await redis?.stop();
  });

  it('round-robins requests over the three gateways', async () => {
    const started = async (gateway: ServeProcess) => metric(await scrape(gateway.url), 'agentwire_runs_started_total', 'agent="paced"') || 0;
    const before = await Promise.all(gateways.map(started));
    const runs = await Promise.all(range(1, 6).map(() => startRun(proxy.url, { agent: 'paced', input: { count: 1, intervalMs: 1 } })));
    expect(runs).toHaveLength(6);
    const after = await Promise.all(gateways.map(started));
    expect(after.map((count, index) => count - (before[index] ?? 0))).toEqual([2, 2, 2]);
  });

  it('kill -9 of the gateway serving the streams: every client reconnects through nginx and gets every event once, in order, to a terminal event', async () => {
    const runs = await Promise.all(range(1, 3).map(() => startRun(proxy.url, { agent: 'paced', input: { count: COUNT, intervalMs: 10 } })));
    const clients = [...runs, ...runs].map(({ id }) => {
      const events: AgentEvent[] = [];
      const statuses: ConnectionStatus[] = [];
      const done = (async () => {
        for await (const event of subscribe(id, { baseUrl: proxy.url, heartbeatMs: 1000, retry: { initialDelayMs: 100, maxDelayMs: 500 }, onStatus: (status) => statuses.push(status) })) {
          events.push(event);
        }
      })();
      return { id, events, statuses, done };
    });
    await waitFor(() => clients.every((client) => client.events.length >= 20), 'every client is streaming');
    const scraped = await Promise.all(gateways.map(async (gateway) => scrape(gateway.url)));
    const streams = scraped.map((text) => metric(text, 'agentwire_streams_open', 'transport="sse",format="agentwire"'));
    const victim = streams.indexOf(Math.max(...streams));
    expect(streams[victim]).toBeGreaterThan(0);
    const producedByVictim = metric(scraped[victim] as string, 'agentwire_runs_running');
    const doomed = gateways[victim] as ServeProcess;
    doomed.child.kill('SIGKILL');
    await doomed.stop();

    await within(Promise.all(clients.map((client) => client.done)), 30_000, 'every client reaches a terminal event');
    for (const client of clients) {
      expect(seqs(client.events), client.id).toEqual(range(1, client.events.length));
      const last = client.events.at(-1);
      if (last?.type === 'run.failed') expect(last).toMatchObject({ error: { code: 'producer_lost' } });
      else expect(last).toMatchObject({ type: 'run.finished', output: { count: COUNT } });
      expect(client.statuses.at(-1)).toMatchObject({ state: 'closed', reason: 'ended' });
    }
    // The streams the kill cut were resumed: that many clients went through 'reconnecting'.
    const reconnected = clients.filter((client) => client.statuses.some((status) => status.state === 'reconnecting')).length;
    expect(reconnected).toBeGreaterThanOrEqual(streams[victim] as number);
    // The runs the killed gateway produced, and only those, ended with producer_lost, on both of their clients.
    const lost = new Set(clients.filter((client) => client.events.at(-1)?.type === 'run.failed').map((client) => client.id));
    expect(lost.size, `streams per gateway ${streams.join('/')}, killed gateway ${victim}`).toBe(producedByVictim);
    // Both clients of a run saw the same sequence, and a late reader through nginx sees it too.
    for (const { id } of runs) {
      const [first, second] = clients.filter((client) => client.id === id);
      expect(JSON.stringify(second?.events)).toBe(JSON.stringify(first?.events));
      const replay: AgentEvent[] = [];
      for await (const event of subscribe(id, { baseUrl: proxy.url })) replay.push(event);
      expect(JSON.stringify(replay)).toBe(JSON.stringify(first?.events));
    }
  }, 60_000);
});
