/**
 * Reading JSON request bodies: content type, size limit, parse, and a clear 400 when it fails.
 *
 * @module
 */
import { AgentwireError, isAgentwireError } from '../../protocol/errors.js';
import type { GatewayRequest } from '../http-types.js';

/**
 * Reads and parses a JSON body. An empty body gives `undefined` when `optional`; a content type
 * other than JSON is refused with 415 (which also keeps cross-site form posts out) before the body
 * is read, so a wrong type never costs the gateway a body's worth of buffering.
 */
export async function readJsonBody(request: GatewayRequest, limit: number, optional = false): Promise<unknown> {
  const type = request.header('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json' && !type?.endsWith('+json')) {
    // An optional body may still be absent (a bare `POST …/cancel`): look for one byte, no more.
    if (optional && (await isEmpty(request))) return undefined;
    throw new AgentwireError(
      'AW_UNSUPPORTED_MEDIA_TYPE',
      `the request body must be JSON: send the header "content-type: application/json" (got ${type ? `"${type}"` : 'none'})`,
    );
  }
  const text = await request.readBody(limit);
  if (text.trim() === '') {
    if (optional) return undefined;
    throw new AgentwireError('AW_BAD_REQUEST', 'the request body is empty; send a JSON object such as {"input":"…"}');
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new AgentwireError('AW_BAD_REQUEST', `the request body is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/** Whether the body is empty, reading none of it: any byte goes over a limit of 0 (and is discarded). */
async function isEmpty(request: GatewayRequest): Promise<boolean> {
  try {
    return (await request.readBody(0)) === '';
  } catch (error) {
    if (isAgentwireError(error) && error.code === 'AW_BODY_TOO_LARGE') return false;
    throw error;
  }
}

/** The 413 error for a body over `limit` bytes. */
export function bodyTooLarge(limit: number): AgentwireError {
  return new AgentwireError('AW_BODY_TOO_LARGE', `the request body exceeds the limit of ${limit} bytes`);
}
