/**
 * Talking to upstream HTTP services (model servers, existing SSE agents): the request, HTTP
 * errors and connection failures as agentwire errors, and the SSE body as parsed messages.
 *
 * @module
 */
import type { EventSourceMessage } from 'eventsource-parser';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { AgentwireError } from '../protocol/errors.js';

/** A `fetch`-compatible function. */
export type FetchFunction = (input: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * Sends a request upstream. Rejects with `AW_UPSTREAM_CONNECTION` when it cannot be reached and
 * `AW_UPSTREAM_HTTP` for a non-2xx answer (with the upstream's own error message when it sent one);
 * an abort through `init.signal` rejects with the signal's reason, untouched.
 */
export async function requestUpstream(fetchFunction: FetchFunction, url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetchFunction(url, init);
  } catch (error) {
    if (init.signal?.aborted) throw init.signal.reason;
    throw new AgentwireError('AW_UPSTREAM_CONNECTION', `could not reach ${url}: ${describe(error)}`, { cause: error });
  }
  if (!response.ok) {
    const body = await response.text().catch(() => '');
    throw new AgentwireError('AW_UPSTREAM_HTTP', `${url} answered HTTP ${response.status}${upstreamMessage(body)}`, {
      details: { status: response.status },
    });
  }
  return response;
}

/** The messages of an SSE response body, parsed by eventsource-parser. */
export async function* readUpstreamSse(response: Response, url: string, signal: AbortSignal): AsyncGenerator<EventSourceMessage> {
  if (!response.body) throw new AgentwireError('AW_UPSTREAM_MALFORMED', `${url} answered without a body`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  try {
    for (;;) {
      let next: ReadableStreamReadResult<EventSourceMessage>;
      try {
        next = await reader.read();
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw new AgentwireError('AW_UPSTREAM_CONNECTION', `the stream from ${url} broke: ${describe(error)}`, { cause: error });
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Leaving early (cancel, an error, the end marker) closes the upstream connection.
    reader.cancel().catch(() => {});
  }
}

/** `: <message>` from an upstream error body (`{ error: { message } }`, `{ message }`, or short text). */
function upstreamMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    const message =
      typeof parsed.error === 'object' ? parsed.error?.message : parsed.error ?? parsed.message ?? parsed.detail;
    if (typeof message === 'string' && message !== '') return `: ${message}`;
  } catch {
    // not JSON
  }
  const text = body.trim().slice(0, 200);
  return text === '' ? '' : `: ${text}`;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
