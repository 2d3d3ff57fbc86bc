// Fastify, streaming the way its docs do: `reply.send()` of a Readable made from an async generator
// of SSE frames.
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import { SSE_HEADERS, announce, createFanout, frame, port, workloadEvents, workloadFrom } from './workload.mjs';

/** The workload as SSE frames. */
const frames = (workload) => workloadEvents(workload, (event) => frame(event.i, JSON.stringify(event)));

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
