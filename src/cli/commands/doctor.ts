/**
 * `agentwire doctor <url>`: audit any SSE endpoint — agentwire's or anybody's — and print pass /
 * warn / fail lines with the evidence and the fix. Exit 0 when nothing fails, 1 otherwise.
 *
 * @module
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Command } from 'commander';
import { causeText } from '../../client/cause-text.js';
import { connectionHint } from '../connection-hint.js';
import { checkBuffering, checkCors, checkFraming, checkHeaders, checkHeartbeats, checkIds, checkIsEventStream, checkResume, checkTiming } from '../doctor/checks.js';
import { type Probe, type ProbeRequest, offersHttp2, probe } from '../doctor/probe.js';
import { type Finding, formatReport } from '../doctor/report.js';
import { analyzeStream } from '../doctor/stream-analysis.js';
import { positiveMilliseconds } from '../milliseconds.js';
import { TOKEN_HELP, resolveToken } from '../token.js';
import { UsageError } from '../usage-error.js';

interface DoctorFlags {
  method?: string;
  data?: string;
  header: string[];
  origin?: string;
  duration: number;
  idleLimit: number;
  json: boolean;
  insecure: boolean;
  token?: string;
}

/** Adds `doctor` to the program. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor <url>')
    .description('Audit an SSE endpoint (agentwire\'s or any): headers, HTTP version, buffering, heartbeats, resume, CORS, framing.')
    .option('-X, --method <method>', 'HTTP method (default GET, or POST with --data)')
    .option('-d, --data <body>', 'request body (sent as JSON)')
    .option('-H, --header <name:value>', 'extra request header (repeatable)', (value: string, previous: string[]) => [...previous, value], [])
    .option('--origin <origin>', 'check CORS for this page origin (preflight and actual)')
    .option('--duration <ms>', 'how long to watch the stream', positiveMilliseconds('duration'), 10_000)
    .option('--idle-limit <ms>', 'longest silence a proxy tolerates (fail beyond it)', positiveMilliseconds('idle-limit'), 60_000)
    .option('-k, --insecure', 'accept a self-signed certificate', false)
    .option('-t, --token <token>', TOKEN_HELP)
    .option('--json', 'print the findings as JSON', false)
    .action(async (url: string, flags: DoctorFlags) => {
      const findings = await doctor(url, flags);
      const failed = findings.some((finding) => finding.status === 'fail');
      process.stdout.write(flags.json ? `${JSON.stringify({ url, ok: !failed, findings }, null, 2)}\n` : `${formatReport(url, findings, process.stdout.isTTY === true)}\n`);
      await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
      process.exit(failed ? 1 : 0);
    });
}

/** Runs every check against `raw` and returns the findings. */
export async function doctor(raw: string, flags: DoctorFlags): Promise<Finding[]> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`not a URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`doctor needs an http(s) URL, got ${url.protocol}`);
  let body = flags.data;
  let method = (flags.method ?? (body === undefined ? 'GET' : 'POST')).toUpperCase();
  if ((url.pathname === '/' || url.pathname === '') && body === undefined && flags.method === undefined) {
    // A bare agentwire gateway URL: audit a demo run started and streamed in one request.
    url = new URL('/api/runs', url);
    method = 'POST';
    body = JSON.stringify({ input: 'What is the capital of France?' });
  }
  const headers: Record<string, string> = { accept: 'text/event-stream', 'accept-encoding': 'gzip, deflate, br' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = resolveToken(flags.token);
  if (token) headers.authorization = `Bearer ${token}`;
  for (const entry of flags.header) {
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header must be "name: value", got ${JSON.stringify(entry)}`);
    headers[entry.slice(0, colon).trim().toLowerCase()] = entry.slice(colon + 1).trim();
  }
  if (flags.origin) headers.origin = flags.origin;
  const request: ProbeRequest = { url, method, headers, body, durationMs: flags.duration, insecure: flags.insecure };
  let first: Probe;
  try {
    first = await probe(request);
  } catch (error) {
    return [{ status: 'fail', check: 'connect', evidence: causeText(error), fix: connectionHint(error) ?? 'check the URL and that the server is listening' }];
  }
  const analysis = analyzeStream(first);
  const notAStream = checkIsEventStream(first, analysis, headers.authorization !== undefined);
  if (notAStream) return [notAStream];
  const h2 = url.protocol === 'https:' ? await offersHttp2(url, flags.insecure) : undefined;
  const findings: Finding[] = [
    ...checkHeaders(first, h2),
    ...checkTiming(first, analysis),
    checkBuffering(first, analysis),
    checkHeartbeats(first, analysis, flags.idleLimit),
    ...checkIds(analysis),
  ];
  findings.push(await resumeFinding(request, first, analysis));
  findings.push(checkFraming(analysis));
  if (flags.origin) findings.push(...checkCors(flags.origin, await preflight(url, method, flags.origin, flags.insecure), first.headers));
  return findings;
}

/** Reconnects with Last-Event-ID set to the middle event's id and checks what comes back. */
async function resumeFinding(request: ProbeRequest, first: Probe, analysis: ReturnType<typeof analyzeStream>) {
  const ids = analysis.events.map((event) => event.id).filter((id): id is string => id !== undefined && id !== '');
  if (ids.length < 2) return checkResume('', undefined, undefined, 'no ids to resume from');
  const middle = Math.floor(ids.length / 2) - 1;
  const middleId = ids[middle] as string;
  // A stream started by POST resumes on its stream URL (agentwire names it in Content-Location).
  const location = first.headers['content-location'];
  const target = location ? new URL(location, request.url) : request.method === 'GET' ? request.url : undefined;
  if (!target) return checkResume(middleId, undefined, undefined, `a ${request.method} stream without Content-Location: resume not tested`);
  const resumed = await probe({ ...request, url: target, method: 'GET', body: undefined, headers: { ...request.headers, 'content-type': '', 'last-event-id': middleId } }).catch(() => undefined);
  if (!resumed || resumed.status !== 200) {
    return { status: 'fail' as const, check: 'resume', evidence: `reconnect with Last-Event-ID: ${middleId} answered ${resumed?.status ?? 'nothing'}`, fix: 'accept Last-Event-ID on the stream URL and send the events after it' };
  }
  return checkResume(middleId, analyzeStream(resumed), ids[middle + 1]);
}

/** The CORS preflight a browser would send before the request. */
function preflight(url: URL, method: string, origin: string, insecure: boolean): Promise<{ status: number; headers: Record<string, string> } | undefined> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const request = send(
      url,
      {
        method: 'OPTIONS',
        agent: false,
        headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': method === 'POST' ? 'content-type, last-event-id' : 'last-event-id' },
        ...(insecure ? { rejectUnauthorized: false } : {}),
      },
      (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, headers: Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name, String(value)])) });
      },
    );
    request.on('error', () => resolve(undefined));
    request.end();
  });
}
