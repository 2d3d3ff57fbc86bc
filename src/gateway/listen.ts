/**
 * Serving a gateway on a port with `node:http`, with timeouts that do not cut long streams and a
 * `close()` that ends every stream before the server stops.
 *
 * @module
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Gateway } from './create-gateway.js';

const DEFAULT_BACKLOG = 4096;

/** A running HTTP server for a gateway. */
export interface ListeningGateway {
  readonly server: Server;
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
  /** Cancels live runs (streams end with `run.cancelled`), then stops the server. */
  close(): Promise<void>;
}

/** Options of {@link listen}. */
export interface ListenOptions {
  /** @defaultValue 8787; 0 picks a free port */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /**
   * Length of the accept queue. Deep by default so a burst of connections (every client
   * reconnecting after a deploy) waits in the queue instead of overflowing it: an overflowed SYN
   * is retried by the client only after 1 s, then 3 s. The kernel caps it at
   * `net.core.somaxconn`. @defaultValue 4096
   */
  backlog?: number;
}

/** Serves `gateway` over HTTP/1.1 on `host:port`. */
export async function listen(gateway: Gateway, options: ListenOptions = {}): Promise<ListeningGateway> {
  const host = options.host ?? '127.0.0.1';
  // requestTimeout bounds how long a client may take to *send* its request; streams are responses
  // and are not cut by it (the stream adapter also clears the socket's idle timeout).
  const server = createServer({ requestTimeout: 60_000, headersTimeout: 30_000, keepAliveTimeout: 5_000 }, gateway.listener);
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
    url: `http://${urlHost}:${port}`,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await gateway.close();
        // Streams have received their terminal event: close each connection as soon as its
        // response has flushed, and cut whatever is left after a short grace.
        const sweep = setInterval(() => server.closeIdleConnections(), 25);
        const force = setTimeout(() => server.closeAllConnections(), 2_000);
        server.closeIdleConnections();
        await stopped;
        clearInterval(sweep);
        clearTimeout(force);
      })();
      return closing;
    },
  };
}
