// The load generator: a separate process that drives one bench server over loopback with raw
// `node:http` requests and a small SSE line parser, and prints one JSON result line. Progress marks
// (`{"mark":…}`) are printed as they happen so the orchestrator can sample the server's memory.
// Every loop is bounded in count and in time.
//
// Usage: node bench/loadgen.mjs '<json task>'   (see `tasks` below)
import http from 'node:http';
import net from 'node:net';
import { now } from './servers/workload.mjs';

const task = JSON.parse(process.argv[2] ?? '{}');
const cpuAtStart = process.cpuUsage();
const emit = (object) => process.stdout.write(`${JSON.stringify(object)}\n`);
const mark = (name, extra = {}) => emit({ mark: name, at: now(), ...extra });

/** Where one stream of the workload is requested, for the server under test. */
function target(kind, workload, extra = {}) {
  const query = new URLSearchParams(Object.entries(workload).map(([key, value]) => [key, String(value)]));
  if (kind === 'agentwire') {
    return {
      method: 'POST',
      path: '/api/runs',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ agent: extra.agent ?? 'bench', input: workload }),
    };
  }
  return { method: 'GET', path: `/${extra.route ?? 'stream'}?${query}`, headers: {}, body: undefined };
}

/**
 * A small SSE parser over Buffers: calls `onPayload(chunk, start)` for each `data:` line that holds
 * a bench event (it contains `"t":`), with `start` at that key. Other lines are skipped.
 */
function createPayloadParser(onPayload) {
  let rest = null;
  return (chunk) => {
    if (rest) {
      chunk = Buffer.concat([rest, chunk]);
      rest = null;
    }
    let position = 0;
    for (;;) {
      const newline = chunk.indexOf(10, position);
      if (newline < 0) break;
      // "data:" = 100 97 116 97 58
      if (chunk[position] === 100 && chunk[position + 4] === 58 && chunk[position + 1] === 97) {
        const key = chunk.indexOf('"t":', position);
        if (key >= 0 && key < newline) onPayload(chunk, key + 4);
      }
      position = newline + 1;
    }
    if (position < chunk.length) rest = Buffer.from(chunk.subarray(position));
  };
}

/**
 * A counter of bench events for throughput runs: one `indexOf` per event (the `"t":` key) instead of
 * a scan of every line, so the load generator costs the shared CPU as little as possible.
 */
function createPayloadCounter(onCount) {
  let tail = Buffer.alloc(0);
  return (chunk) => {
    let count = 0;
    if (tail.length > 0) {
      // A key split across two chunks: look in the seam only.
      const seam = Buffer.concat([tail, chunk.subarray(0, 3)]);
      if (seam.indexOf('"t":') >= 0) count++;
    }
    let position = chunk.indexOf('"t":');
    while (position >= 0) {
      count++;
      position = chunk.indexOf('"t":', position + 4);
    }
    tail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - 3)));
    onCount(count);
  };
}

/** The send time written in a payload at `start` (the number after `"t":`). */
function sendTime(chunk, start) {
  let end = start;
  while (end < chunk.length && end < start + 32) {
    const byte = chunk[end];
    if ((byte >= 48 && byte <= 57) || byte === 46) end++;
    else break;
  }
  return Number(chunk.toString('latin1', start, end));
}

/**
 * Opens one stream. `handlers.onPayload(chunk, start)` per event, `onResponse(response)` once.
 * Resolves `{ status, bytes, error }` when the stream ends, fails, or is destroyed.
 */
