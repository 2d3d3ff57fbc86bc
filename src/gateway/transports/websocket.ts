/**
 * The WebSocket transport (`/api/ws`, with `ws`): one socket carries many run subscriptions.
 *
 * Client → server (JSON text frames): `{ "type": "subscribe", "runId", "after"? }`,
 * `{ "type": "unsubscribe", "runId" }`. Server → client: `{ "type": "subscribed", "runId", "after" }`,
 * `{ "type": "events", "runId", "events": [...] }` (the same events as SSE, with their `seq`; a batch
 * per frame), `{ "type": "error", "runId"?, "code", "message" }`. A subscription ends by itself
 * after the run's terminal event. Resume by subscribing again with `after` = the last `seq` seen.
 * The server pings every heartbeat interval and drops a socket that has not answered a ping by the
 * next one; a socket whose send buffer is full stops being fed, and its frames stop being read,
 * until it drains (memory stays bounded). A client sending frames faster than its budget (256 at
 * once, then 64 a second), or too many that are answered with an `error` (200 at once, then one a
 * second), is closed with 1008 and a reason saying which.
 *
 * Each socket counts as one stream against the stream limits (`maxStreamsPerPrincipal`,
 * `maxStreams`) from its upgrade on, and one more per subscription beyond its first, so a socket
 * costs what as many SSE streams would and at least one: an upgrade over a limit is answered 429
 * before the handshake, a subscription over it gets an `error` frame. A socket that holds no
 * subscription for `webSocketIdleMs` is closed (1000) so forgotten sockets give their slot back.
 *
 * @module
 */
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { AgentwireError, isAgentwireError } from '../../protocol/errors.js';
import type { AuthRequest } from '../policy/auth.js';
import type { CoreOptions } from '../core.js';
import { linkSignals } from './linked-signal.js';
import { findOwnedRun } from '../policy/run-lookup.js';
import { countSnapshots } from '../operations/metrics.js';
import type { RunStreamContext } from './stream-context.js';
import { isWebSocketUpgrade, serveWithoutUpgrade } from '../adapters/upgrades.js';
import { forEachBatch, type StoredEvent } from '../../store/store.js';
import { TokenBucket } from './token-bucket.js';
import { SocketStallClock, webSocketOutlet, writeOrWait } from './backpressure.js';
import { SharedFrames } from './shared-frames.js';

/** Largest frame a client may send, in bytes. */
const MAX_PAYLOAD = 16 * 1024;
/** Most subscriptions one socket may hold at once, pending ones (still looking up their run) included. */
const MAX_SUBSCRIPTIONS = 100;
/** Frames a client may send at once (a reconnect resubscribing everything), then per second. */
const FRAME_BURST = 2 * MAX_SUBSCRIPTIONS + 56;
const FRAMES_PER_SECOND = 64;
/** Frames answered with an `error` a client may send at once (every subscription refused), then per second. */
const BAD_FRAME_BURST = 2 * MAX_SUBSCRIPTIONS;
const BAD_FRAMES_PER_SECOND = 1;
/** The close code for a client over either budget (RFC 6455: policy violation). */
const POLICY_VIOLATION = 1008;

/** `{"type":"events","runId":…,"events":[…]}`: the frame of one batch, shared by the run's sockets. */
const EVENTS_FRAMES = new SharedFrames((batch, runId) => {
  let frame = `{"type":"events","runId":${JSON.stringify(runId)},"events":[`;
  for (let index = 0; index < batch.length; index++) frame += (index === 0 ? '' : ',') + (batch[index] as StoredEvent).json;
  return `${frame}]}`;
});

