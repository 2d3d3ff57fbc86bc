// Fastify, streaming the way its docs do: `reply.send()` of a Readable made from an async generator
// of SSE frames.
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import {
  SSE_HEADERS, announce, createEventMaker, createFanout, delayBefore, finalised, frame, now, port, produced, sleep, workloadFrom,
} from './workload.mjs';

async function* frames(workload) {
  const make = createEventMaker(workload.bytes);
  const startedAt = now();
  try {
    for (let i = 1; i <= workload.n; i++) {
      const wait = delayBefore(workload, startedAt, i);
      if (wait > 0) await sleep(wait);
      produced();
      yield frame(i, JSON.stringify(make(i)));
    }
  } finally {
    finalised();
  }
}

const fanout = createFanout();
const app = Fastify({ logger: false });

app.get('/stream', (request, reply) => {
  reply.headers(SSE_HEADERS);
  return reply.send(Readable.from(frames(workloadFrom(request.query))));
});

app.get('/fanout', (request, reply) => {
  const workload = workloadFrom(request.query);
  const body = new Readable({ read() {} });
  const leave = fanout.join(workload, { send: (json, i) => body.push(frame(i, json)), end: () => body.push(null) });
  request.raw.once('close', leave);
  reply.headers(SSE_HEADERS);
  return reply.send(body);
});

await app.listen({ port: port(), host: '127.0.0.1' });
announce(app.server.address().port);
