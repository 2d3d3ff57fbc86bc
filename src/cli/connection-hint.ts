/**
 * What to do about a failed connection, from the error codes in its cause chain: shared by `tail`
 * and `doctor`, whose users meet the same closed ports, self-signed certificates and gateways with
 * auth on.
 *
 * @module
 */
import { causeChain } from '../client/cause-text.js';

/** OpenSSL's and Node's codes for a certificate that is not trusted (self-signed, unknown issuer, wrong name, expired). */
const CERTIFICATE_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME_INVALID/;

/** Every string `code` along `error`'s cause chain (and an AggregateError's first error), outermost first. */
export function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (const link of causeChain(error, 6)) {
    if (typeof link !== 'object') break;
    const code = (link as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}

/** True when the connection failed on an untrusted certificate. */
export function isCertificateError(error: unknown): boolean {
  return errorCodes(error).some((code) => CERTIFICATE_CODE.test(code));
}

/** A one-line hint for a connection failure, or `undefined` when there is nothing specific to say. */
export function connectionHint(error: unknown): string | undefined {
  if (isCertificateError(error)) return 'the server certificate is not trusted: pass -k (--insecure) to accept a self-signed one';
  const codes = errorCodes(error);
  if (codes.includes('ECONNREFUSED')) return 'nothing is listening there: is the gateway running (agentwire serve), on that host and port?';
  if (codes.includes('ENOTFOUND') || codes.includes('EAI_AGAIN')) return 'the host name does not resolve: check the URL';
  if (codes.includes('EPROTO') || codes.includes('ERR_SSL_WRONG_VERSION_NUMBER')) return 'TLS failed: is the server speaking plain http? (try http://)';
  return undefined;
}

/**
 * What to do about a `401`: send a token (`--token` on both commands), or, when one was sent, send
 * the right part of it — `serve --auth-token alice:TOKEN` makes people paste the whole pair.
 */
export function credentialsHint(tokenSent: boolean): string {
  return tokenSent
    ? 'the token was not accepted: with serve --auth-token alice:TOKEN, pass only TOKEN (the part after the colon)'
    : 'the gateway needs a bearer token: pass --token <token> (with serve --auth-token alice:TOKEN, it is TOKEN)';
}
