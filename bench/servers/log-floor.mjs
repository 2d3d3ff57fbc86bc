// The floor of a resumable run log: the raw loop (bench/servers/raw.mjs) with what a run log cannot
// do without and nothing else: the producer is an async generator of event bodies (as an agent is),
// every event is stamped (`seq`, `at`), serialised once and kept for resume (`{ seq, json }` per event,
// the newest 10,000 runs retained, as a store retains finished runs), and its frame carries its `id`.
// No validation, no run state, no bounds, no subscribers but the one request: what agentwire adds
// beyond this is the price of those guarantees, and what it costs beyond raw up to this is not.
import { createServer } from 'node:http';
import { SSE_HEADERS, announce, createFanout, drainOrClose, frame, port, workloadEvents, workloadFrom } from './workload.mjs';

const fanout = createFanout();
const RETAINED_RUNS = 10_000;
/** Every run's log, oldest first (a Map keeps insertion order). */
const logs = new Map();
let runs = 0;

function newLog() {
  const log = [];
  logs.set(++runs, log);
  if (logs.size > RETAINED_RUNS) logs.delete(logs.keys().next().value);
  return log;
}

async function stream(request, response, workload) {
  let closed = false;
  response.once('close', () => {
    closed = true;
  });
  response.writeHead(200, SSE_HEADERS);
  response.flushHeaders();
  const log = newLog();
  let seq = 0;
  try {
    // Leaving the loop (the client went away) returns the generator, which runs its `finally`.
    for await (const body of workloadEvents(workload, (value) => ({ type: 'data', name: 'b', value }))) {
      if (closed) break;
      seq++;
      const json = JSON.stringify({ type: body.type, seq, at: Date.now(), name: body.name, value: body.value });
      log.push({ seq, json });
      if (!response.write(frame(seq, json))) await drainOrClose(response);
    }
  } finally {
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
