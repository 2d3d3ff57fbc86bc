/**
 * Several `agentwire serve --redis` processes on one real redis-server: any gateway serves any
 * run, cancel works from any gateway, a killed gateway loses no event (its runs end with
 * `producer_lost`), subscriber presence spans gateways, a Redis restart is survived, and one that
 * lost the data ends every stream with `AW_LOG_LOST`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../src/protocol/events.js';
import { resumeAfter, watchUntilKilled } from './helpers/kill-and-resume.js';
import { CLI, ROOT, type ServeProcess, run, startServe } from './helpers/process.js';
import { type RedisServer, freePort, redisSuitesEnabled, startRedis } from './helpers/redis-server.js';
import { collectEvents, openSse, range, seqs, startRun } from './helpers/sse-client.js';
import { waitFor, within } from './helpers/wait.js';

const enabled = redisSuitesEnabled('multi-gateway Redis suite');
const AGENTS = `${ROOT}test/fixtures/paced-agents.mjs`;

/** Starts a gateway on `redis` with the paced agent and a short lease. */
function gateway(redis: RedisServer, extra: string[] = []): Promise<ServeProcess> {
  return startServe(['--redis', redis.url, '--agent-module', AGENTS, '--redis-lease', '1000', ...extra]);
}

/** The SSE text of a stream without comment lines (heartbeats may differ between gateways). */
function withoutComments(raw: string): string {
  return raw
    .split('\n')
    .filter((line) => !line.startsWith(':'))
    .join('\n');
}

