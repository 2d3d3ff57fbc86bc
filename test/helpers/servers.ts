/**
 * Test servers on free loopback ports: the gateway's Node listener in `node:http`, and its fetch
 * handler mounted in Hono on `@hono/node-server`.
 */
import { type IncomingMessage, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { type Gateway, createGateway } from '../../src/gateway/create-gateway.js';
import type { GatewayOptions } from '../../src/gateway/options.js';
import { subscribe } from '../../src/client/subscribe.js';

/** A gateway served on a free port. */
export interface TestServer {
  readonly url: string;
  readonly gateway: Gateway;
  /** Cuts every open connection (streams included); the server keeps listening. */
  dropConnections(): void;
  close(): Promise<void>;
}

/** Starts a gateway as a Node listener in a plain `node:http` server; `onRequest` sees each request first. */
export async function startNodeServer(options: GatewayOptions, onRequest?: (request: IncomingMessage) => void): Promise<TestServer> {
  const gateway = createGateway(options);
  const server = createServer(
    onRequest
      ? (request, response) => {
          onRequest(request);
          gateway.listener(request, response);
        }
      : gateway.listener,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    gateway,
    dropConnections: () => server.closeAllConnections(),
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
    dropConnections: () => (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.(),
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

/** Starts a run of `agent` with `input` (JSON, not streamed) and returns its id; expects 201. */
export async function startRunAt(url: string, agent: string, input: unknown): Promise<string> {
  const response = await fetch(`${url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent, input }) });
  if (response.status !== 201) throw new Error(`starting ${agent} answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

/** The run's answer as the server logged it: the concatenated top-level `text.delta`s. */
export async function serverAnswer(url: string, runId: string): Promise<string> {
  let text = '';
  for await (const event of subscribe(runId, { baseUrl: url })) if (event.type === 'text.delta' && event.stepId === undefined) text += event.text;
  return text;
}
