/**
 * One observed streaming request, at the byte level: HTTP version, status, headers, time to first
 * byte, and every chunk with its arrival time.
 *
 * @module
 */
import { request as httpRequest } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** What a probe saw. */
export interface Probe {
  httpVersion: string;
  status: number;
  headers: Record<string, string>;
  /** ms from sending the request to the response headers. */
  headersMs: number;
  /** ms from sending the request to the first body byte (undefined: none). */
  firstByteMs: number | undefined;
  chunks: { at: number; bytes: Buffer }[];
  /** True when the server ended the body (false: we stopped watching). */
  ended: boolean;
  /** ms watched in total. */
  durationMs: number;
  /** Epoch ms when the request was sent (arrival times are relative to it). */
  startedAt: number;
}

/** What to request. */
export interface ProbeRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** Stop watching after this long, in ms. */
  durationMs: number;
  insecure: boolean;
}

/** Sends the request and records the response until it ends or `durationMs` passes. */
export function probe(options: ProbeRequest): Promise<Probe> {
  const started = performance.now();
  const startedAt = Date.now();
  const send = options.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      options.url,
      {
        method: options.method,
        headers: { ...options.headers, ...(options.body === undefined ? {} : { 'content-length': Buffer.byteLength(options.body) }) },
        agent: false,
        ...(options.insecure ? { rejectUnauthorized: false } : {}),
      },
      (response) => {
        const result: Probe = {
          httpVersion: response.httpVersion,
          status: response.statusCode ?? 0,
          headers: Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')])),
          headersMs: performance.now() - started,
          firstByteMs: undefined,
          chunks: [],
          ended: false,
          durationMs: 0,
          startedAt,
        };
        const finish = (ended: boolean) => {
          clearTimeout(timer);
          result.ended = ended;
          result.durationMs = performance.now() - started;
          response.destroy();
          resolve(result);
        };
        const timer = setTimeout(() => finish(false), options.durationMs);
        const encoding = (result.headers['content-encoding'] ?? '').toLowerCase();
        // A compressed stream is decompressed as it arrives, so events keep their arrival times.
        const body =
          encoding === 'gzip' ? response.pipe(createGunzip()) : encoding === 'deflate' ? response.pipe(createInflate()) : encoding === 'br' ? response.pipe(createBrotliDecompress()) : response;
        response.once('data', () => {
          result.firstByteMs ??= performance.now() - started;
        });
        body.on('data', (bytes: Buffer) => {
          const at = performance.now() - started;
          result.firstByteMs ??= at;
          result.chunks.push({ at, bytes });
        });
        body.on('end', () => finish(true));
        body.on('error', () => finish(false));
        response.on('error', () => finish(false));
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

/** Whether an https origin negotiates HTTP/2 by ALPN. */
export function offersHttp2(url: URL, insecure: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const session = http2Connect(url.origin, { ...(insecure ? { rejectUnauthorized: false } : {}), timeout: 5_000 } as never);
    const done = (value: boolean) => {
      session.destroy();
      resolve(value);
    };
    session.once('connect', () => done(session.alpnProtocol === 'h2'));
    session.once('error', () => done(false));
    session.setTimeout(5_000, () => done(false));
  });
}
