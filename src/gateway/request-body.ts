/**
 * Reading JSON request bodies: content type, size limit, parse, and a clear 400 when it fails.
 *
 * @module
 */
import { AgentwireError } from '../protocol/errors.js';
import type { GatewayRequest } from './http-types.js';

/**
 * Reads and parses a JSON body. An empty body gives `undefined` when `optional`; a content type
 * other than JSON is refused with 415 (which also keeps cross-site form posts out).
 */
export async function readJsonBody(request: GatewayRequest, limit: number, optional = false): Promise<unknown> {
  const text = await request.readBody(limit);
  if (text.trim() === '') {
    if (optional) return undefined;
    throw new AgentwireError('AW_BAD_REQUEST', 'the request body is empty; send a JSON object such as {"input":"…"}');
  }
  const type = request.header('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json' && !type?.endsWith('+json')) {
    throw new AgentwireError(
      'AW_UNSUPPORTED_MEDIA_TYPE',
      `the request body must be JSON: send the header "content-type: application/json" (got ${type ? `"${type}"` : 'none'})`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new AgentwireError('AW_BAD_REQUEST', `the request body is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/** The 413 error for a body over `limit` bytes. */
export function bodyTooLarge(limit: number): AgentwireError {
  return new AgentwireError('AW_BODY_TOO_LARGE', `the request body exceeds the limit of ${limit} bytes`);
}
