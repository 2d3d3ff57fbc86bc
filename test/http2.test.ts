/**
 * HTTP/2: over TLS with HTTP/1.1 fallback on the same port, and cleartext h2c. Many run streams
 * share one session, there is no Connection header, and a cancelled stream (RST_STREAM) releases
 * its subscriber like a disconnect.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { type ClientHttp2Session, connect, constants } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParser } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevCertificate } from '../src/cli/commands/cert.js';
import { createGateway } from '../src/gateway/create-gateway.js';
import { type ListeningGateway, listen } from '../src/gateway/adapters/listen.js';
import type { AgentContext } from '../src/producer/agent.js';
import { metric } from './helpers/metrics.js';
import { waitFor } from './helpers/wait.js';

const agents = {
  async *ticker(ctx: AgentContext) {
    const count = Number(ctx.input ?? 10);
    for (let index = 0; index < count; index++) {
      await ctx.sleep(5);
      yield `${index} `;
    }
  },
};

/** Starts a run on an HTTP/2 session and collects its stream; resolves headers and events. */
function runOnSession(session: ClientHttp2Session, input: number, onFirstEvent?: () => void) {
  return new Promise<{ headers: Record<string, unknown>; seqs: number[]; firstAt: number; endAt: number }>((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/api/runs', 'content-type': 'application/json', accept: 'text/event-stream' });
    let headers: Record<string, unknown> = {};
    const seqs: number[] = [];
    let firstAt = 0;
    const parser = createParser({
      onEvent: (message) => {
        if (seqs.length === 0) {
          firstAt = Date.now();
          onFirstEvent?.();
        }
        seqs.push(Number(message.id));
      },
    });
    stream.setEncoding('utf8');
    stream.on('response', (responseHeaders) => {
      headers = responseHeaders;
    });
    stream.on('data', (chunk: string) => parser.feed(chunk));
    stream.on('end', () => resolve({ headers, seqs, firstAt, endAt: Date.now() }));
    stream.on('error', reject);
    stream.end(JSON.stringify({ agent: 'ticker', input }));
  });
}

describe('HTTP/2', () => {
  let directory: string;
  let cert: Buffer;
  let tls: ListeningGateway;
  let h2c: ListeningGateway;
  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'agentwire-cert-'));
    const files = createDevCertificate(directory, 1);
    cert = readFileSync(files.cert);
    tls = await listen(createGateway({ agents, graceMs: 200 }), { port: 0, tls: { cert, key: readFileSync(files.key) } });
    h2c = await listen(createGateway({ agents }), { port: 0, h2c: true });
  });
  afterAll(async () => {
    await Promise.all([tls.close(), h2c.close()]);
    rmSync(directory, { recursive: true, force: true });
  });

  it('carries 200 concurrent run streams on one TLS session, all progressing, without a Connection header', async () => {
    const session = connect(tls.url, { ca: cert });
    try {
      const results = await Promise.all(Array.from({ length: 200 }, () => runOnSession(session, 20)));
      for (const result of results) {
        expect(result.headers[':status']).toBe(200);
        expect(result.headers['content-type']).toBe('text/event-stream; charset=utf-8');
        expect(result.headers.connection).toBeUndefined();
        expect(result.seqs).toEqual(Array.from({ length: 22 }, (_, index) => index + 1));
      }
      // They ran at the same time: every stream had its first event before the first stream ended.
      const firstEnd = Math.min(...results.map((result) => result.endAt));
      expect(Math.max(...results.map((result) => result.firstAt))).toBeLessThanOrEqual(firstEnd);
      expect(session.state.localWindowSize).toBeGreaterThan(0);
    } finally {
      session.close();
    }
  });

  it('falls back to HTTP/1.1 on the same port for a client without HTTP/2', async () => {
    const status = await new Promise<{ status: number; version: string }>((resolve, reject) => {
      const request = httpsRequest(`${tls.url}/healthz`, { ca: cert, ALPNProtocols: ['http/1.1'] } as Parameters<typeof httpsRequest>[1], (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, version: response.httpVersion });
      });
      request.on('error', reject);
      request.end();
    });
    expect(status).toEqual({ status: 200, version: '1.1' });
  });

  it('releases the subscriber when the client cancels its stream (RST_STREAM), and the grace policy then stops the run', async () => {
    const session = connect(tls.url, { ca: cert });
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/api/runs', 'content-type': 'application/json', accept: 'text/event-stream' });
      stream.end(JSON.stringify({ agent: 'ticker', input: 100_000 }));
      await new Promise<void>((resolve) => stream.once('data', () => resolve()));
      stream.close(constants.NGHTTP2_CANCEL);
      const readMetrics = () =>
        new Promise<string>((resolve, reject) => {
          const request = session.request({ ':path': '/metrics' });
          let text = '';
          request.setEncoding('utf8');
          request.on('data', (chunk: string) => {
            text += chunk;
          });
          request.on('end', () => resolve(text));
          request.on('error', reject);
        });
      await waitFor(async () => {
        const text = await readMetrics();
        return metric(text, 'agentwire_streams_open', 'transport="sse",format="agentwire"') === 0 && metric(text, 'agentwire_producers_aborted_total', 'reason="disconnect"') === 1;
      }, 'the stream released and the run stopped after its grace');
    } finally {
      session.close();
    }
  });

  it('serves cleartext HTTP/2 (h2c) with prior knowledge', async () => {
    const session = connect(h2c.url);
    try {
      const result = await runOnSession(session, 5);
      expect(result.headers[':status']).toBe(200);
      expect(result.seqs).toEqual([1, 2, 3, 4, 5, 6, 7]);
    } finally {
      session.close();
    }
  });
});
