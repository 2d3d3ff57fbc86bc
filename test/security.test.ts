/**
 * Auth and run ownership, stream tokens for header-less EventSource, CORS, Idempotency-Key and
 * limits, over real HTTP.
 */
import { createHmac } from 'node:crypto';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StreamTokens } from '../src/gateway/policy/auth.js';
import type { AgentContext, AgentDefinition } from '../src/producer/agent.js';
import type { AgentEvent } from '../src/protocol/events.js';
import { type TestServer, startNodeServer } from './helpers/servers.js';
import { metric, scrape } from './helpers/metrics.js';
import { collectEvents, openSse } from './helpers/sse-client.js';
import { waitFor } from './helpers/wait.js';

const TOKENS = { alice: 'alice-secret-token', bob: 'bob-secret-token-2' };
/** The suite's stream-token secret, so a test can sign the tokens an attacker with the secret could. */
const SECRET = 'stream-token-secret-for-tests';
const as = (who: keyof typeof TOKENS, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${TOKENS[who]}`, ...extra });
const json = { 'content-type': 'application/json' };

const agents: AgentDefinition[] = [
  {
    name: 'short',
    async *run() {
      yield 'hello';
    },
  },
  {
    name: 'long',
    async *run(ctx: AgentContext) {
      for (;;) {
        await ctx.sleep(20);
        yield '.';
      }
    },
  },
];

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

describe('authentication and ownership', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startNodeServer({ agents, auth: { tokens: TOKENS, streamTokenSecret: SECRET }, graceMs: 'continue' });
  });
  afterAll(async () => {
    await server.close();
  });

  const start = async (who: keyof typeof TOKENS, agent = 'short') => {
    const response = await fetch(`${server.url}/api/runs`, { method: 'POST', headers: as(who, json), body: JSON.stringify({ agent, input: null }) });
    expect(response.status).toBe(201);
    return (await response.json()) as { id: string; eventsUrl: string; streamToken: string };
  };

  it('answers 401 with WWW-Authenticate without or with wrong credentials, and keeps health and the page public', async () => {
    const none = await fetch(`${server.url}/api/runs`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const noneError = ((await none.json()) as { error: { code: string; message: string } }).error;
    expect(noneError.code).toBe('AW_UNAUTHORIZED');
    expect(noneError.message).toMatch(/^authentication required: send "Authorization: Bearer <token>"/);
    for (const authorization of ['Bearer nope-nope-nope', 'Basic abc']) {
      const refused = await fetch(`${server.url}/api/agents`, { headers: { authorization } });
      expect(refused.status, authorization).toBe(401);
      // A caller that sent credentials is told they were refused, not asked to send some.
      expect(((await refused.json()) as { error: { message: string } }).error.message, authorization).toMatch(/^the Authorization header was not accepted: check the token/);
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/`)).status).toBe(200);
  });

  it("hides one principal's run from another: 404 for its events, state and cancel, absent from the list", async () => {
    const run = await start('alice', 'long');
    for (const [method, path] of [
      ['GET', `/api/runs/${run.id}/events`],
      ['GET', `/api/runs/${run.id}`],
      ['POST', `/api/runs/${run.id}/cancel`],
    ] as const) {
      const response = await fetch(`${server.url}${path}`, { method, headers: as('bob') });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(await errorCode(response)).toBe('AW_RUN_NOT_FOUND');
    }
    const bobs = (await (await fetch(`${server.url}/api/runs`, { headers: as('bob') })).json()) as { runs: { id: string }[] };
    expect(bobs.runs.map((r) => r.id)).not.toContain(run.id);
    const alices = (await (await fetch(`${server.url}/api/runs`, { headers: as('alice') })).json()) as { runs: { id: string; owner?: string }[] };
    expect(alices.runs.map((r) => r.id)).toContain(run.id);
    expect(alices.runs[0]).not.toHaveProperty('owner');
    expect((await fetch(`${server.url}/api/runs/${run.id}/cancel`, { method: 'POST', headers: as('alice') })).status).toBe(200);
  });

  it('lets a native EventSource (no headers) read its run with the short-lived stream token, and only that run', async () => {
    const run = await start('alice');
    expect(run.eventsUrl).toContain(`?token=${run.streamToken}`);
    const received: AgentEvent[] = [];
    const source = new EventSource(`${server.url}${run.eventsUrl}`);
    source.addEventListener('text.delta', (message) => received.push(JSON.parse(message.data) as AgentEvent));
    source.addEventListener('run.finished', (message) => {
      received.push(JSON.parse(message.data) as AgentEvent);
      source.close();
    });
    await waitFor(() => received.some((event) => event.type === 'run.finished'), 'the run to finish through EventSource');
    expect(received.map((event) => event.type)).toEqual(['text.delta', 'run.finished']);

    const other = await start('alice');
    const reused = await fetch(`${server.url}/api/runs/${other.id}/events?token=${run.streamToken}`);
    expect(reused.status).toBe(403);
    expect(await errorCode(reused)).toBe('AW_FORBIDDEN');
    const tampered = `${run.streamToken.slice(0, -2)}xx`;
    expect((await fetch(`${server.url}/api/runs/${run.id}/events?token=${tampered}`)).status).toBe(401);
    // A token only stands in for credentials on event streams.
    expect((await fetch(`${server.url}/api/runs/${run.id}?token=${run.streamToken}`)).status).toBe(401);
  });

  it('refuses an expired stream token', async () => {
    const run = await start('alice');
    // Issued by the gateway's own signer, ten minutes ago: its 5-minute lifetime is over.
    const expired = new StreamTokens(SECRET).issue(run.id, 'alice', Date.now() - 600_000);
    const response = await fetch(`${server.url}/api/runs/${run.id}/events?token=${expired}`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/expired/);
  });

  it('answers 401, and logs nothing, for every malformed or tampered stream token', async () => {
    const run = await start('alice');
    const [payload, signature] = run.streamToken.split('.') as [string, string];
    const sign = (text: string) => createHmac('sha256', SECRET).update(text).digest('base64url');
    const signed = (claims: unknown) => {
      const body = Buffer.from(typeof claims === 'string' ? claims : JSON.stringify(claims)).toString('base64url');
      return `${body}.${sign(body)}`;
    };
    const tokens = {
      // As many characters as the signature, more bytes: timingSafeEqual must not see unequal lengths.
      'non-ASCII signature': `${payload}.${'é'.repeat(signature.length)}`,
      'trailing segment': `${run.streamToken}.extra`,
      'empty signature': `${payload}.`,
      'no signature': payload,
      'signed payload without expiry': signed({ r: run.id, p: 'alice' }),
      'signed payload with a string expiry': signed({ r: run.id, p: 'alice', e: 'never' }),
      'signed payload without principal': signed({ r: run.id, e: Date.now() + 60_000 }),
      'signed non-JSON payload': signed('not json at all'),
      'signed JSON that is not an object': signed('null'),
    };
    const logged = vi.spyOn(console, 'error');
    try {
      for (const [what, token] of Object.entries(tokens)) {
        const response = await fetch(`${server.url}/api/runs/${run.id}/events?token=${encodeURIComponent(token)}`);
        expect(response.status, what).toBe(401);
        expect(await errorCode(response), what).toBe('AW_UNAUTHORIZED');
      }
      expect(logged).not.toHaveBeenCalled();
    } finally {
      logged.mockRestore();
    }
    // A well-formed token signed the same way is accepted: the refusals above are about the tokens.
    const good = await fetch(`${server.url}/api/runs/${run.id}/events?token=${signed({ r: run.id, p: 'alice', e: Date.now() + 60_000 })}`);
    expect(good.status).toBe(200);
    await good.body?.cancel();
  });

  it('returns the same run for a repeated Idempotency-Key, 409 for the same key with another body, and separates principals', async () => {
    const post = (who: keyof typeof TOKENS, key: string, input: unknown) =>
      fetch(`${server.url}/api/runs`, { method: 'POST', headers: as(who, { ...json, 'idempotency-key': key }), body: JSON.stringify({ agent: 'short', input }) });
    const first = await post('alice', 'key-1', 'x');
    const second = await post('alice', 'key-1', 'x');
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const firstId = ((await first.json()) as { id: string }).id;
    expect(((await second.json()) as { id: string }).id).toBe(firstId);
    const mismatch = await post('alice', 'key-1', 'y');
    expect(mismatch.status).toBe(409);
    expect(await errorCode(mismatch)).toBe('AW_IDEMPOTENCY_MISMATCH');
    const bob = await post('bob', 'key-1', 'x');
    expect(bob.status).toBe(201);
    expect(((await bob.json()) as { id: string }).id).not.toBe(firstId);
    const bad = await fetch(`${server.url}/api/runs`, { method: 'POST', headers: as('alice', { ...json, 'idempotency-key': 'has space' }), body: '{"input":1}' });
    expect(bad.status).toBe(400);
  });
});

