/**
 * The page's sign-in: a bearer token kept in `sessionStorage` (this tab, until it closes), and a
 * signal for "the gateway no longer accepts us" raised by any call that gets a 401.
 *
 * @module
 */

const KEY = 'agentwire.token';

/** The token this tab signed in with, if any. */
export function currentToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) || undefined;
  } catch {
    // Storage disabled (some private modes): the page then works only without auth.
    return undefined;
  }
}

/** Keeps `token` for the browser session. */
export function keepToken(token: string): void {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // Storage disabled: nothing to keep it in.
  }
}

/** Forgets the token (sign-out). */
export function forgetToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Storage disabled: nothing was kept.
  }
}

const listeners = new Set<() => void>();

/** Calls `listener` whenever a request is refused with 401; returns its removal. */
export function onUnauthorized(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Tells the page that the gateway refused its credentials (or it has none and needs some). */
export function reportUnauthorized(): void {
  for (const listener of listeners) listener();
}

/** `fetch` with the signed-in token as `Authorization: Bearer`, when there is one. */
export function authorizedFetch(input: string, init: RequestInit = {}, token = currentToken()): Promise<Response> {
  if (token === undefined) return fetch(input, init);
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}
