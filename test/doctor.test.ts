/**
 * `agentwire doctor` passes agentwire (directly and through nginx) and reports the right failures
 * against deliberately broken servers: missing headers, no ids, wildcard CORS with credentials, no
 * heartbeats, an unterminated last event, a batching, compressing proxy; it stops at a URL that is
 * no event stream (saying to pass --token on a 401), does not judge heartbeats without an idle
 * period, and suggests -k for a self-signed certificate; it sends AGENTWIRE_TOKEN like tail.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevCertificate } from '../src/cli/commands/cert.js';
import { type Finding, formatReport } from '../src/cli/doctor/report.js';
import { type NginxProcess, findNginx, startNginx } from './helpers/nginx.js';
import { CLI, type ServeProcess, run, startServe } from './helpers/process.js';

/** The environment doctor runs in: no AGENTWIRE_TOKEN from the shell unless a test sets one. */
const NO_TOKEN_ENV = { ...process.env, AGENTWIRE_TOKEN: '' };

async function doctor(url: string, ...args: string[]): Promise<{ code: number | null; findings: Record<string, Finding> }> {
  return doctorIn(NO_TOKEN_ENV, url, ...args);
}

async function doctorIn(env: NodeJS.ProcessEnv, url: string, ...args: string[]): Promise<{ code: number | null; findings: Record<string, Finding> }> {
  const result = await run(process.execPath, [CLI, 'doctor', url, '--json', ...args], { timeoutMs: 60_000, env });
  const report = JSON.parse(result.stdout) as { findings: Finding[] };
  return { code: result.code, findings: Object.fromEntries(report.findings.map((finding) => [finding.check, finding])) };
}

const failures = (findings: Record<string, Finding>) => Object.values(findings).filter((finding) => finding.status === 'fail').map((finding) => finding.check);

