import { describe, expect, it } from 'vitest';
import { isAgentwireError } from '../protocol/errors.js';
import { type Handler, Router } from './router.js';

const handler: Handler = () => ({ kind: 'empty', status: 204 });

function router(): Router {
  return new Router()
    .on('GET', '/api/runs', handler)
    .on('POST', '/api/runs', handler)
    .on('GET', '/api/runs/:id', handler, { streamToken: true })
    .on('GET', '/api/runs/:id/events', handler)
    .on('GET', '/assets/*', handler, { public: true });
}

/** The error code `run` throws. */
function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (isAgentwireError(error)) return error.code;
    throw error;
  }
  return undefined;
}

describe('Router', () => {
  it('captures named segments, decoding escapes only where the path has them', () => {
    expect(router().match('GET', '/api/runs/run_1/events').params).toEqual({ id: 'run_1' });
    expect(router().match('GET', '/api/runs/a%20b%2Fc').params).toEqual({ id: 'a b/c' });
    expect(router().match('GET', '/api/runs/run_1').options).toEqual({ streamToken: true });
  });

  it('answers a malformed escape with 404, not a crash', () => {
    expect(codeOf(() => router().match('GET', '/api/runs/%E0%A4%A'))).toBe('AW_NOT_FOUND');
  });

  it('matches whole paths only: a longer or shorter path is not found', () => {
    expect(codeOf(() => router().match('GET', '/api/runs/run_1/events/more'))).toBe('AW_NOT_FOUND');
    expect(codeOf(() => router().match('GET', '/api'))).toBe('AW_NOT_FOUND');
    expect(router().match('GET', '//api//runs/').params).toEqual({});
  });

  it('captures the rest of the path after a final *, empty included', () => {
    expect(router().match('GET', '/assets/js/app.js').params).toEqual({ rest: 'js/app.js' });
    expect(router().match('GET', '/assets/').params).toEqual({ rest: '' });
  });

  it('answers a known path and another method with 405 and Allow, and OPTIONS with 204', () => {
    let allow: unknown;
    try {
      router().match('DELETE', '/api/runs');
    } catch (error) {
      expect(isAgentwireError(error) && error.code).toBe('AW_METHOD_NOT_ALLOWED');
      allow = isAgentwireError(error) ? error.details?.allow : undefined;
    }
    expect(allow).toBe('GET, POST, OPTIONS');
    const options = router().match('OPTIONS', '/api/runs');
    expect(options.options).toEqual({ public: true });
    expect(options.handler({} as never, {})).toEqual({ kind: 'empty', status: 204, headers: { allow: 'GET, POST, OPTIONS' } });
  });

  it('serves HEAD with the GET route', () => {
    expect(router().match('HEAD', '/api/runs/run_1').params).toEqual({ id: 'run_1' });
  });
});
