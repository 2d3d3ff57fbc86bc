/**
 * Turning what an agent throws into the `{ message, code }` users see.
 *
 * @module
 */
import type { ErrorInfo } from '../protocol/events.js';
import { isAgentwireError } from '../protocol/errors.js';

/** The message shown for an unexpected error when errors are not exposed. */
export const MASKED_MESSAGE = 'The agent failed. The server log has the details.';

/**
 * The user-facing form of a thrown value. Agentwire errors and errors marked `expose: true`
 * (such as `AgentError`) keep their message and code; other errors are masked unless `expose`.
 */
export function toErrorInfo(error: unknown, expose: boolean): ErrorInfo {
  if (isAgentwireError(error)) return { message: error.message, code: error.code };
  if (typeof error === 'object' && error !== null) {
    const candidate = error as { message?: unknown; code?: unknown; expose?: unknown };
    const code = typeof candidate.code === 'string' && candidate.code !== '' ? candidate.code : 'AW_AGENT_ERROR';
    if (candidate.expose === true || expose) {
      return { message: typeof candidate.message === 'string' ? candidate.message : String(error), code };
    }
    return { message: MASKED_MESSAGE, code: 'AW_AGENT_ERROR' };
  }
  return { message: expose ? String(error) : MASKED_MESSAGE, code: 'AW_AGENT_ERROR' };
}
