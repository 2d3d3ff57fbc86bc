/**
 * Hostile SSE servers for client tests: a scripted run log served with random chunking and
 * connections dropped at random byte offsets, and a TCP proxy that cuts a real gateway's
 * connections after a random number of bytes.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, type Socket, createConnection, createServer as createTcpServer } from 'node:net';
import type { AgentEvent } from '../../src/protocol/events.js';
import { encodeSseEvent } from '../../src/protocol/sse.js';

/** A seeded PRNG (mulberry32): reproducible chaos. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A run log of `count` answer tokens ("t1 ", "t2 ", …) between `run.started` and `run.finished`. */
export function tokenLog(runId: string, count: number): AgentEvent[] {
  const events: AgentEvent[] = [{ type: 'run.started', runId, agent: 'test', input: null, seq: 1, at: 1 }];
  for (let index = 1; index <= count; index++) events.push({ type: 'text.delta', text: `t${index} `, seq: index + 1, at: index + 1 });
  events.push({ type: 'run.finished', seq: count + 2, at: count + 2 });
  return events;
}

/** How one connection of a {@link ScriptedServer} behaves. */
export type ConnectionPlan =
  /** Send everything after the cursor, in random chunks, cut after `cutAt` bytes (undefined: never). */
  | { kind: 'stream'; cutAt?: number; hangAfter?: number }
  /** Answer with this status and an error body. */
  | { kind: 'status'; status: number }
  /** Destroy the socket before any response. */
  | { kind: 'destroy' };

/** Requests seen by a {@link ScriptedServer}. */
export interface SeenRequest {
  method: string;
  url: string;
  lastEventId: string | undefined;
}

/** A server that serves one scripted run, both as `POST /api/runs` and `GET /api/runs/:id/events`. */
export interface ScriptedServer {
  readonly url: string;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * Serves `events` for run `runId`. `plan(request, index)` decides each connection's fate. Bytes are
 * written in chunks of random size (1–300 bytes, so frames and UTF-8 are split anywhere).
 */
export async function startScriptedServer(options: {
  runId: string;
  events: AgentEvent[];
  random: () => number;
  retryMs?: number;
  plan: (request: SeenRequest, index: number) => ConnectionPlan;
}): Promise<ScriptedServer> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const seen: SeenRequest = { method: request.method ?? 'GET', url: request.url ?? '/', lastEventId: request.headers['last-event-id'] as string | undefined };
    requests.push(seen);
    const plan = options.plan(seen, requests.length - 1);
    if (plan.kind === 'destroy') {
      request.socket.destroy();
      return;
    }
    if (plan.kind === 'status') {
      response.writeHead(plan.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code: plan.status === 404 ? 'AW_RUN_NOT_FOUND' : 'AW_INTERNAL', message: `scripted ${plan.status}` } }));
      return;
    }
    const after = Number(seen.lastEventId ?? 0);
    const remaining = options.events.filter((event) => event.seq > after);
    if (remaining.length === 0) {
      response.writeHead(204);
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-agentwire-run-id': options.runId });
    const body = Buffer.from(`retry: ${options.retryMs ?? 5}\n\n${remaining.map((event) => encodeSseEvent(event)).join('')}`);
    let offset = 0;
    const limit = plan.cutAt === undefined ? body.length : Math.min(plan.cutAt, body.length);
    const pump = () => {
      if (response.destroyed) return;
      if (plan.hangAfter !== undefined && offset >= plan.hangAfter) return; // stay open, silent
      if (offset >= limit) {
        if (limit < body.length) request.socket.destroy();
        else response.end();
        return;
      }
      let end = Math.min(limit, offset + 1 + Math.floor(options.random() * 300));
      if (plan.hangAfter !== undefined) end = Math.min(end, plan.hangAfter);
      response.write(body.subarray(offset, end));
      offset = end;
      setImmediate(pump);
    };
    pump();
  };
  const server = createServer(handle);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP proxy to `target` that cuts each connection after `cutAfter()` bytes from upstream. */
export async function startCuttingProxy(target: string, cutAfter: () => number): Promise<{ url: string; cuts: () => number; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let cuts = 0;
  const server = createTcpServer((client) => {
    const upstream = createConnection({ host: hostname, port: Number(port) });
    sockets.add(client).add(upstream);
    const limit = cutAfter();
    let sent = 0;
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (sent + chunk.length >= limit) {
        client.write(chunk.subarray(0, Math.max(0, limit - sent)));
        cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      sent += chunk.length;
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    upstream.on('close', end).on('error', end);
    client.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    cuts: () => cuts,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
