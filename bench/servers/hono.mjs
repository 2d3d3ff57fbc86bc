// Hono `streamSSE` on `@hono/node-server`, written as Hono's docs show: a loop of `writeSSE` and
// `stream.sleep`, with an `onAbort` handler.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { announce, beforeEvent, createEventMaker, createFanout, finalised, now, port, produced, workloadFrom } from './workload.mjs';

const fanout = createFanout();
const app = new Hono();

app.get('/stream', (c) => {
  const workload = workloadFrom(new URL(c.req.url).searchParams);
  return streamSSE(c, async (stream) => {
    let aborted = false;
    stream.onAbort(() => {
      aborted = true;
    });
    const make = createEventMaker(workload.bytes);
    const startedAt = now();
    try {
      for (let i = 1; i <= workload.n && !aborted; i++) {
        const before = beforeEvent(workload, startedAt, i, (ms) => stream.sleep(ms));
        if (before) await before;
        produced();
        await stream.writeSSE({ id: String(i), event: 'data', data: JSON.stringify(make(i)) });
      }
    } finally {
      finalised();
    }
  });
});

app.get('/fanout', (c) => {
  const workload = workloadFrom(new URL(c.req.url).searchParams);
  return streamSSE(c, async (stream) => {
    // Writes are chained so they keep their order and the stream ends after the last one.
    let writes = Promise.resolve();
    await new Promise((resolve) => {
      const leave = fanout.join(workload, {
        send: (json, i) => {
          writes = writes.then(() => stream.writeSSE({ id: String(i), event: 'data', data: json }));
        },
        end: () => writes.then(resolve, resolve),
      });
      stream.onAbort(() => {
        leave();
        resolve();
      });
    });
  });
});

const server = serve({ fetch: app.fetch, port: port(), hostname: '127.0.0.1' }, (info) => announce(info.port));
