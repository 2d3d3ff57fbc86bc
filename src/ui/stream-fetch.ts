/**
 * The `fetch` the page's run stores use. Signed in with a token, event streams and long-polls carry
 * a short-lived stream token for their run in `?token=` instead of the long-lived bearer token
 * (only the short JSON calls carry that); the stream token is minted by
 * `POST /api/runs/:id/stream-token`, reused until shortly before it expires, and renewed once
 * when a stream is refused with 401. Without a token (no auth, or a cookie session) it is `fetch`.
 *
 * @module
 */
import { authorizedFetch, currentToken, reportUnauthorized } from './session.js';

/** A stream token and when this page stops using it (local clock, with a margin). */
interface Held {
  token: string;
  renewAt: number;
}

/** Renew this long before the server's expiry, so a reconnect never starts with a dying token. */
const MARGIN_MS = 30_000;

const held = new Map<string, Held>();

const STREAM_PATH = /^\/api\/runs\/([^/]+)\/(?:events|poll)$/;

/** Forgets every stream token (sign-out). */
export function forgetStreamTokens(): void {
  held.clear();
}

/** Mints a stream token for `runId`; returns the refusal as it came when the gateway says no. */
async function mint(runId: string, bearer: string, signal: AbortSignal | null | undefined): Promise<Held | Response> {
  const askedAt = Date.now();
  const response = await authorizedFetch(`/api/runs/${encodeURIComponent(runId)}/stream-token`, { method: 'POST', cache: 'no-store', ...(signal ? { signal } : {}) }, bearer);
  if (!response.ok) return response;
  const body = (await response.json()) as { token: string; expiresAt: number };
  // The server's clock may differ from ours: count the lifetime from when we asked.
  const lifetime = Math.max(0, body.expiresAt - Date.now());
  const entry = { token: body.token, renewAt: askedAt + Math.max(lifetime - MARGIN_MS, lifetime / 2) };
  held.set(runId, entry);
  return entry;
}

/** Whether a refused mint says the gateway has no auth (`AW_NOT_FOUND`, not `AW_RUN_NOT_FOUND`). */
async function authIsOff(refusal: Response): Promise<boolean> {
  if (refusal.status !== 404) return false;
  const body = (await refusal
    .clone()
    .json()
    .catch(() => undefined)) as { error?: { code?: string } } | undefined;
  return body?.error?.code === 'AW_NOT_FOUND';
}

/** A `fetch` for `createRunStore({ fetch })`. */
export const streamFetch: typeof fetch = async (input, init = {}) => {
  const bearer = currentToken();
  const url = new URL(input instanceof Request ? input.url : String(input), location.href);
  const runId = STREAM_PATH.exec(url.pathname)?.[1];
  const method = (init.method ?? 'GET').toUpperCase();
  if (bearer === undefined || runId === undefined || method !== 'GET' || url.origin !== location.origin) {
    const response = await authorizedFetch(url.href, init, bearer);
    if (response.status === 401) reportUnauthorized();
    return response;
  }
  const id = decodeURIComponent(runId);
  for (let attempt = 0; ; attempt++) {
    let entry = held.get(id);
    if (!entry || entry.renewAt <= Date.now() || attempt > 0) {
      const minted = await mint(id, bearer, init.signal);
      // A gateway without auth (restarted without it while this tab kept a token) mints none: none is needed.
      if (minted instanceof Response && (await authIsOff(minted))) return fetch(url.href, init);
      if (minted instanceof Response) {
        // The bearer token itself is refused (401), or the run is gone (404): the client sees that answer.
        if (minted.status === 401) reportUnauthorized();
        return minted;
      }
      entry = minted;
    }
    url.searchParams.set('token', entry.token);
    const response = await fetch(url.href, init);
    // A stream token the server no longer takes (expired early, another gateway's secret): renew
    // once. Refused again right after a successful mint, the bearer token is fine (gateways that do
    // not share `streamTokenSecret`): the run view shows the error and the session stays.
    if (response.status !== 401 || attempt > 0) return response;
    await response.body?.cancel();
    held.delete(id);
  }
};
