// better-sse on `node:http`, as its docs show: a session per request, `session.iterate()` over an
// async generator of events (paced with a timer), and a channel for fan-out.
import { createServer } from 'node:http';
import { createChannel, createSession } from 'better-sse';
import { announce, now, port, sleep, workloadEvents as events, workloadFrom } from './workload.mjs';

const channels = new Map();

const server = createServer(async (request, response) => {
  const url = new URL(request.url, 'http://bench');
  const workload = workloadFrom(url.searchParams);
  try {
    if (url.pathname === '/stream') {
      const session = await createSession(request, response);
      await session.iterate(events(workload), { eventName: 'data' });
      response.end();
    } else if (url.pathname === '/fanout') {
      let channel = channels.get(workload.startAt);
      if (!channel) {
        channel = createChannel();
        channels.set(workload.startAt, channel);
        (async () => {
          await sleep(workload.startAt - now());
          for await (const event of events(workload)) channel.broadcast(event, 'data');
          for (const session of channel.activeSessions) session.push('end', 'end');
          channels.delete(workload.startAt);
        })();
      }
      const session = await createSession(request, response);
      channel.register(session);
    } else {
      response.writeHead(404).end();
    }
  } catch (error) {
    console.error('[better-sse bench server]', error);
    response.destroy();
  }
});
server.listen(port(), '127.0.0.1', () => announce(server.address().port));
