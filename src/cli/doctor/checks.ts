/**
 * The doctor's checks: each turns measurements into a pass, warn or fail with the evidence and
 * the fix.
 *
 * @module
 */
import { credentialsHint } from '../connection-hint.js';
import type { Probe } from './probe.js';
import { type Finding, plural } from './report.js';
import type { ArrivedEvent, StreamAnalysis } from './stream-analysis.js';

const ms = (value: number) => `${Math.round(value)} ms`;

/**
 * The finding that ends the audit early when the response is no event stream at all (an error
 * status, a JSON or HTML page): the other checks would only report noise. `undefined` for a stream.
 */
export function checkIsEventStream(probe: Probe, analysis: StreamAnalysis, tokenSent: boolean): Finding | undefined {
  const type = probe.headers['content-type'] ?? '';
  const streamType = type.toLowerCase().startsWith('text/event-stream');
  const ok = probe.status >= 200 && probe.status < 300 && probe.status !== 204;
  if (ok && (streamType || analysis.events.length > 0)) return undefined;
  const body = Buffer.concat(probe.chunks.map((chunk) => chunk.bytes)).toString('utf8').replace(/\s+/g, ' ').trim();
  const location = probe.headers.location;
  const evidence = [
    `not an event stream: HTTP ${probe.status}`,
    `content-type ${type ? `"${type}"` : '(none)'}`,
    location ? `location ${location}` : undefined,
    body ? `body ${body.length > 120 ? `${body.slice(0, 120)}…` : body}` : undefined,
  ].filter(Boolean);
  return {
    status: 'fail',
    check: 'event stream',
    evidence: `${evidence.join(', ')} (the other checks were not run)`,
    fix:
      probe.status === 401
        ? credentialsHint(tokenSent)
        : "point doctor at the stream: a gateway's URL, …/api/runs/<id>/events, or the endpoint with its method and body (-X POST -d '{…}')",
  };
}

/** Status, content type, cache-control, x-accel-buffering, compression, Connection on HTTP/2, version. */
export function checkHeaders(probe: Probe, h2Offered: boolean | undefined): Finding[] {
  const header = (name: string) => probe.headers[name];
  const findings: Finding[] = [];
  findings.push(
    probe.status === 200
      ? { status: 'pass', check: 'status', evidence: '200' }
      : { status: 'fail', check: 'status', evidence: String(probe.status), fix: 'an event stream must answer 200' },
  );
  const type = header('content-type') ?? '';
  findings.push(
    type.toLowerCase().startsWith('text/event-stream')
      ? { status: 'pass', check: 'content-type', evidence: type }
      : { status: 'fail', check: 'content-type', evidence: type || '(none)', fix: 'send "Content-Type: text/event-stream; charset=utf-8"' },
  );
  const cache = (header('cache-control') ?? '').toLowerCase();
  if (!cache.includes('no-cache') && !cache.includes('no-store')) {
    findings.push({ status: 'fail', check: 'cache-control', evidence: cache || '(none)', fix: 'send "Cache-Control: no-cache, no-transform" so no cache holds the stream' });
  } else if (!cache.includes('no-transform')) {
    findings.push({ status: 'warn', check: 'cache-control', evidence: cache, fix: 'add no-transform ("Cache-Control: no-cache, no-transform") so proxies do not compress or rewrite it' });
  } else findings.push({ status: 'pass', check: 'cache-control', evidence: cache });
  const accel = (header('x-accel-buffering') ?? '').toLowerCase();
  findings.push(
    accel === 'no'
      ? { status: 'pass', check: 'x-accel-buffering', evidence: 'no' }
      : { status: 'warn', check: 'x-accel-buffering', evidence: accel || '(none)', fix: 'send "X-Accel-Buffering: no" (or set "proxy_buffering off;" in nginx) so a proxy never holds events' },
  );
  const encoding = header('content-encoding');
  findings.push(
    encoding === undefined || encoding === 'identity'
      ? { status: 'pass', check: 'compression', evidence: 'none' }
      : { status: 'fail', check: 'compression', evidence: encoding, fix: 'do not compress text/event-stream (nginx: remove it from gzip_types) — compressors batch events' },
  );
  if (probe.httpVersion.startsWith('2')) {
    findings.push(
      header('connection') === undefined
        ? { status: 'pass', check: 'connection (HTTP/2)', evidence: 'absent' }
        : { status: 'fail', check: 'connection (HTTP/2)', evidence: header('connection') as string, fix: 'never send a Connection header over HTTP/2 (it is forbidden; clients reset the stream)' },
    );
  }
  const version = `HTTP/${probe.httpVersion}`;
  if (h2Offered === undefined) {
    findings.push({ status: 'warn', check: 'http version', evidence: `${version}, cleartext`, fix: 'serve browsers over TLS with HTTP/2, or they open at most 6 streams per origin' });
  } else {
    findings.push(
      h2Offered
        ? { status: 'pass', check: 'http version', evidence: `${version}; HTTP/2 offered by ALPN` }
        : { status: 'warn', check: 'http version', evidence: `${version}; HTTP/2 not offered`, fix: 'enable HTTP/2 (nginx: "http2 on;") so browsers are not limited to 6 streams per origin' },
    );
  }
  return findings;
}