describe('CORS', () => {
  const origin = 'http://app.example:3000';
  let closed: TestServer;
  let listed: TestServer;
  let any: TestServer;
  beforeAll(async () => {
    closed = await startNodeServer({ agents });
    listed = await startNodeServer({ agents, corsOrigins: [origin] });
    any = await startNodeServer({ agents, corsOrigins: ['*'] });
  });
  afterAll(async () => {
    await Promise.all([closed.close(), listed.close(), any.close()]);
  });

  const preflight = (server: TestServer, from: string) =>
    fetch(`${server.url}/api/runs`, { method: 'OPTIONS', headers: { origin: from, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' } });

  it('is same-origin only by default: no CORS headers at all', async () => {
    const response = await fetch(`${closed.url}/api/agents`, { headers: { origin } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(closed, origin)).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers a listed origin with its own origin, credentials and Vary: Origin, and refuses others', async () => {
    const ok = await preflight(listed, origin);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(ok.headers.get('vary')).toContain('Origin');
    const actual = await fetch(`${listed.url}/api/agents`, { headers: { origin } });
    expect(actual.headers.get('access-control-allow-origin')).toBe(origin);
    expect(actual.headers.get('access-control-expose-headers')).toContain('x-agentwire-run-id');
    const refused = await preflight(listed, 'http://evil.example');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const simple = await fetch(`${listed.url}/api/agents`, { headers: { origin: 'http://evil.example' } });
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    // Errors carry CORS headers too, so the page can read them.
    const notFound = await fetch(`${listed.url}/api/runs/run_missing`, { headers: { origin } });
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('access-control-allow-origin')).toBe(origin);
  });

  it("never sends '*' together with credentials", async () => {
    const response = await preflight(any, 'http://anywhere.example');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startNodeServer({
      agents,
      auth: { tokens: TOKENS },
      graceMs: 'continue',
      limits: { maxRunsPerPrincipal: 2, maxStreamsPerPrincipal: 3, maxSubscribersPerRun: 2, maxRunMs: 300 },
    });
  });
  afterAll(async () => {
    await server.close();
  });

  const startLong = (who: keyof typeof TOKENS) =>
    fetch(`${server.url}/api/runs`, { method: 'POST', headers: as(who, json), body: JSON.stringify({ agent: 'long', input: null }) });

  it('refuses a third running run of one principal with 429 and Retry-After, not another principal', async () => {
    const a = await startLong('alice');
    const b = await startLong('alice');
    const c = await startLong('alice');
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(c.status).toBe(429);
    expect(Number(c.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await errorCode(c)).toBe('AW_TOO_MANY_RUNS');
    expect((await startLong('bob')).status).toBe(201);
    expect(metric(await scrape(server.url), 'agentwire_requests_refused_total', 'code="AW_TOO_MANY_RUNS"')).toBe(1);
    for (const response of [a, b]) {
      const { id } = (await response.json()) as { id: string };
      await fetch(`${server.url}/api/runs/${id}/cancel`, { method: 'POST', headers: as('alice') });
    }
  });

  it('fails a run that exceeds maxRunMs with AW_RUN_TIMEOUT', async () => {
    const { id } = (await (await startLong('bob')).json()) as { id: string };
    const { events } = await collectEvents(`${server.url}/api/runs/${id}/events`, { headers: as('bob') });
    expect(events.at(-1)).toMatchObject({ type: 'run.failed', error: { code: 'AW_RUN_TIMEOUT' } });
  });

  const startRun = async (who: keyof typeof TOKENS) => ((await (await startLong(who)).json()) as { id: string }).id;
  const freeSlot = (url: string) =>
    waitFor(async () => {
      const response = await fetch(url, { headers: as('alice') });
      await response.body?.cancel();
      return response.status === 200;
    }, 'a slot to free up');

  it('caps subscribers per run with 429 and frees the slot when one leaves', async () => {
    const id = await startRun('alice');
    const url = `${server.url}/api/runs/${id}/events`;
    const first = await openSse(url, { headers: as('alice') });
    const second = await openSse(url, { headers: as('alice') });
    const third = await fetch(url, { headers: as('alice') });
    expect(third.status).toBe(429);
    expect(await errorCode(third)).toBe('AW_TOO_MANY_SUBSCRIBERS');
    first.close();
    await freeSlot(url);
    second.close();
    await fetch(`${server.url}/api/runs/${id}/cancel`, { method: 'POST', headers: as('alice') });
  });

  it('caps open streams per principal with 429', async () => {
    const [one, two] = [await startRun('alice'), await startRun('alice')];
    const urls = [one, one, two].map((id) => `${server.url}/api/runs/${id}/events`);
    const open = await Promise.all(urls.map((url) => openSse(url, { headers: as('alice') })));
    const fourth = await fetch(`${server.url}/api/runs/${two}/events`, { headers: as('alice') });
    expect(fourth.status).toBe(429);
    expect(await errorCode(fourth)).toBe('AW_TOO_MANY_STREAMS');
    for (const connection of open) connection.close();
    for (const id of [one, two]) await fetch(`${server.url}/api/runs/${id}/cancel`, { method: 'POST', headers: as('alice') });
  });
});