function openStream(port, request, handlers = {}, agent = false) {
  return new Promise((resolve) => {
    let bytes = 0;
    let settled = false;
    const settle = (result) => {
      if (settled) return;
      settled = true;
      resolve({ bytes, ...result });
    };
    const parse = handlers.onCount
      ? createPayloadCounter(handlers.onCount)
      : createPayloadParser((chunk, start) => handlers.onPayload?.(chunk, start));
    const outgoing = http.request(
      { host: '127.0.0.1', port, method: request.method, path: request.path, headers: request.headers, agent },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          response.on('end', () => settle({ status: response.statusCode, error: `status ${response.statusCode}` }));
          return;
        }
        response.on('data', (chunk) => {
          bytes += chunk.length;
          parse(chunk);
        });
        response.on('end', () => settle({ status: 200 }));
        response.on('close', () => settle({ status: 200, closed: true }));
        response.on('error', (error) => settle({ status: 200, error: error.code ?? error.message }));
        // After the parser's listener, so a handler sees the chunk's events already counted.
        handlers.onResponse?.(response, outgoing);
      },
    );
    outgoing.on('error', (error) => settle({ status: 0, error: error.code ?? error.message }));
    handlers.onRequest?.(outgoing);
    outgoing.end(request.body);
  });
}

/**
 * One stream over a bare TCP socket, counting events in the raw bytes (the chunked framing never
 * contains `"t":`); it ends at the chunked body's last chunk (`0\r\n\r\n`) or when the server closes.
 * (No `Connection: close`: better-sse answers it with `connection: keep-alive` and stalls.) Used for throughput so the load generator's cost is per
 * TCP read, not per HTTP chunk: `node:http` emits one 'data' per chunk, which would make a server
 * that writes one chunk per event look slower than it is.
 */