/** Time to first byte and to first event. */
export function checkTiming(probe: Probe, analysis: StreamAnalysis): Finding[] {
  const grade = (value: number | undefined, check: string, fix: string): Finding =>
    value === undefined
      ? { status: 'fail', check, evidence: `nothing within ${ms(probe.durationMs)}`, fix }
      : { status: value < 1_000 ? 'pass' : value < 5_000 ? 'warn' : 'fail', check, evidence: ms(value), fix };
  return [
    grade(probe.firstByteMs, 'time to first byte', 'flush the headers (and a retry: line) at once instead of waiting for the first event'),
    grade(analysis.events[0]?.at, 'time to first event', 'send an event as soon as the work starts (e.g. a started or status event)'),
  ];
}

/**
 * Buffering: with the server's send times (agentwire events carry `at`), how long events were held
 * between sending and arriving beyond the fastest one (clock offsets cancel out); otherwise the
 * burstiness of arrivals alone.
 */
export function checkBuffering(probe: Probe, analysis: StreamAnalysis): Finding {
  const events = analysis.events;
  const fix = 'a proxy or the server batches events: send "X-Accel-Buffering: no", disable proxy buffering and compression for text/event-stream, and flush each event';
  if (events.length < 5) return { status: 'warn', check: 'buffering', evidence: `only ${plural(events.length, 'event')} seen: not enough to judge`, fix: 'watch longer (--duration) or use a run that emits more events' };
  const stamped = events.filter((event): event is ArrivedEvent & { sentAt: number } => event.sentAt !== undefined);
  if (stamped.length >= 5) {
    const lags = stamped.map((event) => probe.startedAt + event.at - event.sentAt).sort((a, b) => a - b);
    const fastest = lags[0] as number;
    const held = (lags[Math.floor(lags.length * 0.9)] as number) - fastest;
    const worst = (lags.at(-1) as number) - fastest;
    const evidence = `events held up to ${ms(worst)} between sending and arrival (p90 ${ms(held)})`;
    if (held > 250) return { status: 'fail', check: 'buffering', evidence, fix };
    if (held > 100) return { status: 'warn', check: 'buffering', evidence, fix };
    return { status: 'pass', check: 'buffering', evidence };
  }
  const arrivals = events.map((event) => event.at);
  const total = Math.max(...arrivals);
  const arrived = total - Math.min(...arrivals);
  if (total >= 1_000 && arrived < 50) return { status: 'fail', check: 'buffering', evidence: `all ${events.length} events arrived within ${ms(arrived)} after ${ms(total)}`, fix };
  return { status: 'pass', check: 'buffering', evidence: `${events.length} events arrived over ${ms(arrived)}` };
}

/** Heartbeats: comment lines while idle, and the longest silence against proxy idle timeouts. */
export function checkHeartbeats(probe: Probe, analysis: StreamAnalysis, idleLimitMs: number): Finding {
  const fix = `send a comment line (": ping") every 15 s; proxies cut streams silent for 60 s (nginx proxy_read_timeout) or 100 s (Cloudflare)`;
  if (analysis.longestSilenceMs >= idleLimitMs) {
    return { status: 'fail', check: 'heartbeats', evidence: `silent for ${ms(analysis.longestSilenceMs)} (limit ${ms(idleLimitMs)})${analysis.comments.length === 0 ? ', no comment lines' : ''}`, fix };
  }
  if (analysis.comments.length >= 2) {
    const gaps = analysis.comments.slice(1).map((at, index) => at - (analysis.comments[index] as number));
    return { status: 'pass', check: 'heartbeats', evidence: `${analysis.comments.length} comment lines, every ~${ms(Math.max(...gaps))}; longest silence ${ms(analysis.longestSilenceMs)}` };
  }
  if (analysis.comments.length === 1) return { status: 'pass', check: 'heartbeats', evidence: `a comment line seen; longest silence ${ms(analysis.longestSilenceMs)}` };
  if (probe.ended) {
    return { status: 'skip', check: 'heartbeats', evidence: `not judged: the stream ended after ${ms(probe.durationMs)} without an idle period (longest silence ${ms(analysis.longestSilenceMs)})`, fix: 'watch a stream that stays quiet for a while (a slow run, or --duration longer than its heartbeat interval)' };
  }
  return { status: 'warn', check: 'heartbeats', evidence: `no comment line in ${ms(probe.durationMs)} (longest silence ${ms(analysis.longestSilenceMs)})`, fix };
}

