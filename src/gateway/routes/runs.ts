/**
 * The run routes: start (JSON or streamed), list, state, events (SSE with exact resume), cancel,
 * and a fresh stream token for a signed-in caller.
 *
 * @module
 */
import { AgentwireError } from '../../protocol/errors.js';
import { parseCursor, parseStartRunBody } from '../../protocol/validate.js';
import type { RunRecord } from '../../store/store.js';
import type { GatewayRequest } from '../http-types.js';
import { readJsonBody } from '../adapters/request-body.js';
import type { Router } from '../router.js';
import { IdempotencyKeys } from '../policy/idempotency.js';
import { findOwnedRun, resumeCursor } from '../policy/run-lookup.js';
import { acquireBeforeStart, runStreamResponse } from '../transports/sse-response.js';
import type { RunStreamContext } from '../transports/stream-context.js';
import { SSE_HEADERS } from '../transports/sse.js';
import { runState, STREAM_FORMAT_HEADERS, STREAM_FORMATS } from '../transports/stream-formats.js';

/** What the run routes need. */
export type RunRoutesContext = RunStreamContext;

/** Registers the run routes on `router`. */
export function registerRunRoutes(router: Router, context: RunRoutesContext): void {
  const { runner, store, options, idempotency, streamTokens, authEnabled } = context;

  /** A short-lived token that lets a header-less client (EventSource) read this run; only with auth. */
  const tokenFor = (id: string, principal: string | undefined) => (authEnabled && principal !== undefined ? streamTokens.issue(id, principal) : undefined);

  const links = (id: string, principal: string | undefined) => {
    const token = tokenFor(id, principal);
    return {
      eventsUrl: `/api/runs/${id}/events${token ? `?token=${token}` : ''}`,
      stateUrl: `/api/runs/${id}`,
      cancelUrl: `/api/runs/${id}/cancel`,
      ...(token ? { streamToken: token } : {}),
    };
  };

  const findRun = (id: string | undefined, principal: string | undefined): Promise<RunRecord> => findOwnedRun(context, id, principal);

  router.on('POST', '/api/runs', async (request) => {
    const raw = await readJsonBody(request, options.maxBodyBytes);
    const parsed = parseStartRunBody(raw);
    if (!parsed.ok) throw new AgentwireError('AW_BAD_REQUEST', parsed.message);
    const { principal } = request;
    const key = IdempotencyKeys.parse(request.header('idempotency-key'));
    const streaming = acceptsEventStream(request);
    const begin = () => runner.start({ agent: parsed.value.agent, input: parsed.value.input, owner: principal });
    let record: RunRecord;
    let repeated = false;
    // A streamed start takes its stream slot first, so a 429 starts no run.
    let heldLimit: (() => void) | undefined;
    if (key === undefined) {
      // Most starts have no key: straight to the runner, no idempotency step in between.
      if (streaming) ({ record, heldLimit } = await acquireBeforeStart(context, principal, begin));
      else record = await begin();
    } else {
      const start = async () => {
        if (!streaming) return begin();
        const held = await acquireBeforeStart(context, principal, begin);
        heldLimit = held.heldLimit;
        return held.record;
      };
      // Serialised (up to maxBodyBytes) only when a key asks for the comparison.
      ({ record, replayed: repeated } = await idempotency.start(principal, key, JSON.stringify(raw), start, (id) => findRun(id, principal)));
    }
    if (streaming) {
      const headers: Record<string, string> = { 'content-location': `/api/runs/${record.id}/events` };
      if (repeated) headers['idempotent-replayed'] = 'true';
      return runStreamResponse(context, record, principal, 0, undefined, headers, 'agentwire', heldLimit);
    }
    return {
      kind: 'json',
      status: repeated ? 200 : 201,
      headers: { location: `/api/runs/${record.id}/events`, ...(repeated ? { 'idempotent-replayed': 'true' } : {}) },
      body: { id: record.id, agent: record.agent, ...links(record.id, principal) },
    };
  });

  router.on('GET', '/api/runs', async (request) => {
    const limit = parseCursor(request.url.searchParams.get('limit'));
    if (limit === null || limit === 0) throw new AgentwireError('AW_BAD_REQUEST', 'limit must be a positive integer');
    const owner = authEnabled ? request.principal : undefined;
    const runs = await store.listRuns({ owner, limit: Math.min(limit ?? 50, 500) });
    return { kind: 'json', status: 200, body: { runs: runs.map(({ owner: _owner, ...run }) => ({ ...run, ...links(run.id, request.principal) })) } };
  });

  router.on('GET', '/api/runs/:id', async (request, params) => {
    const record = await findRun(params.id, request.principal);
    const token = tokenFor(record.id, request.principal);
    return {
      kind: 'json',
      status: 200,
      headers: token ? { 'x-agentwire-stream-token': token } : ({} as Record<string, string>),
      body: await runState(store, record.id),
    };
  });

  router.on('GET', '/api/runs/:id/events', async (request, params) => {
    const record = await findRun(params.id, request.principal);
    const formatName = (request.url.search === '' ? null : request.url.searchParams.get('format')) ?? 'agentwire';
    const makeFormat = Object.hasOwn(STREAM_FORMATS, formatName) ? STREAM_FORMATS[formatName] : undefined;
    if (!makeFormat) {
      throw new AgentwireError('AW_BAD_REQUEST', `unknown format "${formatName}"; this gateway serves: ${Object.keys(STREAM_FORMATS).join(', ')}`);
    }
    const after = resumeCursor(request);
    if (after > record.lastSeq) {
      throw new AgentwireError('AW_BAD_CURSOR', `cursor ${after} is beyond the run's last event (${record.lastSeq})`);
    }
    if (record.status !== 'running' && after >= record.lastSeq) {
      // Nothing left to send: 204 tells a native EventSource to stop reconnecting.
      return { kind: 'empty', status: 204 };
    }
    if (request.method === 'HEAD') return { kind: 'empty', status: 200, headers: { ...SSE_HEADERS, ...STREAM_FORMAT_HEADERS[formatName] } };
    const format = await makeFormat({ store, runId: record.id, after });
    return runStreamResponse(context, record, request.principal, after, format, {}, formatName);
  }, { streamToken: true });

  // Real credentials only (no `streamToken` option): a stream token cannot renew itself.
  router.on('POST', '/api/runs/:id/stream-token', async (request, params) => {
    if (!authEnabled || request.principal === undefined) {
      throw new AgentwireError('AW_NOT_FOUND', 'this gateway has no auth, so its event streams need no token: read /api/runs/:id/events directly');
    }
    const record = await findRun(params.id, request.principal);
    const now = Date.now();
    const token = streamTokens.issue(record.id, request.principal, now);
    return { kind: 'json', status: 200, body: { token, expiresAt: now + streamTokens.ttlMs, eventsUrl: `/api/runs/${record.id}/events?token=${token}` } };
  });

  router.on('POST', '/api/runs/:id/cancel', async (request, params) => {
    const record = await findRun(params.id, request.principal);
    const body = (await readJsonBody(request, options.maxBodyBytes, true)) as { reason?: unknown } | undefined;
    const reason = typeof body?.reason === 'string' && body.reason !== '' ? body.reason.slice(0, 500) : 'cancelled by request';
    if (record.status !== 'running' || !(await runner.cancel(record.id, reason))) {
      const ended = await findRun(record.id, request.principal);
      throw new AgentwireError('AW_RUN_ENDED', `run ${record.id} has already ended (${ended.status})`);
    }
    const after = await findRun(record.id, request.principal);
    return { kind: 'json', status: 200, body: { id: after.id, status: after.status } };
  });
}

/** True if the client asked for an event stream. */
function acceptsEventStream(request: GatewayRequest): boolean {
  return request.header('accept')?.toLowerCase().includes('text/event-stream') ?? false;
}
