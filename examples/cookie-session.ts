// Sign the viewer in with your app's own session cookie instead of a typed-in token.
// `auth.authenticate(request)` sees every gateway request and returns its principal (a user id) or
// null (401). The viewer's calls and event streams are same-origin fetches, so the browser sends
// the cookie on each of them: nobody pastes a token, and nothing secret goes into a URL.
//   node examples/cookie-session.ts          (Node ≥ 22.18 runs TypeScript directly)
//   open http://127.0.0.1:8789/login and sign in as alice / wonderland (ALICE_PASSWORD sets it)
//
// The cookie is HttpOnly (page scripts cannot read it) and SameSite=Strict (other sites cannot send
// it along); the gateway also takes only JSON bodies and, by default, same-origin requests, so a
// cross-site form cannot start or cancel runs with it. Behind HTTPS, add `Secure`.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { defineAgent } from 'agentwire';
import { createGateway, demoAgents } from 'agentwire/gateway';

const USERS: Record<string, string> = { alice: process.env.ALICE_PASSWORD ?? 'wonderland' };
const SESSION_MS = 8 * 60 * 60 * 1000;
/** Session id → who and until when. A real app keeps these in its own store (Redis, a database). */
const sessions = new Map<string, { user: string; expiresAt: number }>();

/** The session id in a `Cookie` header. */
function sessionId(cookieHeader: string | undefined): string | undefined {
  return /(?:^|;\s*)aw_session=([\w-]+)/.exec(cookieHeader ?? '')?.[1];
}

/** The user of the request's `aw_session` cookie, if it names a live session. */
function sessionUser(cookieHeader: string | undefined): string | null {
  const id = sessionId(cookieHeader);
  const session = id === undefined ? undefined : sessions.get(id);
  if (id === undefined || !session) return null;
  if (session.expiresAt < Date.now()) {
    sessions.delete(id);
    return null;
  }
  return session.user;
}

const echo = defineAgent(
  'echo',
  async function* (ctx) {
    yield `You said: ${String(ctx.input)}`;
  },
  { description: 'Repeats the prompt.' },
);

const gateway = createGateway({
  agents: [echo, ...demoAgents()],
  // The hook: runs belong to the principal it returns; other users' runs answer 404.
  auth: { authenticate: (request) => sessionUser(request.header('cookie')) },
});

function passwordMatches(user: string, password: string): boolean {
  const expected = Buffer.from(USERS[user] ?? '');
  const offered = Buffer.from(password);
  return expected.length > 0 && expected.length === offered.length && timingSafeEqual(expected, offered);
}

function loginPage(response: ServerResponse, status: number, message = ''): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  response.end(`<!doctype html><meta charset="utf-8"><title>Sign in</title>
<form method="post" action="/login" style="font-family:system-ui;max-width:320px;margin:15vh auto;display:grid;gap:8px">
<h1>Sign in</h1>${message ? `<p role="alert">${message}</p>` : ''}
<label>User <input name="user" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button>Sign in</button></form>`);
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of request) {
    body += chunk;
    if (body.length > 10_000) break;
  }
  return new URLSearchParams(body);
}

const server = createServer(async (request, response) => {
  const { pathname } = new URL(request.url ?? '/', 'http://localhost');
  if (pathname === '/login' && request.method === 'GET') return loginPage(response, 200);
  if (pathname === '/login' && request.method === 'POST') {
    const form = await readForm(request);
    const user = form.get('user') ?? '';
    if (!passwordMatches(user, form.get('password') ?? '')) return loginPage(response, 401, 'Wrong user or password.');
    const id = randomBytes(32).toString('base64url');
    sessions.set(id, { user, expiresAt: Date.now() + SESSION_MS });
    response.writeHead(303, { location: '/', 'set-cookie': `aw_session=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}` });
    return response.end();
  }
  if (pathname === '/logout' && request.method === 'POST') {
    const id = sessionId(request.headers.cookie);
    if (id !== undefined) sessions.delete(id);
    response.writeHead(303, { location: '/login', 'set-cookie': 'aw_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0' });
    return response.end();
  }
  // The viewer's pages send a visitor without a session to the login form.
  const page = request.method === 'GET' && (pathname === '/' || pathname.startsWith('/runs/'));
  if (page && sessionUser(request.headers.cookie) === null) {
    response.writeHead(303, { location: '/login' });
    return response.end();
  }
  gateway.listener(request, response);
});

server.listen(Number(process.env.PORT ?? 8789), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : ''} (sign in at /login)`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await gateway.close(); // live runs end with run.cancelled, their streams close
    server.close();
  });
}
