/**
 * Authentication: who is calling. A pluggable `authenticate(request) → principal | null`, built-in
 * bearer tokens, and short-lived signed stream tokens for the one client that cannot send headers
 * (the browser's native `EventSource`): never a long-lived secret in a URL.
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AgentwireError } from '../../protocol/errors.js';

/** What an authenticate function sees of a request. */
export interface AuthRequest {
  readonly method: string;
  readonly url: URL;
  header(name: string): string | undefined;
}

/** Resolves the principal (a stable user or tenant id) of a request, or `null` when it has no valid credentials. */
export type Authenticate = (request: AuthRequest) => string | null | undefined | Promise<string | null | undefined>;

/** Options of the gateway's `auth`. */
export interface AuthOptions {
  /** Your own check (a session cookie, a JWT…). Tried before `tokens`. */
  authenticate?: Authenticate;
  /** Bearer tokens: principal → token. `Authorization: Bearer <token>` authenticates as that principal. */
  tokens?: Record<string, string>;
  /** Secret that signs stream tokens; share it between gateways. @defaultValue 32 random bytes per process */
  streamTokenSecret?: string;
  /** Lifetime of a stream token, in ms. @defaultValue 300000 (5 min) */
  streamTokenTtlMs?: number;
}

/** Bearer-token authentication: compares in constant time. */
export function bearerTokens(tokens: Record<string, string>): Authenticate {
  const entries = Object.entries(tokens).map(([principal, token]) => {
    if (typeof token !== 'string' || token.length < 8) {
      throw new AgentwireError('AW_INVALID_OPTION', `auth.tokens: the token of "${principal}" must be a string of at least 8 characters`);
    }
    return { principal, token: Buffer.from(token) };
  });
  return (request) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.header('authorization') ?? '');
    if (!match) return null;
    const offered = Buffer.from(match[1] as string);
    let found: string | null = null;
    for (const entry of entries) {
      // Compare every token, each in constant time, so timing says nothing about which matched.
      if (entry.token.length === offered.length && timingSafeEqual(entry.token, offered)) found = entry.principal;
    }
    return found;
  };
}

/** Signed, expiring tokens that let one principal read one run's stream. */
export class StreamTokens {
  readonly #secret: Buffer;
  readonly #ttlMs: number;

  constructor(secret: string | undefined, ttlMs = 300_000) {
    this.#secret = secret === undefined ? randomBytes(32) : Buffer.from(secret);
    if (this.#secret.length < 16) throw new AgentwireError('AW_INVALID_OPTION', 'auth.streamTokenSecret must be at least 16 characters');
    this.#ttlMs = ttlMs;
  }

  /** How long a token stays valid after it is issued, in ms. */
  get ttlMs(): number {
    return this.#ttlMs;
  }

  /** A token for `principal` to read `runId`, valid for the configured lifetime. */
  issue(runId: string, principal: string, now = Date.now()): string {
    const payload = Buffer.from(JSON.stringify({ r: runId, p: principal, e: now + this.#ttlMs })).toString('base64url');
    return `${payload}.${this.#sign(payload)}`;
  }

  /**
   * The principal a token was issued to, when it is authentic, unexpired and for `runId`. Throws
   * `AW_FORBIDDEN` for an authentic token of another run and `AW_UNAUTHORIZED` for anything else:
   * a malformed, tampered or expired token, or a signed payload that is not the claims `issue` writes.
   */
  verify(token: string, runId: string, now = Date.now()): string {
    const parts = token.split('.');
    const [payload, signature] = parts;
    if (parts.length !== 2 || !payload || !signature) throw invalidToken();
    // Compared as bytes: a signature of as many characters but more bytes (non-ASCII) is simply unequal.
    const offered = Buffer.from(signature);
    const expected = Buffer.from(this.#sign(payload));
    if (offered.length !== expected.length || !timingSafeEqual(offered, expected)) throw invalidToken();
    const claims = parseClaims(payload);
    if (!claims) throw invalidToken();
    if (claims.e < now) throw new AgentwireError('AW_UNAUTHORIZED', 'the stream token has expired; get a new one from POST /api/runs/:id/stream-token');
    if (claims.r !== runId) throw new AgentwireError('AW_FORBIDDEN', 'this stream token is for another run');
    return claims.p;
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#secret).update(payload).digest('base64url');
  }
}

interface StreamTokenClaims {
  /** The run. */
  r: string;
  /** The principal. */
  p: string;
  /** Expiry, in ms since the epoch. */
  e: number;
}

/** The claims of a (signed) payload, or `undefined` when it is not the JSON object `issue` writes. */
function parseClaims(payload: string): StreamTokenClaims | undefined {
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof claims !== 'object' || claims === null) return undefined;
  const { r, p, e } = claims as Partial<Record<keyof StreamTokenClaims, unknown>>;
  if (typeof r !== 'string' || typeof p !== 'string' || p === '' || typeof e !== 'number' || !Number.isFinite(e)) return undefined;
  return { r, p, e };
}

function invalidToken(): AgentwireError {
  return new AgentwireError('AW_UNAUTHORIZED', 'the stream token is not valid');
}

/** The `authenticate` to use: the app's, then the bearer tokens; `undefined` when auth is off. */
export function resolveAuthenticate(options: AuthOptions | undefined): Authenticate | undefined {
  if (!options) return undefined;
  const checks: Authenticate[] = [];
  if (options.authenticate) checks.push(options.authenticate);
  if (options.tokens) checks.push(bearerTokens(options.tokens));
  if (checks.length === 0) throw new AgentwireError('AW_INVALID_OPTION', 'auth needs authenticate or tokens');
  return async (request) => {
    for (const check of checks) {
      const principal = await check(request);
      if (typeof principal === 'string' && principal !== '') return principal;
    }
    return null;
  };
}
