// The practical limit: a plain `node:http` SSE loop that writes each event, awaits `drain` when the
// socket's buffer is full and stops as soon as the response closes.
import { createServer } from 'node:http';
import {
  SSE_HEADERS, announce, beforeEvent, createEventMaker, createFanout, finalised, frame, now, port, produced, workloadFrom,
} from './workload.mjs';

const fanout = createFanout();
/**
 * BENCH_RAW_LOG (bench/stream-memory.mjs): each stream also keeps every event's JSON, with the
 * envelope agentwire's log holds, as a resumable log must: the floor of a server that keeps one.
 * `1`: as strings on the heap; `bytes`: as UTF-8 in one growing buffer per stream, off the heap.
 */
const keepLog = process.env.BENCH_RAW_LOG;

/** Appends strings to a buffer off the V8 heap. */
function createByteLog() {
  let bytes = Buffer.allocUnsafeSlow(2048);
  let used = 0;
  return (json) => {
    const needed = used + Buffer.byteLength(json);
    if (needed > bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(needed, bytes.length * 2));
      bytes.copy(grown, 0, 0, used);
      bytes = grown;
    }
    used += bytes.write(json, used);
  };
}

function drainOrClose(response) {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

async function stream(request, response, workload) {
  let closed = false;
  const onClose = () => {
    closed = true;
  };
  response.once('close', onClose);
  response.writeHead(200, SSE_HEADERS);
  response.flushHeaders();
  const make = createEventMaker(workload.bytes);
  const startedAt = now();
  const log = keepLog === '1' ? [] : keepLog === 'bytes' ? { push: createByteLog() } : undefined;
  try {
    for (let i = 1; i <= workload.n && !closed; i++) {
      const before = beforeEvent(workload, startedAt, i);
      if (before) await before;
      if (closed) break;
      produced();
      const value = make(i);
      log?.push(JSON.stringify({ type: 'data', seq: i + 1, at: Date.now(), name: 'b', value }));
      if (!response.write(frame(i, JSON.stringify(value)))) await drainOrClose(response);
    }
  } finally {
    finalised();
    response.off('close', onClose);
    if (!closed) response.end();
  }
}

const server = createServer((request, response) => {
  const url = new URL(request.url, 'http://bench');
  const workload = workloadFrom(url.searchParams);
  if (url.pathname === '/stream') {
    request.socket.setNoDelay(true);
    stream(request, response, workload).catch(() => response.destroy());
  } else if (url.pathname === '/fanout') {
    response.writeHead(200, SSE_HEADERS);
    response.flushHeaders();
    const leave = fanout.join(workload, {
      send: (json, i) => response.write(frame(i, json)),
      end: () => response.end(),
    });
    response.once('close', leave);
  } else {
    response.writeHead(404).end();
  }
});
server.listen(port(), '127.0.0.1', () => announce(server.address().port));
