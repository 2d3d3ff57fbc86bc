/**
 * A client that goes away while its stream request is still in the route (a store round trip, a
 * start), before the adapter has a response to stream: the stream that the route then returns must
 * end at once and release its slot and subscriber, on HTTP/1.1, HTTP/2 and the fetch adapter. And
 * an HTTP/2 long-poll whose stream is reset ends then, not at the end of its wait.
 */
import { request as httpRequest } from 'node:http';
import { connect, constants } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../create-gateway.js';
import { type ListeningGateway, listen } from './listen.js';
import type { AgentContext } from '../../producer/agent.js';
import { MemoryStore } from '../../store/memory-store.js';
import type { RunRecord } from '../../store/store.js';
import { deferred, waitFor } from '../../../test/helpers/wait.js';

/** A memory store whose next `getRun` waits (as a networked store's round trip does) until released. */
class HeldStore extends MemoryStore {
  #hold: { entered: () => void; release: Promise<void> } | undefined;

  /** Holds the next `getRun`; resolves `entered` when it is reached, and lets it go on `release()`. */
  holdNextGetRun(): { entered: Promise<void>; release: () => void } {
    const entered = deferred();
    const release = deferred();
    this.#hold = { entered: () => entered.resolve(), release: release.promise };
    return { entered: entered.promise, release: () => release.resolve() };
  }

  /** Follows opened: a stream's is its last step before it writes. */
  follows = 0;

  override follow(...args: Parameters<MemoryStore['follow']>): ReturnType<MemoryStore['follow']> {
    this.follows++;
    return super.follow(...args);
  }

  override async getRun(id: string): Promise<RunRecord | undefined> {
    const hold = this.#hold;
    this.#hold = undefined;
    if (hold) {
      hold.entered();
      await hold.release;
    }
    return super.getRun(id);
  }
}

const agents = {
  /** Never ends by itself: a stream of it ends only because it was stopped. */
  async *ticking(ctx: AgentContext) {
    for (;;) {
      await ctx.sleep(50);
      yield '.';
    }
  },
  /** Sends nothing after its start until it is cancelled: a long-poll after seq 1 waits. */
  async *silent(ctx: AgentContext) {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
  },
};

/**
 * Whether the gateway (which allows one stream) has its slot free: a probe stream gets 200, not
 * 429. The probe leaves at once, which frees the slot again.
 */
async function slotFree(gateway: Gateway, runId: string): Promise<boolean> {
  const probe = new AbortController();
  const response = await gateway.fetch(new Request(`http://gateway.invalid/api/runs/${runId}/events`, { headers: { accept: 'text/event-stream' }, signal: probe.signal }));
  probe.abort();
  return response.status === 200;
}

/**
 * Waits (bounded) for the stream whose client left to reach its follow (so it holds the one slot
 * first), then for that slot to be free again.
 */
async function released(gateway: Gateway, store: HeldStore, runId: string): Promise<void> {
  await waitFor(() => store.follows > 0, 'the stream to start following', 3_000);
  await waitFor(() => slotFree(gateway, runId), 'the stream to end and release its slot', 3_000);
}

describe('a stream whose client went away before the route returned it', () => {
  const stores: HeldStore[] = [];
  const gateways: Gateway[] = [];
  const listening: ListeningGateway[] = [];

  async function setUp(agent = 'ticking'): Promise<{ gateway: Gateway; store: HeldStore; runId: string }> {
    const store = new HeldStore();
    const gateway = createGateway({ agents, store, uiDir: false, graceMs: 0, limits: { maxRunMs: 0, maxStreams: 1 } });
    stores.push(store);
    gateways.push(gateway);
    const started = await gateway.fetch(
      new Request('http://gateway.invalid/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent, input: null }) }),
    );
    const { id } = (await started.json()) as { id: string };
    return { gateway, store, runId: id };
  }

  afterAll(async () => {
    await Promise.all(listening.map((each) => each.close()));
    await Promise.all(gateways.map((each) => each.close()));
    await Promise.all(stores.map((each) => each.close()));
  });

  let http1: { gateway: Gateway; store: HeldStore; runId: string; server: ListeningGateway };
  let h2c: { gateway: Gateway; store: HeldStore; runId: string; server: ListeningGateway };
  beforeAll(async () => {
    const one = await setUp();
    http1 = { ...one, server: await listen(one.gateway, { port: 0 }) };
    const two = await setUp();
    h2c = { ...two, server: await listen(two.gateway, { port: 0, h2c: true }) };
    listening.push(http1.server, h2c.server);
  });

  it('on HTTP/1.1: ends and releases its slot', async () => {
    const { gateway, store, runId, server } = http1;
    const hold = store.holdNextGetRun();
    const closedOnServer = new Promise<void>((resolve) => server.server.once('request', (_request, response) => response.once('close', () => resolve())));
    const client = httpRequest(`${server.url}/api/runs/${runId}/events`, { headers: { accept: 'text/event-stream' } });
    client.on('error', () => {});
    client.end();
    await hold.entered;
    client.destroy();
    await closedOnServer;
    hold.release();
    await released(gateway, store, runId);
  });

  it('on HTTP/2 (a stream reset): ends and releases its slot', async () => {
    const { gateway, store, runId, server } = h2c;
    const hold = store.holdNextGetRun();
    const closedOnServer = new Promise<void>((resolve) => server.server.once('request', (_request, response) => response.once('close', () => resolve())));
    const session = connect(server.url);
    try {
      const stream = session.request({ ':path': `/api/runs/${runId}/events`, accept: 'text/event-stream' });
      stream.on('error', () => {});
      stream.end();
      await hold.entered;
      stream.close(constants.NGHTTP2_CANCEL);
      await closedOnServer;
      hold.release();
      await released(gateway, store, runId);
    } finally {
      session.close();
    }
  });

  it('on the fetch adapter (the request signal aborted): ends and releases its slot', async () => {
    const { gateway, store, runId } = await setUp();
    const hold = store.holdNextGetRun();
    const client = new AbortController();
    const answer = gateway.fetch(new Request(`http://gateway.invalid/api/runs/${runId}/events`, { headers: { accept: 'text/event-stream' }, signal: client.signal }));
    await hold.entered;
    client.abort();
    hold.release();
    const response = await answer;
    expect(response.status).toBe(200);
    // Nobody reads or cancels the body: the request's signal is the only word that the client left.
    await released(gateway, store, runId);
  });

  it('on HTTP/2, a long-poll whose stream is reset: ends then, not at the end of its wait', async () => {
    const { gateway, store, runId } = await setUp('silent');
    const server = await listen(gateway, { port: 0, h2c: true });
    listening.push(server);
    const closedOnServer = new Promise<void>((resolve) => server.server.once('request', (_request, response) => response.once('close', () => resolve())));
    const session = connect(server.url);
    try {
      const stream = session.request({ ':path': `/api/runs/${runId}/poll?after=1&wait=20` });
      stream.on('error', () => {});
      stream.end();
      await waitFor(() => store.follows > 0, 'the poll to wait on the log', 3_000);
      stream.close(constants.NGHTTP2_CANCEL);
      await closedOnServer;
      await waitFor(() => slotFree(gateway, runId), 'the poll to end and release its slot', 3_000);
    } finally {
      session.close();
    }
  });
});
