/**
 * Node's request and headers timeouts bound how long a client may take to send its request; they
 * must not cut a stream that lasts longer than them.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, createGateway } from '../src/gateway/create-gateway.js';
import { collectEvents } from './helpers/sse-client.js';

describe('long streams', () => {
  let gateway: Gateway;
  let server: ReturnType<typeof createServer>;
  let url: string;
  beforeAll(async () => {
    gateway = createGateway({
      agents: {
        async *slow(ctx) {
          for (let index = 0; index < 3; index++) {
            await ctx.sleep(500);
            yield `${index} `;
          }
        },
      },
      heartbeatMs: 200,
    });
    server = createServer({ requestTimeout: 300, headersTimeout: 300, connectionsCheckingInterval: 50 }, gateway.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await gateway.close();
    server.closeAllConnections();
    server.close();
  });

  it('is not cut by a 300 ms requestTimeout while it streams for 1.5 s', async () => {
    const started = Date.now();
    const { events } = await collectEvents(`${url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ input: null }),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    expect(events.map((event) => event.type)).toEqual(['run.started', 'text.delta', 'text.delta', 'text.delta', 'run.finished']);
  });
});
