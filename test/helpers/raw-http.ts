/**
 * Raw HTTP over a TCP socket, for what fetch will not send: half requests, invalid bytes, slow
 * headers, clients that vanish or never read.
 */
import { type Socket, connect } from 'node:net';

/** Sends `request` (string or bytes) and resolves with what came back, once `until(received)` or the timeout. */
export function rawRequest(
  baseUrl: string,
  request: string | Uint8Array,
  options: { until?: (received: string) => boolean; timeoutMs?: number; destroyAfterWrite?: boolean } = {},
): Promise<{ received: string; socket: Socket }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received, socket });
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 5_000);
    socket.on('error', (error) => {
      if (done) return;
      // A server may answer (413) and close while a large request is still being written: keep what it said.
      if (received !== '' || options.destroyAfterWrite) return finish();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPIPE' || code === 'ECONNRESET') return finish();
      reject(error);
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (options.until?.(received)) finish();
    });
    socket.on('close', finish);
    socket.write(request, () => {
      if (options.destroyAfterWrite) finish();
    });
  });
}

/** The status code of a raw HTTP response, or 0 when none arrived. */
export function statusOf(received: string): number {
  return Number(/^HTTP\/1\.[01] (\d{3})/.exec(received)?.[1] ?? 0);
}
