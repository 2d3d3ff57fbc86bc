import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { connectionHint } from '../connection-hint.js';
import { createInsecureFetch } from './insecure-fetch.js';

/** A loopback port nothing listens on (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('tail -k fetch, when the request cannot be made', () => {
  it("fails like Node's fetch (TypeError 'fetch failed' with the socket error as cause), so the hints read it", async () => {
    const port = await closedPort();
    const failure = await createInsecureFetch()(`https://127.0.0.1:${port}/api/agents`).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(TypeError);
    expect((failure as TypeError).message).toBe('fetch failed');
    expect(((failure as TypeError).cause as { code?: string }).code).toBe('ECONNREFUSED');
    expect(connectionHint(failure)).toMatch(/nothing is listening there/);
  });

  it('rejects with the abort itself (not a connection failure) when the signal was aborted', async () => {
    const port = await closedPort();
    const controller = new AbortController();
    controller.abort();
    const failure = await createInsecureFetch()(`https://127.0.0.1:${port}/`, { signal: controller.signal }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).name).toBe('AbortError');
  });
});
