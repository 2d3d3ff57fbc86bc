/**
 * Serving a gateway on a port with `node:http`, with timeouts that do not cut long streams and a
 * `close()` that ends every stream before the server stops.
 *
 * @module
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloseOptions, Gateway } from './create-gateway.js';

/** A running HTTP server for a gateway. */
export interface ListeningGateway {
  readonly server: Server;
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
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
}

/** Serves `gateway` over HTTP/1.1 on `host:port`. */
export async function listen(gateway: Gateway, options: ListenOptions = {}): Promise<ListeningGateway> {
  const host = options.host ?? '127.0.0.1';
  // requestTimeout bounds how long a client may take to *send* its request; streams are responses
  // and are not cut by it (the stream adapter also clears the socket's idle timeout).
  // Idle keep-alive connections outlive the clients' and proxies' own idle timeouts (undici 4 s, load
  // balancers 60 s), so the client always closes first and never sends a request into a closing socket.
  const server = createServer({ requestTimeout: 60_000, headersTimeout: 30_000, keepAliveTimeout: 65_000 }, gateway.listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, host, () => {
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
    url: `http://${urlHost}:${port}`,
    close(closeOptions: CloseOptions = {}) {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        const deadline = setTimeout(() => server.closeAllConnections(), (closeOptions.deadlineMs ?? 10_000) + 2_000);
        deadline.unref();
        await gateway.close(closeOptions);
        // Streams have received their terminal event: close each connection as soon as its
        // response has flushed, and cut whatever is left after a short grace.
        const sweep = setInterval(() => server.closeIdleConnections(), 25);
        const force = setTimeout(() => server.closeAllConnections(), 2_000);
        server.closeIdleConnections();
        await stopped;
        clearInterval(sweep);
        clearTimeout(force);
        clearTimeout(deadline);
      })();
      return closing;
    },
  };
}