describe.runIf(enabled)('several gateways on one Redis', () => {
  let redis: RedisServer;
  let a: ServeProcess;
  let b: ServeProcess;
  beforeAll(async () => {
    redis = await startRedis();
    [a, b] = await Promise.all([gateway(redis), gateway(redis)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it('a run started on A and watched on B is byte-identical to watching it on A', async () => {
    const { id } = await startRun(a.url, { agent: 'paced', input: { count: 60, intervalMs: 5 } });
    const [onA, onB] = await Promise.all([collectEvents(`${a.url}/api/runs/${id}/events`), collectEvents(`${b.url}/api/runs/${id}/events`)]);
    expect(seqs(onB.events)).toEqual(range(1, onB.events.length));
    expect(onB.events.at(-1)?.type).toBe('run.finished');
    expect(withoutComments(onB.connection.raw())).toBe(withoutComments(onA.connection.raw()));
    // Resuming on B after an event seen on A continues exactly there.
    const resumed = await collectEvents(`${b.url}/api/runs/${id}/events`, { headers: { 'last-event-id': '17' } });
    expect(seqs(resumed.events)).toEqual(range(18, onA.events.length));
  });

  it('cancel through B stops the producer on A: its signal aborts and the run ends cancelled', async () => {
    const { id } = await startRun(a.url, { agent: 'paced', input: { count: 2000, intervalMs: 10 } });
    const watching = collectEvents(`${b.url}/api/runs/${id}/events`);
    await waitFor(async () => ((await (await fetch(`${b.url}/api/runs/${id}`)).json()) as { steps: object }).steps, 'the run is under way');
    const response = await fetch(`${b.url}/api/runs/${id}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'stop from B' }) });
    expect(response.status).toBe(200);
    const { events } = await within(watching, 10_000, 'the stream on B ends');
    expect(events.at(-1)).toMatchObject({ type: 'run.cancelled', reason: 'stop from B' });
    expect(seqs(events)).toEqual(range(1, events.length));
    await waitFor(() => a.output().includes(`agent-finally ${id} aborted=true`), 'the agent on A ran its finally with an aborted signal');
  });

  it('500 subscribers across two gateways on one run all see the same sequence', async () => {
    const { id } = await startRun(a.url, { agent: 'paced', input: { count: 150, intervalMs: 10 } });
    const subscribers = Array.from({ length: 500 }, (_, index) => collectEvents(`${(index % 2 === 0 ? a : b).url}/api/runs/${id}/events`));
    const results = await within(Promise.all(subscribers), 60_000, '500 subscribers');
    const reference = JSON.stringify(results[0]?.events);
    expect(results[0]?.events.at(-1)?.type).toBe('run.finished');
    expect(seqs(results[0]?.events ?? [])).toEqual(range(1, results[0]?.events.length ?? 0));
    for (const { events } of results) expect(JSON.stringify(events)).toBe(reference);
  }, 90_000);

  it('a run produced on A and watched only through B is not cancelled by A for lack of subscribers', async () => {
    const graceful = await gateway(redis, ['--grace', '300']);
    try {
      const { id } = await startRun(graceful.url, { agent: 'paced', input: { count: 60, intervalMs: 25 } });
      const { events } = await collectEvents(`${b.url}/api/runs/${id}/events`);
      expect(events.at(-1)?.type).toBe('run.finished');
      // And with no subscriber anywhere, the grace period still cancels.
      const { id: unwatched } = await startRun(graceful.url, { agent: 'paced', input: { count: 2000, intervalMs: 10 } });
      await waitFor(() => graceful.output().includes(`agent-finally ${unwatched} aborted=true`), 'the unwatched run is cancelled', 10_000);
    } finally {
      // A --redis gateway still shuts down cleanly on SIGTERM.
      expect(await graceful.stop()).toBe(0);
    }
  });

  it('kill -9 of the producing gateway mid-run: resuming on B loses and repeats nothing, and the run ends with producer_lost', async () => {
    const doomed = await gateway(redis);
    const { id } = await startRun(doomed.url, { agent: 'paced', input: { count: 5000, intervalMs: 10 } });
    const seen = await watchUntilKilled(doomed, id, 25);
    expect(seen.length).toBeGreaterThanOrEqual(25);
    const all = await resumeAfter(b.url, id, seen, 'the run closes on B');
    expect(seqs(all)).toEqual(range(1, all.length));
    expect(all.at(-1)).toMatchObject({ type: 'run.failed', error: { code: 'producer_lost' } });
    expect(all.filter((event) => event.type === 'step.started').length).toBe(all.filter((event) => event.type === 'step.finished').length);
  }, 40_000);

  it('kill -9 of the gateway a client watched through, while the producer lives on B: resuming on B completes the run', async () => {
    const doomed = await gateway(redis);
    const { id } = await startRun(b.url, { agent: 'paced', input: { count: 150, intervalMs: 10 } });
    const seen = await watchUntilKilled(doomed, id, 20);
    const all = await resumeAfter(b.url, id, seen, 'the run completes on B');
    expect(seqs(all)).toEqual(range(1, all.length));
    expect(all.at(-1)).toMatchObject({ type: 'run.finished', output: { count: 150 } });
  }, 40_000);
});

describe.runIf(enabled)('a Redis restart during a run', () => {
  it('reports Redis down on /healthz, then resumes the stream with nothing lost from what Redis kept', async () => {
    const redis = await startRedis({ persistent: true });
    const [a, b] = await Promise.all([gateway(redis), gateway(redis)]);
    try {
      const { id } = await startRun(a.url, { agent: 'paced', input: { count: 120, intervalMs: 20 } });
      const connection = await openSse(`${b.url}/api/runs/${id}/events`);
      const events: AgentEvent[] = [];
      let restarted = false;
      for await (const message of connection.messages) {
        events.push(JSON.parse(message.data) as AgentEvent);
        if (events.length === 30 && !restarted) {
          restarted = true;
          await redis.kill();
          const health = await waitFor(async () => {
            const response = await fetch(`${a.url}/healthz`);
            return response.status === 503 ? ((await response.json()) as { status: string; redis: string }) : undefined;
          }, '/healthz reports Redis down');
          expect(health).toMatchObject({ status: 'degraded', redis: 'down' });
          await redis.restart();
          await waitFor(async () => (await fetch(`${a.url}/healthz`)).status === 200, '/healthz recovers');
        }
      }
      expect(restarted).toBe(true);
      expect(seqs(events)).toEqual(range(1, events.length));
      expect(events.at(-1)).toMatchObject({ type: 'run.finished', output: { count: 120 } });
      expect(a.output()).toMatch(/redis: connection lost/);
      expect(a.output()).toMatch(/redis: connection restored/);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await redis.stop();
    }
  }, 60_000);
});

describe.runIf(enabled)('a Redis restart without persistence during a run', () => {
  it('ends the stream on every gateway with run.failed AW_LOG_LOST, logged once, and a resume answers 404', async () => {
    const redis = await startRedis();
    const [a, b] = await Promise.all([gateway(redis), gateway(redis)]);
    try {
      const { id } = await startRun(a.url, { agent: 'paced', input: { count: 2000, intervalMs: 20 } });
      const follow = async (url: string, onEvent: (count: number) => Promise<void>) => {
        const connection = await openSse(`${url}/api/runs/${id}/events`);
        const events: AgentEvent[] = [];
        for await (const message of connection.messages) {
          events.push(JSON.parse(message.data) as AgentEvent);
          await onEvent(events.length);
        }
        return events;
      };
      let restarted = false;
      const onA = follow(a.url, async () => {});
      const onB = follow(b.url, async (count) => {
        if (count !== 20 || restarted) return;
        restarted = true;
        await redis.kill();
        await redis.restart(); // empty: --save '' and no append-only file
      });
      const [eventsA, eventsB] = await within(Promise.all([onA, onB]), 20_000, 'both streams end');
      expect(restarted).toBe(true);
      for (const events of [eventsA, eventsB]) {
        expect(seqs(events)).toEqual(range(1, events.length));
        expect(events.at(-1)).toMatchObject({ type: 'run.failed', error: { code: 'AW_LOG_LOST' } });
      }
      for (const url of [a.url, b.url]) expect((await fetch(`${url}/api/runs/${id}/events`, { headers: { 'last-event-id': '5' } })).status).toBe(404);
      for (const process of [a, b]) expect(process.output().match(/"operation":"log_lost"/g)).toHaveLength(1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await redis.stop();
    }
  }, 60_000);
});

describe.runIf(enabled)('SIGTERM of a gateway that streams another gateway\'s run', () => {
  it("under --shutdown cancel (the default), the stream ends cleanly without a terminal event and resumes on the producer", async () => {
    const redis = await startRedis();
    const [a, b] = await Promise.all([gateway(redis), gateway(redis)]);
    try {
      const { id } = await startRun(b.url, { agent: 'paced', input: { count: 300, intervalMs: 10 } });
      const connection = await openSse(`${a.url}/api/runs/${id}/events`);
      const events: AgentEvent[] = [];
      let exit: Promise<number | null> | undefined;
      // A cut connection makes this loop throw: the stream has to end as a clean close.
      for await (const message of connection.messages) {
        events.push(JSON.parse(message.data) as AgentEvent);
        if (events.length === 10) exit = a.stop('SIGTERM');
      }
      expect(await within(exit as Promise<number | null>, 10_000, "A's exit")).toBe(0);
      expect(events.filter((event) => event.type.startsWith('run.') && event.type !== 'run.started')).toEqual([]);
      const last = events.at(-1)?.seq ?? 0;
      const resumed = await collectEvents(`${b.url}/api/runs/${id}/events`, { headers: { 'last-event-id': String(last) } });
      expect(seqs(resumed.events)).toEqual(range(last + 1, resumed.events.length + last));
      expect(resumed.events.at(-1)).toMatchObject({ type: 'run.finished' });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await redis.stop();
    }
  }, 60_000);
});

describe('serve --redis without a reachable Redis', () => {
  it('exits with code 1 and a one-line error naming the URL, instead of starting a gateway that cannot work', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const result = await run(process.execPath, [CLI, 'serve', '--port', '0', '--redis', url], { timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach Redis at ${url} (ECONNREFUSED)`);
    expect(result.stdout).not.toMatch(/listening on/);
  });

  it('reads the URL from AGENTWIRE_REDIS_URL', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const result = await run(process.execPath, [CLI, 'serve', '--port', '0'], { timeoutMs: 30_000, env: { ...process.env, AGENTWIRE_REDIS_URL: url } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(url);
  });
});
