/**
 * `POST /api/runs/:id/stream-token`: a fresh stream token for a caller with real credentials, for
 * a run of theirs, over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentDefinition } from '../src/producer/agent.js';
import { type TestServer, startNodeServer } from './helpers/servers.js';

const TOKENS = { alice: 'alice-secret-token', bob: 'bob-secret-token-2' };
const as = (who: keyof typeof TOKENS) => ({ authorization: `Bearer ${TOKENS[who]}` });
const agents: AgentDefinition[] = [
  {
    name: 'short',
    async *run() {
      yield 'hello';
    },
  },
];

async function error(response: Response): Promise<{ code: string; message: string }> {
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

describe('POST /api/runs/:id/stream-token', () => {
  let server: TestServer;
  let open: TestServer;
  beforeAll(async () => {
    server = await startNodeServer({ agents, auth: { tokens: TOKENS, streamTokenTtlMs: 60_000 } });
    open = await startNodeServer({ agents });
  });
  afterAll(async () => {
    await server.close();
    await open.close();
  });

  const start = async () => {
    const response = await fetch(`${server.url}/api/runs`, { method: 'POST', headers: { ...as('alice'), 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'short', input: null }) });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  };
  const mint = (id: string, headers: Record<string, string> = as('alice'), query = '') => fetch(`${server.url}/api/runs/${id}/stream-token${query}`, { method: 'POST', headers });

  it('gives the owner a token, its expiry and the events URL; the token reads the stream without other credentials', async () => {
    const id = await start();
    const before = Date.now();
    const response = await mint(id);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { token: string; expiresAt: number; eventsUrl: string };
    expect(body.expiresAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(body.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(body.eventsUrl).toBe(`/api/runs/${id}/events?token=${body.token}`);
    const stream = await fetch(`${server.url}${body.eventsUrl}`, { headers: { accept: 'text/event-stream' } });
    expect(stream.status).toBe(200);
    expect(await stream.text()).toContain('event: run.finished');
  });

  it('needs real credentials: none, a wrong token or a stream token (which cannot renew itself) get 401', async () => {
    const id = await start();
    const { token } = (await (await mint(id)).json()) as { token: string };
    for (const [what, response] of [
      ['no credentials', await mint(id, {})],
      ['a wrong bearer token', await mint(id, { authorization: 'Bearer nope-nope-nope' })],
      ['a stream token', await mint(id, {}, `?token=${token}`)],
    ] as const) {
      expect(response.status, what).toBe(401);
      expect((await error(response)).code, what).toBe('AW_UNAUTHORIZED');
    }
  });

  it("is 404 for another principal's run and for an unknown run", async () => {
    const id = await start();
    const other = await mint(id, as('bob'));
    expect(other.status).toBe(404);
    expect((await error(other)).code).toBe('AW_RUN_NOT_FOUND');
    expect((await mint('no-such-run')).status).toBe(404);
  });

  it('is 404 with a clear message when the gateway has no auth', async () => {
    const response = await fetch(`${open.url}/api/runs/anything/stream-token`, { method: 'POST' });
    expect(response.status).toBe(404);
    expect(await error(response)).toEqual({ code: 'AW_NOT_FOUND', message: expect.stringContaining('no auth, so its event streams need no token') });
  });
});