function openRawStream(port, request, onCount, onBody) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const body = request.body ?? '';
    const head = [
      `${request.method} ${request.path} HTTP/1.1`,
      'host: 127.0.0.1',
      ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`),
      ...(request.body === undefined ? [] : [`content-length: ${Buffer.byteLength(body)}`]),
      '',
      '',
    ].join('\r\n');
    socket.write(head + body);
    let bytes = 0;
    let inBody = false;
    let status = 0;
    let pending = Buffer.alloc(0);
    let tail = Buffer.alloc(0);
    const count = createPayloadCounter(onCount);
    const LAST_CHUNK = Buffer.from('\r\n0\r\n\r\n');
    socket.on('data', (chunk) => {
      if (!inBody) {
        pending = Buffer.concat([pending, chunk]);
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        status = Number(pending.toString('latin1', 9, 12));
        inBody = true;
        onBody();
        chunk = pending.subarray(end + 4);
      }
      bytes += chunk.length;
      count(chunk);
      tail = Buffer.concat([tail, chunk.subarray(Math.max(0, chunk.length - LAST_CHUNK.length))]).subarray(-LAST_CHUNK.length);
      if (tail.equals(LAST_CHUNK)) {
        socket.destroy();
        resolve({ bytes, status, error: status === 200 ? undefined : `status ${status}`, socket });
      }
    });
    socket.on('error', (error) => resolve({ bytes, status, error: error.code ?? error.message, socket }));
    socket.on('close', () => resolve({ bytes, status, error: status === 200 ? undefined : `status ${status}`, socket }));
    request.socketHolder = socket;
  });
}

/** Sorted-array percentile. */
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function summary(values) {
  const sorted = Float64Array.from(values).sort();
  return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.length ? sorted[sorted.length - 1] : null };
}

const withDeadline = (promise, ms) => Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve('timeout'), ms).unref())]);

const tasks = {
  /** One stream as fast as possible: events/s and MB/s, from the response headers to its end. */
  async throughput({ port, server, workload, timeoutMs }) {
    let events = 0;
    let startedAt = 0;
    const started = now();
    const request = target(server, workload);
    const result = await withDeadline(
      openRawStream(port, request, (count) => (events += count), () => (startedAt = now())),
      timeoutMs,
    );
    const endedAt = now();
    if (result === 'timeout') request.socketHolder?.destroy();
    const seconds = (endedAt - (startedAt || started)) / 1000;
    return {
      events,
      expected: workload.n,
      bytes: result === 'timeout' ? null : result.bytes,
      seconds,
      eventsPerSecond: events / seconds,
      timedOut: result === 'timeout',
      error: result === 'timeout' ? 'timeout' : (result.error ?? null),
    };
  },

  /** Many paced streams opened in a burst: delivery latency, time to first event, errors. */
  async many({ port, server, workload, streams, openPerSecond, timeoutMs }) {
    const latencies = new Float64Array(streams * workload.n);
    let latencyCount = 0;
    const ttfe = [];
    const errors = {};
    let complete = 0;
    let firstEvents = 0;
    let steadyMarked = false;
    const pending = [];
    const openedAt = now();
    const batch = Math.max(1, Math.round(openPerSecond / 100));
    for (let index = 0; index < streams; index += batch) {
      for (let inner = index; inner < Math.min(streams, index + batch); inner++) {
        const requestedAt = now();
        let received = 0;
        let outgoingRequest;
        pending.push(
          openStream(port, target(server, workload), {
            onRequest: (request) => (outgoingRequest = request),
            onPayload: (chunk, start) => {
              const at = now();
              if (received === 0) {
                ttfe.push(at - requestedAt);
                if (++firstEvents === streams && !steadyMarked) {
                  steadyMarked = true;
                  setTimeout(() => mark('steady'), 1000).unref();
                }
              }
              received++;
              if (latencyCount < latencies.length) latencies[latencyCount++] = at - sendTime(chunk, start);
            },
          }).then((result) => {
            if (received >= workload.n) complete++;
            else {
              const reason = result.error ?? `incomplete (${received}/${workload.n})`;
              errors[reason] = (errors[reason] ?? 0) + 1;
            }
            return outgoingRequest;
          }),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const openSeconds = (now() - openedAt) / 1000;
    const result = await withDeadline(Promise.all(pending), timeoutMs);
    if (result === 'timeout') errors.timeout = streams - complete;
    return {
      streams,
      complete,
      openSeconds,
      errors,
      errorCount: Object.values(errors).reduce((sum, count) => sum + count, 0),
      latency: summary(latencies.subarray(0, latencyCount)),
      ttfe: summary(ttfe),
    };
  },

  /** Sequential short runs on one keep-alive connection: request → first payload event. */
  async ttfe({ port, server, workload, count, mode, timeoutMs }) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const times = [];
    const errors = {};
    const deadline = now() + timeoutMs;
    const json = (method, path, body) =>
      new Promise((resolve, reject) => {
        const request = http.request({ host: '127.0.0.1', port, method, path, agent, headers: { 'content-type': 'application/json' } }, (response) => {
          const chunks = [];
          response.on('data', (chunk) => chunks.push(chunk));
          response.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
        });
        request.on('error', reject);
        request.end(body);
      });
    for (let index = 0; index < count && now() < deadline; index++) {
      let startedAt = now();
      let first = 0;
      let request;
      if (server !== 'agentwire') request = target(server, workload);
      else if (mode === 'post-stream') request = target(server, workload);
      else {
        // 'attach' times the GET alone (the run exists); 'create-then-get' times both requests.
        const created = await json('POST', '/api/runs', JSON.stringify({ agent: 'bench', input: workload }));
        if (mode === 'attach') startedAt = now();
        request = { method: 'GET', path: created.eventsUrl, headers: {}, body: undefined };
      }
      const result = await withDeadline(
        openStream(port, request, { onPayload: () => (first ||= now()) }, agent),
        Math.max(1, deadline - now()),
      );
      if (first) times.push(first - startedAt);
      else {
        const reason = result === 'timeout' ? 'timeout' : (result.error ?? 'no event');
        errors[reason] = (errors[reason] ?? 0) + 1;
        if (result === 'timeout') break;
      }
    }
    agent.destroy();
    return { mode, runs: times.length, errors, ttfe: summary(times) };
  },

  /** Disconnect after `after` events, at once or after holding the stream unread (backpressure). */
  async disconnect({ port, server, workload, after, holdMs, timeoutMs }) {
    let received = 0;
    let disconnectAt = 0;
    let outgoing;
    let done;
    const disconnected = new Promise((resolve) => (done = resolve));
    const stream = openStream(port, target(server, workload), {
      onRequest: (request) => (outgoing = request),
      onResponse: (response) => {
        response.on('data', () => {
          if (received < after || disconnectAt || response.isPaused()) return;
          if (holdMs > 0) {
            response.pause();
            mark('paused');
            setTimeout(() => {
              disconnectAt = now();
              outgoing.destroy();
              done();
            }, holdMs);
          } else {
            disconnectAt = now();
            outgoing.destroy();
            done();
          }
        });
      },
      onPayload: () => received++,
    });
    const result = await withDeadline(Promise.race([disconnected, stream]), timeoutMs);
    if (!disconnectAt) outgoing?.destroy();
    return { received, disconnectAt: disconnectAt || null, error: result === 'timeout' ? 'timeout' : null };
  },

  /** A client that reads the first event, then stops reading for `holdMs`. */
  async stall({ port, server, workload, holdMs }) {
    let received = 0;
    let outgoing;
    let stalled;
    const stalledPromise = new Promise((resolve) => (stalled = resolve));
    openStream(port, target(server, workload), {
      onRequest: (request) => (outgoing = request),
      onResponse: (response) => {
        response.once('data', () => {
          response.pause();
          mark('stalled');
          stalled();
        });
      },
      onPayload: () => received++,
    });
    const result = await withDeadline(stalledPromise, 10_000);
    if (result === 'timeout') {
      outgoing?.destroy();
      return { error: 'no first event' };
    }
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    mark('held');
    outgoing.destroy();
    return { received, error: null };
  },

  /** One producer, many subscribers: delivery latency of each event to each subscriber. */
  async fanout({ port, server, workload, subscribers, timeoutMs }) {
    let path;
    if (server === 'agentwire') {
      const created = await new Promise((resolve, reject) => {
        const request = http.request(
          { host: '127.0.0.1', port, method: 'POST', path: '/api/runs', headers: { 'content-type': 'application/json' } },
          (response) => {
            const chunks = [];
            response.on('data', (chunk) => chunks.push(chunk));
            response.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
          },
        );
        request.on('error', reject);
        request.end(JSON.stringify({ agent: 'fanout', input: workload }));
      });
      path = created.eventsUrl;
    } else path = target(server, workload, { route: 'fanout' }).path;
    const latencies = new Float64Array(subscribers * workload.n);
    let count = 0;
    let complete = 0;
    const errors = {};
    const pending = [];
    for (let index = 0; index < subscribers; index++) {
      let received = 0;
      let outgoing;
      pending.push(
        openStream(port, { method: 'GET', path, headers: {}, body: undefined }, {
          onRequest: (request) => (outgoing = request),
          onPayload: (chunk, start) => {
            if (count < latencies.length) latencies[count++] = now() - sendTime(chunk, start);
            if (++received >= workload.n) outgoing.destroy();
          },
        }).then((result) => {
          if (received >= workload.n) complete++;
          else {
            const reason = result.error ?? `incomplete (${received}/${workload.n})`;
            errors[reason] = (errors[reason] ?? 0) + 1;
          }
        }),
      );
      if (index % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const connectedBy = now();
    const result = await withDeadline(Promise.all(pending), timeoutMs);
    if (result === 'timeout') errors.timeout = subscribers - complete;
    return {
      subscribers,
      complete,
      connectedBeforeStart: connectedBy < workload.startAt,
      errors,
      errorCount: Object.values(errors).reduce((sum, value) => sum + value, 0),
      latency: summary(latencies.subarray(0, count)),
    };
  },
};

const run = tasks[task.kind];
if (!run) {
  emit({ error: `unknown task ${task.kind}` });
  process.exit(2);
}
const result = await run(task);
const cpu = process.cpuUsage(cpuAtStart);
emit({ result: { ...result, loadgenCpuMs: (cpu.user + cpu.system) / 1000 } });
process.exit(0);