/** A Node `upgrade` listener: `server.on('upgrade', gateway.upgrade)`. */
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Creates the `/api/ws` upgrade handler and a function that closes every socket. */
export function createWebSocketTransport(context: RunStreamContext, core: Pick<CoreOptions, 'authenticate' | 'streamTokens'> & { allowedOrigin(origin: string, host: string | undefined): boolean }): {
  upgrade: UpgradeHandler;
  /** Closes every socket (1001), first letting subscriptions deliver their run's terminal event (up to `waitMs`). */
  close(waitMs?: number): Promise<void>;
} {
  const server = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false });
  const sockets = new Set<WebSocket>();
  /** Subscriptions in progress, to let them finish before a shutdown closes their sockets. */
  const active = new Set<Promise<void>>();

  /** Answers the upgrade request with a plain HTTP error; refusals (401, 403, 429) are counted as the HTTP ones are. */
  const refuse = (socket: Duplex, status: number, message: string, code = `AW_WS_${status}`) => {
    if (status === 401 || status === 403 || status === 429) context.metrics?.refused(code);
    const retryAfter = status === 429 ? 'Retry-After: 1\r\n' : '';
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\n${retryAfter}Connection: close\r\n\r\n${JSON.stringify({ error: { code, message } })}`);
  };

  const upgrade: UpgradeHandler = (request, socket, head) => {
    if (!isWebSocketUpgrade(request)) {
      // `Upgrade: h2c` and the like: not ours to speak, so the request is served as plain HTTP/1.1.
      if (!serveWithoutUpgrade(request, socket, head)) refuse(socket, 400, `this gateway upgrades only to websocket, not ${JSON.stringify(request.headers.upgrade?.slice(0, 40))}`);
      return;
    }
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://gateway.invalid');
      if (url.pathname !== '/api/ws') return refuse(socket, 404, `no WebSocket endpoint at ${url.pathname}; use /api/ws`);
      const origin = header(request, 'origin');
      // Cross-site WebSocket hijacking: browsers send Origin; only allowed origins may connect.
      if (origin !== undefined && !core.allowedOrigin(origin, header(request, 'host'))) return refuse(socket, 403, `origin ${origin} is not allowed`);
      let principal: string | undefined;
      let tokenRun: string | undefined;
      if (core.authenticate) {
        const authRequest: AuthRequest = { method: 'GET', url, header: (name) => header(request, name) };
        principal = (await core.authenticate(authRequest)) ?? undefined;
        const token = url.searchParams.get('token');
        const runId = url.searchParams.get('runId');
        if (principal === undefined && token && runId) {
          try {
            principal = core.streamTokens.verify(token, runId);
            tokenRun = runId;
          } catch (error) {
            return refuse(socket, isAgentwireError(error) ? error.status : 401, (error as Error).message);
          }
        }
        if (principal === undefined) return refuse(socket, 401, 'authentication required: send "Authorization: Bearer <token>" or ?token=&runId= with a stream token');
      }
      // The client may have gone during `authenticate`: then there is no close left to release a slot on.
      if (socket.destroyed) return;
      let slot: () => void;
      try {
        slot = context.limits.acquireSlot(principal);
      } catch (error) {
        if (!isAgentwireError(error)) throw error;
        return refuse(socket, error.status, error.message, error.code);
      }
      // A handshake ws refuses (a bad Sec-WebSocket-Key…) never reaches serveSocket: its close releases the slot.
      socket.once('close', slot);
      server.handleUpgrade(request, socket, head, (ws) => serveSocket(ws, principal, tokenRun, slot));
    })().catch((error: unknown) => {
      // Most likely `authenticate` threw: never drop the socket without a word.
      const { logger } = context.options;
      if (logger) logger.error({ event: 'ws.upgrade_failed', path: request.url?.split('?')[0], err: error }, 'a WebSocket upgrade failed (did authenticate throw?); the socket was closed');
      else console.error('[agentwire] a WebSocket upgrade failed (did authenticate throw?); the socket was closed:', error);
      socket.destroy();
    });
  };

  const serveSocket = (ws: WebSocket, principal: string | undefined, tokenRun: string | undefined, slot: () => void) => {
    sockets.add(ws);
    /** Every subscription, from its `subscribe` frame on: a pending one (run lookup) holds its slot too. */
    const subscriptions = new Map<string, AbortController>();
    /** The stream slots this socket holds: one per subscription, and one while it has none. */
    const slots = [slot];
    const { webSocketIdleMs } = context.options;
    let idle: ReturnType<typeof setTimeout> | undefined;
    /** Closes the socket if it still has no subscription `webSocketIdleMs` from now. */
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        if (subscriptions.size > 0 || ws.readyState !== ws.OPEN) return;
        closing = true;
        ws.close(1000, `idle: no subscription for ${webSocketIdleMs} ms`);
      }, webSocketIdleMs);
      idle.unref();
    };
    const frames = new TokenBucket(FRAME_BURST, FRAMES_PER_SECOND);
    const badFrames = new TokenBucket(BAD_FRAME_BURST, BAD_FRAMES_PER_SECOND);
    /** Set once the gateway closes the socket for its frames: what the client still sends is ignored. */
    let closing = false;
    /** Replies over the high-water mark still waiting to reach the socket; the client's frames are not read meanwhile. */
    let repliesWaiting = 0;
    let alive = true;
    const replies = webSocketOutlet(ws);
    const stall = new SocketStallClock();
    const heartbeat = setInterval(() => {
      if (stall.stalled()) {
        context.metrics?.dropped('stalled', 'ws');
        return ws.terminate();
      }
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, context.options.heartbeatMs);
    heartbeat.unref();
    armIdle();
    ws.on('pong', () => {
      alive = true;
    });
    const abortAll = () => {
      for (const stop of subscriptions.values()) stop.abort();
    };
    /** Closes the socket for what its client sent; its subscriptions end now, not at the closing handshake's end. */
    const closeFor = (reason: string) => {
      closing = true;
      abortAll();
      ws.close(POLICY_VIOLATION, reason);
    };
    /** Sends a reply; over the high-water mark, stops reading the client's frames until it has reached the socket. */
    const reply = (message: unknown) => {
      if (ws.readyState !== ws.OPEN) return;
      if (replies.write(JSON.stringify(message))) return;
      if (repliesWaiting++ === 0) ws.pause();
      void replies.ready().then(() => {
        if (--repliesWaiting === 0 && ws.readyState === ws.OPEN) ws.resume();
      });
    };
    const fail = (error: unknown, runId?: string) => {
      if (closing) return;
      if (!badFrames.take()) return closeFor(`too many bad frames: at most ${BAD_FRAME_BURST} at once, then ${BAD_FRAMES_PER_SECOND} per second`);
      const known = isAgentwireError(error);
      reply({ type: 'error', ...(runId ? { runId } : {}), code: known ? error.code : 'AW_INTERNAL', message: known ? error.message : 'internal error' });
    };

    const subscribe = async (runId: string, after: number) => {
      if (subscriptions.has(runId)) throw new AgentwireError('AW_BAD_REQUEST', `already subscribed to ${runId}; unsubscribe first`);
      if (subscriptions.size >= MAX_SUBSCRIPTIONS) throw new AgentwireError('AW_TOO_MANY_STREAMS', `a socket holds at most ${MAX_SUBSCRIPTIONS} subscriptions`);
      if (tokenRun !== undefined && runId !== tokenRun) throw new AgentwireError('AW_FORBIDDEN', 'this stream token is for another run');
      // The first subscription uses the socket's own stream slot; each one beyond takes one more.
      if (slots.length <= subscriptions.size) slots.push(context.limits.acquireSlot(principal));
      // The slot is taken before the lookup's await, so frames pipelined behind this one see it (a
      // duplicate, the cap), and an unsubscribe or the socket's close during the lookup aborts it.
      const stop = new AbortController();
      subscriptions.set(runId, stop);
      clearTimeout(idle);
      try {
        const record = await findOwnedRun(context, runId, principal);
        if (stop.signal.aborted || ws.readyState !== ws.OPEN) return;
        if (after > record.lastSeq) throw new AgentwireError('AW_BAD_CURSOR', `cursor ${after} is beyond the run's last event (${record.lastSeq})`);
        await stream(record.id, after, stop);
      } finally {
        subscriptions.delete(runId);
        while (slots.length > Math.max(1, subscriptions.size)) slots.pop()?.();
        if (subscriptions.size === 0 && ws.readyState === ws.OPEN) armIdle();
      }
    };

    /** Feeds one subscription until its run ends, it is unsubscribed, the socket closes or the gateway shuts down. */
    const stream = async (runId: string, after: number, stop: AbortController) => {
      const release = context.limits.acquireSubscriber(runId);
      const detach = context.runner.attach(runId);
      const linked = linkSignals(stop.signal, context.shutdownSignal);
      const { signal } = linked;
      const outlet = webSocketOutlet(ws);
      const watch = { observer: context.metrics, subscriber: detach, stall, stallTimeoutMs: context.options.stallTimeoutMs };
      context.metrics?.opened('agentwire', after > 0, 'ws');
      reply({ type: 'subscribed', runId, after });
      try {
        const onBatch = (batch: StoredEvent[]): Promise<void> | undefined => {
          if (signal.aborted) return undefined;
          if (ws.readyState !== ws.OPEN) {
            stop.abort();
            return undefined;
          }
          if (context.metrics) countSnapshots(batch, context.metrics);
          const frame = EVENTS_FRAMES.frames(batch, runId) ?? EVENTS_FRAMES.frame(batch, runId);
          context.metrics?.wrote(batch.length, typeof frame === 'string' ? frame.length : frame.byteLength);
          // Full: wait until this frame has reached the socket before reading more of the log.
          return writeOrWait(outlet, frame, watch);
        };
        await forEachBatch(context.store.follow(runId, after, { signal }), onBatch, signal);
      } finally {
        linked.dispose();
        detach();
        release();
        context.metrics?.closed('agentwire', 'ws');
      }
    };

    ws.on('message', (data, isBinary) => {
      if (closing) return;
      if (!frames.take()) return closeFor(`too many frames: at most ${FRAME_BURST} at once, then ${FRAMES_PER_SECOND} per second`);
      let message: { type?: unknown; runId?: unknown; after?: unknown };
      try {
        if (isBinary) throw new Error('binary');
        message = JSON.parse(data.toString());
        if (typeof message !== 'object' || message === null) throw new Error('not an object');
      } catch {
        return fail(new AgentwireError('AW_BAD_REQUEST', 'frames must be JSON text like {"type":"subscribe","runId":"…","after":0}'));
      }
      const runId = typeof message.runId === 'string' && message.runId.length <= 200 ? message.runId : undefined;
      if (message.type === 'subscribe') {
        const after = message.after === undefined ? 0 : message.after;
        if (runId === undefined) return fail(new AgentwireError('AW_BAD_REQUEST', 'subscribe needs a runId'));
        if (typeof after !== 'number' || !Number.isSafeInteger(after) || after < 0) {
          return fail(new AgentwireError('AW_BAD_CURSOR', 'after must be a non-negative integer (an event seq)'), runId);
        }
        const subscription = subscribe(runId, after).catch((error: unknown) => fail(error, runId));
        active.add(subscription);
        void subscription.finally(() => active.delete(subscription));
      } else if (message.type === 'unsubscribe') {
        if (runId === undefined) return fail(new AgentwireError('AW_BAD_REQUEST', 'unsubscribe needs a runId'));
        subscriptions.get(runId)?.abort();
      } else {
        fail(new AgentwireError('AW_BAD_REQUEST', `unknown message type ${JSON.stringify(message.type)}; use subscribe or unsubscribe`), runId);
      }
    });
    ws.on('close', () => {
      clearInterval(heartbeat);
      clearTimeout(idle);
      for (const release of slots.splice(0)) release();
      sockets.delete(ws);
      abortAll();
    });
    ws.on('error', () => ws.terminate());
  };

  return {
    upgrade,
    async close(waitMs = 0) {
      if (waitMs > 0 && active.size > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([Promise.allSettled([...active]), new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
        clearTimeout(timer);
      }
      for (const ws of sockets) ws.close(1001, 'the gateway is shutting down');
      server.close();
    },
  };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
