/**
 * A failure's cause chain as one short text, for messages that would otherwise hide it in
 * `.cause` (Node's fetch throws "fetch failed" and puts "connect ECONNREFUSED …" below it).
 *
 * @module
 */

/** At most this many links of a cause chain are shown. */
const MAX_DEPTH = 4;

/**
 * "fetch failed: connect ECONNREFUSED 127.0.0.1:8787", or `self-signed certificate
 * (DEPTH_ZERO_SELF_SIGNED_CERT)`: each link's message (and its `code` when the message does not
 * name it), outermost first; an `AggregateError` (every address refused) shows its first error.
 */
export function causeText(error: unknown): string {
  const parts: string[] = [];
  for (const current of causeChain(error, MAX_DEPTH)) {
    const link = current as { message?: unknown; code?: unknown };
    const message = typeof link.message === 'string' ? link.message : typeof current === 'string' ? current : '';
    const code = typeof link.code === 'string' && !message.includes(link.code) ? link.code : '';
    const text = message && code ? `${message} (${code})` : message || code;
    // A message that already quotes its cause (the client's own errors do) is not repeated.
    if (text !== '' && !parts.some((part) => part.includes(text))) parts.push(text);
  }
  return parts.join(': ') || String(error);
}

/**
 * `error`, then its `cause`, then that one's, … (at most `maxDepth` links, stopping at `undefined`
 * or `null`); where a link has no cause, an `AggregateError`'s first error stands in for it.
 */
export function* causeChain(error: unknown, maxDepth: number): Generator<unknown> {
  let current: unknown = error;
  for (let depth = 0; depth < maxDepth && current !== undefined && current !== null; depth++) {
    yield current;
    const link = current as { cause?: unknown; errors?: unknown };
    current = link.cause ?? (Array.isArray(link.errors) ? link.errors[0] : undefined);
  }
}
