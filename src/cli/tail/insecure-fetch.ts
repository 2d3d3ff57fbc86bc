/**
 * A `fetch` for `tail -k`: https requests that accept any certificate (a self-signed development
 * one). Node's own fetch has no per-call switch for that, so these go through `node:https`.
 *
 * @module
 */
import { Agent, request } from 'node:https';
import { Readable } from 'node:stream';

/** Statuses whose response has no body (`Response` refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

/** Creates the fetch; plain http URLs go to the global fetch (there is no certificate to accept). */
export function createInsecureFetch(): typeof fetch {
  const agent = new Agent({ rejectUnauthorized: false, keepAlive: true });
  return (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'https:') return fetch(input, init);
    return new Promise<Response>((resolve, reject) => {
      const outgoing = request(
        url,
        { method: init.method ?? 'GET', headers: Object.fromEntries(new Headers(init.headers)), agent, ...(init.signal ? { signal: init.signal } : {}) },
        (incoming) => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(incoming.headers)) for (const item of [value ?? []].flat()) headers.append(name, item);
          const status = incoming.statusCode ?? 502;
          const body = NULL_BODY.has(status) || init.method === 'HEAD' ? null : (Readable.toWeb(incoming) as ReadableStream<Uint8Array>);
          if (body === null) incoming.resume();
          resolve(new Response(body, { status, statusText: incoming.statusMessage ?? '', headers }));
        },
      );
      // Shaped like Node's fetch failure, so the client and the hints read it the same way.
      outgoing.once('error', (error) => reject(init.signal?.aborted ? error : new TypeError('fetch failed', { cause: error })));
      outgoing.end(typeof init.body === 'string' ? init.body : undefined);
    });
  };
}
