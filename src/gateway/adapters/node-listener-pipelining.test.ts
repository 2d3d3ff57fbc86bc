/**
 * HTTP/1.1 pipelining: answers go out in order, so an answer to a pipelined request cannot be sent
 * before the ones ahead of it, and Node keeps it in memory meanwhile. A client that pipelines many
 * GETs of a large run and reads nothing must not make the gateway build (and hold) an answer per
 * request: before the fix, 129 KB of pipelined `GET /api/runs/:id` of a run with a 2 MB state held
 * ~2,000 answers, 4 GiB of RSS. Each pipelined request now waits for the answer before it.
 */
import { ServerResponse } from 'node:http';
import { type Socket, connect } from 'node:net';
import { queryObjects } from 'node:v8';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../create-gateway.js';
import { type ListeningGateway, listen } from './listen.js';
import type { AgentContext } from '../../producer/agent.js';
import { MemoryStore } from '../../store/memory-store.js';
import { waitFor } from '../../../test/helpers/wait.js';

const PIPELINED = 500;

describe('pipelined requests on one connection', () => {
  const store = new MemoryStore();
  let listening: ListeningGateway;
  let runId: string;
  let gateway: ReturnType<typeof createGateway>;
  const serverSockets: Socket[] = [];

  beforeAll(async () => {
    const agents = {
      /** Ticks until cancelled: a stream of it never ends by itself. */
      async *ticking(ctx: AgentContext) {
        for (;;) {
          await ctx.sleep(20);
          yield '.';
        }
      },
      /** A 2 MB answer: each GET of its state is a 2 MB body. */
      async *large(_ctx: AgentContext) {
        for (let index = 0; index < 200; index++) yield 'x'.repeat(10_000);
      },
    };
    gateway = createGateway({ agents, store, uiDir: false, graceMs: 0, limits: { maxRunMs: 0 } });
    listening = await listen(gateway, { port: 0, host: '127.0.0.1' });
    listening.server.on('connection', (socket: Socket) => serverSockets.push(socket));
    const response = await fetch(`${listening.url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"agent":"large","input":null}' });
    runId = ((await response.json()) as { id: string }).id;
    await gateway.runner.whenEnded(runId);
  });

  afterAll(async () => {
    await listening?.close();
    await store.close();
  });

  it(`${PIPELINED} pipelined GETs of a large run from a client that reads nothing build a few answers, not ${PIPELINED}; all come once it reads`, async () => {
    const { port } = new URL(listening.url);
    const client = connect(Number(port), '127.0.0.1');
    client.pause();
    await new Promise((resolve) => client.once('connect', resolve));
    const states = vi.spyOn(store, 'state');
    try {
      const requests = `GET /api/runs/${runId} HTTP/1.1\r\nHost: t\r\n\r\n`.repeat(PIPELINED);
      client.write(requests);
      const server = await waitFor(() => serverSockets.find((socket) => socket.remotePort === client.localPort), 'the server side of the connection');
      // Once the server has read every request, the old code had called the handler for each.
      await waitFor(() => server.bytesRead >= requests.length, 'the server to read the pipelined requests');
      await waitFor(() => states.mock.calls.length > 0, 'the first answer to be built');
      // A bounded settle, for an absence: handlers that would run do so within a few turns.
      await new Promise((resolve) => setTimeout(resolve, 300));
      // One in flight, plus the few the loopback socket's buffers took (2 MB each).
      expect(states.mock.calls.length).toBeLessThanOrEqual(10);
      // The client reads: every answer comes, in order, and the connection serves them all.
      let received = 0;
      let tail = '';
      client.setEncoding('latin1');
      client.on('data', (chunk: string) => {
        const text = tail + chunk;
        received += text.split('HTTP/1.1 200 OK').length - 1;
        tail = text.slice(-14); // shorter than the status line: a whole one is never counted twice
      });
      client.resume();
      await waitFor(() => received >= PIPELINED, `all ${PIPELINED} answers`, 30_000);
      expect(received).toBe(PIPELINED);
    } finally {
      states.mockRestore();
      client.destroy();
    }
  });

  it('a request pipelined behind a stream whose client went away is not served: it starts no run', async () => {
    const { port } = new URL(listening.url);
    const client = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    const runsBefore = (await store.listRuns({ limit: 500 })).length;
    const body = '{"agent":"ticking","input":null}';
    const post = (accept: string) =>
      `POST /api/runs HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nAccept: ${accept}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    // A start-and-stream (it never ends by itself), then a plain start pipelined behind it.
    client.write(post('text/event-stream') + post('application/json'));
    let received = '';
    client.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    await waitFor(() => received.includes('event: run.started'), 'the stream to start');
    client.destroy();
    // The stream's run is cancelled once its only subscriber left (graceMs 0): then the pipelined
    // start would run, if it were going to.
    await waitFor(async () => (await store.listRuns({ limit: 500 })).every((run) => run.status !== 'running'), 'the streamed run to end');
    await waitFor(() => gateway.runner.liveRunCount === 0, 'no run to be live');
    expect((await store.listRuns({ limit: 500 })).length).toBe(runsBefore + 1);
  });

  it('an idle keep-alive connection holds no response of its past (what a pipelined request waits for is dropped at close)', async () => {
    const { port } = new URL(listening.url);
    const clients = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const client = connect(Number(port), '127.0.0.1');
        await new Promise((resolve) => client.once('connect', resolve));
        let received = '';
        client.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
        client.write(`GET /api/runs/${runId}/events?after=0&wait=0 HTTP/1.1\r\nHost: t\r\n\r\n`);
        return { client, answered: () => received.includes('\r\n\r\n') };
      }),
    );
    try {
      await waitFor(() => clients.every((each) => each.answered()), 'every answer');
      // Counted after a full collection: each connection stays open and idle.
      await waitFor(() => queryObjects(ServerResponse, { format: 'count' }) < 5, 'the answered responses to be collected');
    } finally {
      for (const { client } of clients) client.destroy();
    }
  });
});
