import { describe, expect, it } from 'vitest';
import type { GatewayRequest } from '../http-types.js';
import { bodyTooLarge, readJsonBody } from './request-body.js';

/** A request with `body`, recording the limit of every read. */
function request(contentType: string | undefined, body: string) {
  const reads: number[] = [];
  const value: GatewayRequest = {
    method: 'POST',
    url: new URL('http://gateway.invalid/api/runs'),
    signal: new AbortController().signal,
    header: (name) => (name === 'content-type' ? contentType : undefined),
    readBody: async (limit) => {
      reads.push(limit);
      if (Buffer.byteLength(body) > limit) throw bodyTooLarge(limit);
      return body;
    },
  };
  return { value, reads };
}

describe('readJsonBody', () => {
  it('refuses a body that is not JSON with 415 before reading it', async () => {
    const form = request('application/x-www-form-urlencoded', 'x'.repeat(1024 * 1024));
    await expect(readJsonBody(form.value, 1024 * 1024)).rejects.toMatchObject({ code: 'AW_UNSUPPORTED_MEDIA_TYPE', status: 415 });
    expect(form.reads).toEqual([]);
    // An optional body is looked for with a limit of 0 bytes: one byte is enough to refuse it.
    const optional = request(undefined, '{"reason":"x"}');
    await expect(readJsonBody(optional.value, 1024 * 1024, true)).rejects.toMatchObject({ code: 'AW_UNSUPPORTED_MEDIA_TYPE' });
    expect(optional.reads).toEqual([0]);
  });

  it('accepts an absent optional body without a content type, and parses JSON types', async () => {
    expect(await readJsonBody(request(undefined, '').value, 100, true)).toBeUndefined();
    expect(await readJsonBody(request('application/json; charset=utf-8', '{"a":1}').value, 100)).toEqual({ a: 1 });
    expect(await readJsonBody(request('application/merge-patch+json', '[1]').value, 100)).toEqual([1]);
    await expect(readJsonBody(request('application/json', '').value, 100)).rejects.toMatchObject({ code: 'AW_BAD_REQUEST' });
    await expect(readJsonBody(request('application/json', '{').value, 100)).rejects.toMatchObject({ code: 'AW_BAD_REQUEST' });
    await expect(readJsonBody(request('application/json', '{"a":1}').value, 3)).rejects.toMatchObject({ code: 'AW_BODY_TOO_LARGE' });
  });
});
