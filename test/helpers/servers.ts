/**
 * Test servers on free loopback ports: the gateway's Node listener in `node:http`, and its fetch
 * handler mounted in Hono on `@hono/node-server`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { type Gateway, createGateway } from '../../src/gateway/create-gateway.js';
import type { GatewayOptions } from '../../src/gateway/options.js';

/** A gateway served on a free port. */
export interface TestServer {
  readonly url: string;
  readonly gateway: Gateway;
  close(): Promise<void>;
}

/** Starts a gateway as a Node listener in a plain `node:http` server. */
export async function startNodeServer(options: GatewayOptions): Promise<TestServer> {
  const gateway = createGateway(options);
  const server = createServer(gateway.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    gateway,
    async close() {
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Starts a gateway as a fetch handler mounted in a Hono app on `@hono/node-server`. */
export async function startHonoServer(options: GatewayOptions): Promise<TestServer> {
  const gateway = createGateway(options);
  const app = new Hono();
  app.all('/*', (context) => gateway.fetch(context.req.raw));
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve({ server: started, port: info.port }));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    gateway,
    async close() {
      await gateway.close();
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Both ways of mounting a gateway; e2e suites run against each. */
export const ADAPTERS = [
  ['node listener', startNodeServer],
  ['fetch handler in Hono', startHonoServer],
] as const;
