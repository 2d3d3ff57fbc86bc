/**
 * Upgrades the gateway does not speak: a request with `Upgrade: h2c` (what `curl --http2` sends
 * to an http:// URL) is served as the plain HTTP/1.1 request it also is, by `listen` and by the
 * documented `server.on('upgrade', gateway.upgrade)` wiring, over TLS too; WebSocket still upgrades.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createDevCertificate } from '../src/cli/commands/cert.js';
import { type Gateway, createGateway } from '../src/gateway/create-gateway.js';
import { type ListeningGateway, listen } from '../src/gateway/adapters/listen.js';

const run = promisify(execFile);
const agents = {
  async *echo(ctx: { input: unknown }) {
    yield String(ctx.input);
  },
};

/** curl's status codes and connection count for `urls`, fetched on one curl invocation (one connection when kept alive). */
async function curl(args: string[], urls: string[]): Promise<{ codes: string[]; connects: string[]; bodies: string }> {
  const { stdout } = await run('curl', ['-s', '--max-time', '10', ...args, '-w', '\n%{http_code} %{num_connects}\n', ...urls]);
  const lines = stdout.split('\n');
  const tails = lines.filter((line) => /^\d{3} \d+$/.test(line)).map((line) => line.split(' ') as [string, string]);
  return { codes: tails.map(([code]) => code), connects: tails.map(([, connects]) => connects), bodies: stdout };
}

/** Opens a WebSocket and resolves when it is open. */
function openWebSocket(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/ws`, options);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('requests with an Upgrade the gateway does not speak', () => {
  let listening: ListeningGateway;
  let own: { server: Server; gateway: Gateway; url: string };
  let tls: ListeningGateway;
  let directory: string;
  beforeAll(async () => {
    listening = await listen(createGateway({ agents, graceMs: 'continue' }), { port: 0 });
    // The wiring the docs give for an app's own server: every upgrade reaches gateway.upgrade.
    const gateway = createGateway({ agents, graceMs: 'continue' });
    const server = createServer(gateway.listener);
    server.on('upgrade', gateway.upgrade);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    own = { server, gateway, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    directory = mkdtempSync(join(tmpdir(), 'agentwire-upgrades-'));
    const files = createDevCertificate(directory, 1);
    tls = await listen(createGateway({ agents, graceMs: 'continue' }), { port: 0, tls: { cert: readFileSync(files.cert), key: readFileSync(files.key) } });
  });
  afterAll(async () => {
    await Promise.all([listening.close(), tls.close(), own.gateway.close()]);
    own.server.closeAllConnections();
    await new Promise((resolve) => own.server.close(resolve));
    rmSync(directory, { recursive: true, force: true });
  });

  it('serves curl --http2 on http:// (Upgrade: h2c) as HTTP/1.1, keeping the connection alive, with listen and with an own server', async () => {
    for (const url of [listening.url, own.url]) {
      const twice = await curl(['--http2'], [`${url}/healthz`, `${url}/api/agents`]);
      expect(twice.codes, url).toEqual(['200', '200']);
      expect(twice.connects, `${url}: the second request reuses the connection`).toEqual(['1', '0']);
      expect(twice.bodies).toContain('"echo"');
      // A body after the upgrade request's head is read as the body.
      const posted = await curl(['--http2', '-H', 'content-type: application/json', '-d', '{"agent":"echo","input":"hi"}'], [`${url}/api/runs`]);
      expect(posted.codes, url).toEqual(['201']);
    }
  });

  it('serves an h2c upgrade sent over TLS HTTP/1.1 as a plain request too', async () => {
    const response = await curl(['-k', '--http1.1', '-H', 'Connection: Upgrade, HTTP2-Settings', '-H', 'Upgrade: h2c', '-H', 'HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA'], [`${tls.url}/healthz`]);
    expect(response.codes).toEqual(['200']);
  });

  it('still upgrades WebSocket requests on both', async () => {
    for (const url of [listening.url, own.url]) {
      const ws = await openWebSocket(url);
      expect(ws.readyState).toBe(WebSocket.OPEN);
      ws.close();
    }
  });
});
