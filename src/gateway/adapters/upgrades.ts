/**
 * HTTP upgrades: the gateway speaks one, WebSocket. A request that asks for another (`Upgrade: h2c`
 * from `curl --http2 http://…`, which falls back to HTTP/1.1 when the server does not switch) is an
 * ordinary request and is served as one.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** Headers that only mean something for the upgrade, dropped when the request is served without it. */
const UPGRADE_ONLY = new Set(['upgrade', 'http2-settings']);

/** Whether `request` asks to upgrade to WebSocket. */
export function isWebSocketUpgrade(request: IncomingMessage): boolean {
  const upgrade = request.headers.upgrade;
  return typeof upgrade === 'string' && upgrade.split(',').some((token) => token.trim().toLowerCase() === 'websocket');
}

/**
 * Serves a request whose upgrade the gateway does not speak as the plain HTTP/1.1 request it also
 * is: its head, without the upgrade headers, is put back in front of the bytes that followed it and
 * the socket is handed to its server's HTTP connection handler again, so the body, keep-alive and
 * every later request on the connection work as usual. Returns `false` when the socket has no HTTP
 * server to hand it back to (then the caller must answer it).
 */
export function serveWithoutUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
  const server = (socket as Duplex & { server?: { emit(event: string, socket: Duplex): boolean } }).server;
  if (!server || typeof server.emit !== 'function') return false;
  const lines = [`${request.method ?? 'GET'} ${request.url ?? '/'} HTTP/${request.httpVersion}`];
  const raw = request.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index] as string;
    const lower = name.toLowerCase();
    if (UPGRADE_ONLY.has(lower)) continue;
    let value = raw[index + 1] as string;
    if (lower === 'connection') {
      value = value
        .split(',')
        .map((token) => token.trim())
        .filter((token) => token !== '' && !UPGRADE_ONLY.has(token.toLowerCase()))
        .join(', ');
      if (value === '') continue;
    }
    lines.push(`${name}: ${value}`);
  }
  socket.unshift(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head]));
  // A TLS socket (HTTP/1.1 on an HTTPS or HTTP/2-with-fallback server) is handled on `secureConnection`.
  const encrypted = (socket as Duplex & { encrypted?: boolean }).encrypted === true;
  return server.emit(encrypted ? 'secureConnection' : 'connection', socket);
}
