// The practical limit: a plain `node:http` SSE loop that writes each event, awaits `drain` when the
// socket's buffer is full and stops as soon as the response closes.
import { createServer } from 'node:http';
import {
  SSE_HEADERS, announce, beforeEvent, createEventMaker, createFanout, drainOrClose, finalised, frame, now, port, produced, workloadFrom,
} from './workload.mjs';

const fanout = createFanout();

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
  try {
    for (let i = 1; i <= workload.n && !closed; i++) {
      const before = beforeEvent(workload, startedAt, i);
      if (before) await before;
      if (closed) break;
      produced();
      if (!response.write(frame(i, JSON.stringify(make(i))))) await drainOrClose(response);
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