/** Ids and retry. */
export function checkIds(analysis: StreamAnalysis): Finding[] {
  const withIds = analysis.events.filter((event) => event.id !== undefined && event.id !== '').length;
  return [
    analysis.events.length > 0 && withIds === analysis.events.length
      ? { status: 'pass', check: 'event ids', evidence: `${withIds}/${analysis.events.length} events carry id:` }
      : { status: 'fail', check: 'event ids', evidence: `${withIds}/${analysis.events.length} events carry id:`, fix: 'give every event an "id:" (a sequence number) so a reconnect can resume with Last-Event-ID' },
    analysis.retry !== undefined
      ? { status: 'pass', check: 'retry', evidence: `retry: ${analysis.retry}` }
      : { status: 'warn', check: 'retry', evidence: 'no retry: line', fix: 'send "retry: 2000" first so clients reconnect at a sane pace' },
  ];
}

/** SSE framing faults. */
export function checkFraming(analysis: StreamAnalysis): Finding {
  const faults = [
    analysis.invalidUtf8 ? 'invalid UTF-8' : undefined,
    analysis.bomMidStream ? 'a byte-order mark mid-stream' : undefined,
    analysis.unterminatedTail ? `an event without its blank line at EOF (${JSON.stringify(analysis.unterminatedTail.slice(0, 40))})` : undefined,
  ].filter(Boolean);
  return faults.length === 0
    ? { status: 'pass', check: 'framing', evidence: 'valid UTF-8, every event terminated' }
    : { status: 'fail', check: 'framing', evidence: faults.join('; '), fix: 'encode as UTF-8, send a BOM only first if at all, and end every event with a blank line' };
}

/** A resume after the middle event: the events after it, no duplicate. */
export function checkResume(middleId: string, resumed: StreamAnalysis | undefined, expectedNext: string | undefined, note?: string): Finding {
  if (!resumed) return { status: 'warn', check: 'resume', evidence: note ?? 'not tested', fix: 'answer GET with Last-Event-ID on the stream URL (or a Content-Location pointing to it)' };
  const ids = resumed.events.map((event) => event.id);
  const first = ids[0];
  if (first === undefined) return { status: 'fail', check: 'resume', evidence: `no event after Last-Event-ID: ${middleId}`, fix: 'on reconnect, send the events after Last-Event-ID' };
  if (first === middleId || (expectedNext !== undefined && first !== expectedNext)) {
    return { status: 'fail', check: 'resume', evidence: `after Last-Event-ID: ${middleId} the first event had id ${first} (expected ${expectedNext ?? 'a later one'})`, fix: 'resume exactly after Last-Event-ID: no gap, no repeat' };
  }
  return { status: 'pass', check: 'resume', evidence: `Last-Event-ID: ${middleId} resumed at id ${first}, no duplicate` };
}

/** CORS for `origin`: the preflight and the actual response. */
export function checkCors(origin: string, preflight: { status: number; headers: Record<string, string> } | undefined, actual: Record<string, string>): Finding[] {
  const findings: Finding[] = [];
  const judge = (check: string, headers: Record<string, string>): Finding => {
    const allowed = headers['access-control-allow-origin'];
    const credentials = headers['access-control-allow-credentials'] === 'true';
    if (allowed === '*' && credentials) return { status: 'fail', check, evidence: 'Access-Control-Allow-Origin: * with Allow-Credentials: true (browsers refuse it)', fix: 'echo the allowed origin instead of *, with Vary: Origin' };
    if (allowed === origin || allowed === '*') return { status: 'pass', check, evidence: `allows ${allowed}${credentials ? ' with credentials' : ''}` };
    return { status: 'fail', check, evidence: `Access-Control-Allow-Origin: ${allowed ?? '(none)'} for ${origin}`, fix: `add ${origin} to the allow-list (agentwire: --cors-origin ${origin})` };
  };
  if (preflight) findings.push(preflight.status >= 200 && preflight.status < 300 ? judge('cors preflight', preflight.headers) : { status: 'fail', check: 'cors preflight', evidence: `status ${preflight.status}`, fix: `answer OPTIONS from ${origin} with 204 and the Access-Control-Allow-* headers` });
  findings.push(judge('cors', actual));
  return findings;
}