describe('agentwire doctor', () => {
  let gateway: ServeProcess;
  let broken: ReturnType<typeof createServer>;
  let brokenUrl: string;
  let proxy: NginxProcess | undefined;
  const nginx = findNginx();
  beforeAll(async () => {
    gateway = await startServe(['--demo-speed', '4', '--heartbeat', '300', '--cors-origin', 'http://app.example']);
    broken = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      const events = (withIds: boolean) => {
        for (let index = 1; index <= 6; index++) response.write(`${withIds ? `id: ${index}\n` : ''}data: ${index}\n\n`);
      };
      if (path === '/missing-headers') {
        response.writeHead(200, { 'content-type': 'text/plain' });
        events(true);
        return response.end();
      }
      if (path === '/no-ids') {
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
        events(false);
        return response.end();
      }
      if (path === '/wildcard-cors') {
        response.writeHead(request.method === 'OPTIONS' ? 204 : 200, {
          'content-type': 'text/event-stream',
          'access-control-allow-origin': '*',
          'access-control-allow-credentials': 'true',
        });
        if (request.method !== 'OPTIONS') events(true);
        return response.end();
      }
      if (path === '/no-heartbeat') {
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        response.write('id: 1\ndata: hello\n\n');
        const timer = setTimeout(() => response.end(), 10_000);
        response.on('close', () => clearTimeout(timer));
        return;
      }
      if (path === '/paced-naive') {
        // A naive upstream: paced JSON events with their send time, no X-Accel-Buffering.
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        let index = 0;
        const timer = setInterval(() => {
          index++;
          response.write(`id: ${index}\ndata: ${JSON.stringify({ at: Date.now(), index })}\n\n`);
          if (index === 12) {
            clearInterval(timer);
            response.end();
          }
        }, 100);
        response.on('close', () => clearInterval(timer));
        return;
      }
      if (path === '/unterminated') {
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        events(true);
        return response.end('id: 7\ndata: cut off');
      }
      if (path === '/auth' && request.headers.authorization === 'Bearer s3cret') {
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
        events(true);
        return response.end();
      }
      if (path === '/auth') {
        response.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
        return response.end('{"error":{"code":"AW_UNAUTHORIZED","message":"authentication required"}}');
      }
      if (path === '/json') {
        response.writeHead(200, { 'content-type': 'application/json' });
        return response.end('{"ok":true}');
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    brokenUrl = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
    if (nginx) {
      const port = Number(new URL(gateway.url).port);
      proxy = await startNginx(nginx, () => `
        location /gzip/ { proxy_pass http://127.0.0.1:${port}/; proxy_http_version 1.1; gzip on; gzip_types text/event-stream; gzip_min_length 0; }
        location /naive/ { proxy_pass ${brokenUrl}/; proxy_http_version 1.1; gzip on; gzip_types text/event-stream; gzip_min_length 0; }
        location / { proxy_pass http://127.0.0.1:${port}; proxy_http_version 1.1; }`);
    }
  }, 60_000);
  afterAll(async () => {
    await proxy?.stop();
    await gateway?.stop();
    broken?.close();
  });

  it('passes an agentwire gateway, with CORS for an allowed origin', async () => {
    const { code, findings } = await doctor(gateway.url, '--duration', '8000', '--origin', 'http://app.example');
    expect(failures(findings)).toEqual([]);
    expect(code).toBe(0);
    for (const check of ['content-type', 'cache-control', 'x-accel-buffering', 'buffering', 'event ids', 'retry', 'resume', 'framing', 'cors', 'cors preflight']) {
      expect(findings[check]?.status, check).toBe('pass');
    }
  });

  it.runIf(nginx)('passes agentwire through nginx; through gzip flags the compression, and catches a naive upstream being batched', async () => {
    const through = await doctor(`${proxy?.url}/`, '--duration', '8000');
    expect(failures(through.findings)).toEqual([]);
    expect(through.code).toBe(0);
    // X-Accel-Buffering: no makes nginx flush each event, even through gzip: compression is
    // flagged, but nothing is held back.
    const gzipped = await doctor(`${proxy?.url}/gzip/api/runs`, '--data', '{"input":"What is the capital of France?"}', '--duration', '8000');
    expect(gzipped.code).toBe(1);
    expect(gzipped.findings.compression?.status).toBe('fail');
    expect(gzipped.findings.buffering?.status, gzipped.findings.buffering?.evidence).toBe('pass');
    // A naive upstream without that header is batched by the same location.
    const naive = await doctor(`${proxy?.url}/naive/paced-naive`, '--duration', '5000');
    expect(naive.findings.buffering?.status, naive.findings.buffering?.evidence).toBe('fail');
  });


  it.each([
    ['/missing-headers', ['content-type', 'cache-control']],
    ['/no-ids', ['event ids']],
    ['/unterminated', ['framing']],
  ])('reports %s', async (path, expected) => {
    const { code, findings } = await doctor(`${brokenUrl}${path}`, '--duration', '3000');
    expect(code).toBe(1);
    for (const check of expected) expect(findings[check]?.status, check).toBe('fail');
  });

  it('reports wildcard CORS with credentials', async () => {
    const { code, findings } = await doctor(`${brokenUrl}/wildcard-cors`, '--duration', '3000', '--origin', 'http://app.example');
    expect(code).toBe(1);
    expect(findings.cors?.evidence).toMatch(/\* with Allow-Credentials/);
    expect(findings['cors preflight']?.status).toBe('fail');
  });

  it('reports a stream silent for longer than the idle limit', async () => {
    const { code, findings } = await doctor(`${brokenUrl}/no-heartbeat`, '--duration', '2500', '--idle-limit', '1500');
    expect(code).toBe(1);
    expect(findings.heartbeats?.status).toBe('fail');
    expect(findings.buffering?.evidence).toBe('only 1 event seen: not enough to judge');
  });

  it.each([
    ['a 404', () => `${brokenUrl}/missing`, /^not an event stream: HTTP 404, content-type \(none\) \(the other checks were not run\)$/],
    ['a JSON endpoint', () => `${brokenUrl}/json`, /^not an event stream: HTTP 200, content-type "application\/json", body \{"ok":true\} \(/],
    ["agentwire's JSON API", () => `${gateway.url}/api/agents`, /^not an event stream: HTTP 200, content-type "application\/json; charset=utf-8", body \{"agents":/],
  ])('stops at %s with "not an event stream"', async (_name, url, evidence) => {
    const { code, findings } = await doctor(url());
    expect(code).toBe(1);
    expect(Object.keys(findings)).toEqual(['event stream']);
    expect(findings['event stream']).toMatchObject({ status: 'fail', evidence: expect.stringMatching(evidence) });
    const text = await run(process.execPath, [CLI, 'doctor', url()]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^FAIL {2}event stream {2}not an event stream: /m);
  });

  it('on a 401 says to pass --token, or that the token passed was refused', async () => {
    const without = await doctor(`${brokenUrl}/auth`);
    expect(without.code).toBe(1);
    expect(without.findings['event stream']).toMatchObject({ status: 'fail', fix: expect.stringMatching(/^the gateway needs a bearer token: pass --token <token>/) });
    const refused = await doctor(`${brokenUrl}/auth`, '--token', 'alice:wrong-token');
    expect(refused.findings['event stream']?.fix).toMatch(/^the token was not accepted: with serve --auth-token alice:TOKEN, pass only TOKEN/);
  });

  it('sends AGENTWIRE_TOKEN when --token is not given, like tail; --token wins over it', async () => {
    const withEnv = await doctorIn({ ...process.env, AGENTWIRE_TOKEN: 's3cret' }, `${brokenUrl}/auth`, '--duration', '2000');
    expect(withEnv.findings['event stream']).toBeUndefined();
    expect(withEnv.findings.framing?.status).toBe('pass');
    const flagWins = await doctorIn({ ...process.env, AGENTWIRE_TOKEN: 's3cret' }, `${brokenUrl}/auth`, '--token', 'alice:wrong-token');
    expect(flagWins.findings['event stream']?.fix).toMatch(/^the token was not accepted/);
    for (const command of ['doctor', 'tail']) {
      const help = await run(process.execPath, [CLI, command, '--help']);
      expect(help.stdout, command).toMatch(/-t, --token <token> +bearer token\s+\(or\s+env\s+AGENTWIRE_TOKEN\)/);
    }
  });

  it('does not judge heartbeats on a short stream with no idle period', async () => {
    const { findings } = await doctor(`${brokenUrl}/no-ids`, '--duration', '3000');
    expect(findings.heartbeats).toMatchObject({ status: 'skip', evidence: expect.stringMatching(/^not judged: the stream ended after \d+ ms without an idle period/) });
    const text = await run(process.execPath, [CLI, 'doctor', `${brokenUrl}/no-ids`, '--duration', '3000']);
    expect(text.stdout).toMatch(/^SKIP {2}heartbeats +not judged: /m);
    expect(text.stdout).toMatch(/, 1 not judged\n$/);
  });

  it('suggests -k for a self-signed certificate, and audits the stream with it', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'agentwire-doctor-cert-'));
    const files = createDevCertificate(directory, 1);
    const tls = createHttpsServer({ cert: readFileSync(files.cert), key: readFileSync(files.key) }, (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
      response.end('retry: 1000\nid: 1\ndata: one\n\nid: 2\ndata: two\n\n');
    });
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/stream`;
    try {
      const refused = await doctor(url);
      expect(refused.code).toBe(1);
      expect(refused.findings.connect).toMatchObject({ status: 'fail', evidence: expect.stringMatching(/self-signed certificate.*DEPTH_ZERO_SELF_SIGNED_CERT/) });
      expect(refused.findings.connect?.fix).toMatch(/pass -k \(--insecure\)/);
      const accepted = await doctor(url, '-k', '--duration', '2000');
      expect(accepted.findings.status?.status).toBe('pass');
      expect(accepted.findings['content-type']?.status).toBe('pass');
    } finally {
      tls.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('counts the summary in words that agree with the number', () => {
    const finding = (status: Finding['status']): Finding => ({ status, check: status, evidence: '' });
    expect(formatReport('u', [finding('pass'), finding('warn')], false).split('\n').at(-1)).toBe('1 passed, 1 warning, 0 failed');
    expect(formatReport('u', [finding('warn'), finding('warn'), finding('fail')], false).split('\n').at(-1)).toBe('0 passed, 2 warnings, 1 failed');
    expect(formatReport('u', [finding('pass'), finding('skip')], false).split('\n').at(-1)).toBe('1 passed, 0 warnings, 0 failed, 1 not judged');
  });

  it('rejects a bad URL with exit code 2', async () => {
    const result = await run(process.execPath, [CLI, 'doctor', 'nope']);
    expect(result.code).toBe(2);
  });
});
