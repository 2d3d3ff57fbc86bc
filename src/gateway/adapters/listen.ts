/**
 * Serving a gateway on a port: HTTP/1.1 by default, HTTP/2 over TLS (with HTTP/1.1 fallback by
 * ALPN on the same port) with `tls`, or cleartext HTTP/2 (`h2c`) for a proxy that speaks it. The
 * timeouts do not cut long streams, and `close()` ends every stream before the server stops.
 *
 * @module
 */
import { type Server, createServer } from 'node:http';
import { type Http2SecureServer, type Http2Server, type Http2Session, createSecureServer, createServer as createH2cServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { CloseOptions, Gateway } from '../create-gateway.js';
import { isWebSocketUpgrade } from './upgrades.js';

const DEFAULT_BACKLOG = 4096;

/** A running server for a gateway. */
export interface ListeningGateway {
  readonly server: Server | Http2SecureServer | Http2Server;
  /** `http(s)://host:port` */
  readonly url: string;
  readonly port: number;
  /** `http1`, `h2` (TLS, with HTTP/1.1 fallback) or `h2c`. */
  readonly protocol: 'http1' | 'h2' | 'h2c';
  /**
   * Shuts the gateway down (see {@link CloseOptions}: by default live runs are cancelled and their
   * streams end with `run.cancelled`), then stops the server, cutting connections still open after
   * the deadline.
   */
  close(options?: CloseOptions): Promise<void>;
}

/** Options of {@link listen}. */
export interface ListenOptions {
  /** @defaultValue 8787; 0 picks a free port */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** Serve HTTP/2 over TLS (HTTP/1.1 too, chosen by ALPN) with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Serve cleartext HTTP/2 (prior knowledge), for use behind a proxy that speaks it. */
  h2c?: boolean;
  /**
   * Length of the accept queue. Deep by default so a burst of connections (every client
   * reconnecting after a deploy) waits in the queue instead of overflowing it: an overflowed SYN
   * is retried by the client only after 1 s, then 3 s. The kernel caps it at
   * `net.core.somaxconn`. @defaultValue 4096
   */
  backlog?: number;
}

/** Serves `gateway` on `host:port`. */
export async function listen(gateway: Gateway, options: ListenOptions = {}): Promise<ListeningGateway> {
  const host = options.host ?? '127.0.0.1';
  const listener = gateway.listener as unknown as Parameters<typeof createSecureServer>[1];
  const protocol = options.tls ? 'h2' : options.h2c ? 'h2c' : 'http1';
  // requestTimeout bounds how long a client may take to *send* its request; streams are responses
  // and are not cut by it (the stream adapter also clears the socket's idle timeout). Idle keep-alive
  // connections outlive the clients' and proxies' own idle timeouts (undici 4 s, load balancers 60 s),
  // so the client always closes first and never sends a request into a closing socket.
  // Only WebSocket upgrades leave the HTTP path (Node ≥ 24.9; older versions, and HTTP/1.1 on
  // the TLS server, hand every upgrade to `gateway.upgrade`, which serves the others as plain requests).
  const http1Options = { requestTimeout: 60_000, headersTimeout: 30_000, keepAliveTimeout: 65_000, shouldUpgradeCallback: isWebSocketUpgrade };
  const server =
    protocol === 'h2'
      ? createSecureServer({ ...options.tls, allowHTTP1: true, settings: { maxConcurrentStreams: 1000 } }, listener)
      : protocol === 'h2c'
        ? createH2cServer({ settings: { maxConcurrentStreams: 1000 } }, listener)
        : createServer(http1Options, gateway.listener);
  server.on('upgrade', gateway.upgrade);
  const sessions = new Set<Http2Session>();
  const sockets = new Set<Socket>();
  if (protocol !== 'http1') {
    const h2 = server as Http2SecureServer;
    h2.on('session', (session: Http2Session) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
    });
    h2.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, host, options.backlog ?? DEFAULT_BACKLOG, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    server,
    port,
    protocol,
    url: `${protocol === 'h2' ? 'https' : 'http'}://${urlHost}:${port}`,
    close(closeOptions: CloseOptions = {}) {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        const cutAll = () => {
          if (server instanceof Object && 'closeAllConnections' in server) (server as Server).closeAllConnections();
          for (const session of sessions) session.destroy();
          for (const socket of sockets) socket.destroy();
        };
        const closeIdle = () => {
          if ('closeIdleConnections' in server) (server as Server).closeIdleConnections();
          for (const session of sessions) session.close();
        };
        const deadline = setTimeout(cutAll, (closeOptions.deadlineMs ?? 10_000) + 2_000);
        deadline.unref();
        await gateway.close(closeOptions);
        // Streams have received their terminal event: close each connection as soon as its
        // response has flushed, and cut whatever is left after a short grace.
        const sweep = setInterval(closeIdle, 25);
        const force = setTimeout(cutAll, 2_000);
        closeIdle();
        await stopped;
        clearInterval(sweep);
        clearTimeout(force);
        clearTimeout(deadline);
      })();
      return closing;
    },
  };
}
