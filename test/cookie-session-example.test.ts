/**
 * examples/cookie-session.ts as printed, run with Node: `auth.authenticate` over the app's own
 * session cookie: login, the API and streams with the cookie, logout. (The viewer signed in by
 * the cookie is in test/ui/sign-in.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { useExample } from './helpers/listening-process.js';

const PASSWORD = 'example-password-1';

describe('examples/cookie-session.ts', () => {
  const server = useExample('cookie-session.ts', { ALICE_PASSWORD: PASSWORD });

  const login = (password: string) =>
    fetch(`${server.url}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ user: 'alice', password }) });
  const sessionCookie = async () => {
    const response = await login(PASSWORD);
    expect(response.status).toBe(303);
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^aw_session=[\w-]{40,}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    return cookie.split(';')[0] as string;
  };

  it('refuses the API and sends the pages to /login without a session; a wrong password gets 401', async () => {
    const api = await fetch(`${server.url}/api/agents`);
    expect(api.status).toBe(401);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('AW_UNAUTHORIZED');
    const page = await fetch(`${server.url}/runs/abc`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login');
    const wrong = await login('nope');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await wrong.text()).toContain('Wrong user or password.');
  });

  it('with the cookie: agents, a streamed run, its events again, the runs list; after logout the cookie is refused', async () => {
    const cookie = await sessionCookie();
    expect((await fetch(`${server.url}/api/agents`, { headers: { cookie } })).status).toBe(200);
    const started = await fetch(`${server.url}/api/runs`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ agent: 'echo', input: 'hi' }),
    });
    expect(started.status).toBe(200);
    const runId = started.headers.get('x-agentwire-run-id') as string;
    expect(await started.text()).toContain('event: run.finished');
    const again = await fetch(`${server.url}/api/runs/${runId}/events?after=0`, { headers: { cookie, accept: 'text/event-stream' } });
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('event: run.finished');
    const list = (await (await fetch(`${server.url}/api/runs`, { headers: { cookie } })).json()) as { runs: { id: string }[] };
    expect(list.runs.map((run) => run.id)).toContain(runId);
    // Another session of the same user sees it; nobody else does (no session: 401).
    expect((await fetch(`${server.url}/api/runs/${runId}`, { headers: { cookie: await sessionCookie() } })).status).toBe(200);

    const out = await fetch(`${server.url}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie } });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await fetch(`${server.url}/api/agents`, { headers: { cookie } })).status).toBe(401);
  });
});
