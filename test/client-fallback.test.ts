/**
 * The client's transport fallback: behind a proxy that holds event streams until they end (and
 * passes everything else), `transport: 'auto'` notices the silent stream, switches to long-polling,
 * and delivers every event exactly once, live; `transport: 'poll'` polls from the start.
 */
import { request as httpRequest, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe } from '../src/client/subscribe.js';
import type { ConnectionStatus } from '../src/client/types.js';
import { createGateway } from '../src/gateway/create-gateway.js';
import { type ListeningGateway, listen } from '../src/gateway/adapters/listen.js';
import type { AgentContext } from '../src/producer/agent.js';
import type { AgentEvent } from '../src/protocol/events.js';
import { startRun } from './helpers/sse-client.js';

const agents = {
  async *paced(ctx: AgentContext) {
    for (let index = 0; index < 40; index++) {
      await ctx.sleep(50);
      yield `${index} `;
    }
  },
};

describe('client transport fallback', () => {
  let gateway: ListeningGateway;
  let proxy: ReturnType<typeof createServer>;
  let proxyUrl: string;
  beforeAll(async () => {
    gateway = await listen(createGateway({ agents, graceMs: 'continue', uiDir: false }), { port: 0 });
    // A proxy that buffers event streams whole (the worst case) and passes other responses.
    proxy = createServer((request, response) => {
      const upstream = httpRequest(`${gateway.url}${request.url}`, { method: request.method, headers: request.headers }, (upstreamResponse) => {
        const isStream = (upstreamResponse.headers['content-type'] ?? '').startsWith('text/event-stream');
        if (!isStream) {
          response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
          upstreamResponse.pipe(response);
          return;
        }
        const held: Buffer[] = [];
        upstreamResponse.on('data', (chunk: Buffer) => held.push(chunk));
        upstreamResponse.on('end', () => {
          response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
          response.end(Buffer.concat(held));
        });
        response.on('close', () => upstreamResponse.destroy());
      });
      request.pipe(upstream);
      upstream.on('error', () => response.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    proxy.closeAllConnections();
    proxy.close();
    await gateway.close();
  });

  async function follow(options: Parameters<typeof subscribe>[1]) {
    const { id } = await startRun(gateway.url, { agent: 'paced', input: null });
    const statuses: ConnectionStatus[] = [];
    const arrivals: { seq: number; at: number; sent: number }[] = [];
    for await (const event of subscribe(id, { ...options, onStatus: (status) => statuses.push(status) })) {
      arrivals.push({ seq: event.seq, at: Date.now(), sent: (event as AgentEvent).at });
    }
    return { statuses, arrivals };
  }

  it("falls back from a buffered stream to long-polling with 'auto' and stays live", async () => {
    const { statuses, arrivals } = await follow({ baseUrl: proxyUrl, fallbackAfterMs: 400 });
    expect(arrivals.map((arrival) => arrival.seq)).toEqual(Array.from({ length: 42 }, (_, index) => index + 1));
    expect(statuses.filter((status) => status.state === 'open')).toEqual([{ state: 'open', transport: 'poll' }]);
    // Live once polling: the later events arrived close to when they were sent, not at the end.
    const late = arrivals.slice(20);
    expect(Math.max(...late.map((arrival) => arrival.at - arrival.sent))).toBeLessThan(1_000);
  });

  it("polls from the start with transport: 'poll', and streams with 'sse' where streams pass", async () => {
    const polled = await follow({ baseUrl: gateway.url, transport: 'poll' });
    expect(polled.arrivals.map((arrival) => arrival.seq)).toEqual(Array.from({ length: 42 }, (_, index) => index + 1));
    expect(polled.statuses.find((status) => status.state === 'open')).toEqual({ state: 'open', transport: 'poll' });
    const streamed = await follow({ baseUrl: gateway.url, fallbackAfterMs: 400 });
    expect(streamed.statuses.filter((status) => status.state === 'open')).toEqual([{ state: 'open', transport: 'sse' }]);
    expect(streamed.arrivals).toHaveLength(42);
  });
});
