/**
 * `agentwire cert`: a self-signed certificate for localhost (development HTTP/2 over TLS), made
 * with the system's `openssl`.
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../usage-error.js';

/** Writes `localhost.pem` and `localhost-key.pem` (SAN: localhost, 127.0.0.1, ::1) into `directory`. */
export function createDevCertificate(directory: string, days = 30): { cert: string; key: string } {
  mkdirSync(directory, { recursive: true });
  const cert = join(directory, 'localhost.pem');
  const key = join(directory, 'localhost-key.pem');
  const result = spawnSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', String(days), '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    ],
    { encoding: 'utf8' },
  );
  if (result.error || result.status !== 0) {
    throw new UsageError(`could not run openssl to make a certificate (${result.error?.message ?? result.stderr.trim()}); install openssl or bring your own --tls-cert/--tls-key`);
  }
  return { cert, key };
}

/** Adds `cert` to the program. */
export function registerCertCommand(program: Command): void {
  program
    .command('cert')
    .description('Make a self-signed certificate for localhost, for HTTP/2 in development (needs openssl).')
    .option('-o, --out <dir>', 'directory to write localhost.pem and localhost-key.pem into', '.agentwire-cert')
    .action((flags: { out: string }) => {
      const { cert, key } = createDevCertificate(resolve(flags.out));
      console.log(`wrote ${cert} and ${key}`);
      console.log(`  agentwire serve --tls-cert ${cert} --tls-key ${key}`);
      console.log('  (browsers will warn: trust the certificate, or start Chromium with --ignore-certificate-errors for local tests)');
    });
}
