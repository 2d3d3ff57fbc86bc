/**
 * Behind a real nginx with its defaults (proxy_buffering on): events arrive spread in time as they
 * are produced. A control through a location that does batch (gzip on for event streams, a common
 * misconfiguration) shows the measurement detects a batching proxy, so this test can fail. A
 * stream quiet for longer than proxy_read_timeout survives thanks to heartbeats (and a control
 * without them is cut); WebSocket upgrades and resume pass through.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createParser } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createGateway } from '../src/gateway/create-gateway.js';
import { type ListeningGateway, listen } from '../src/gateway/adapters/listen.js';
import type { AgentContext } from '../src/producer/agent.js';
import { type NginxProcess, findNginx, startNginx } from './helpers/nginx.js';
import { startRun } from './helpers/sse-client.js';
import { waitFor } from './helpers/wait.js';

const nginx = findNginx();
if (!nginx) {
  const reason = 'nginx is not installed: the proxy suite is skipped';
  if (process.env.CI === 'true') throw new Error(`${reason} (under CI it must be; .ci/run installs it)`);
  console.warn(`\n*** ${reason} ***\n`);
}

const INTERVAL = 100;
const EVENTS = 15;

const agents = {
  async *paced(ctx: AgentContext) {
    for (let index = 0; index < EVENTS; index++) {
      await ctx.sleep(INTERVAL);
      yield `${index} `;
    }
  },
  async *hush(ctx: AgentContext) {
    yield 'before';
    await ctx.sleep(Number(ctx.input));
    yield 'after';
  },
};

/** Arrival times (ms since the request) of the SSE events of a response. */
async function arrivals(url: string, init: RequestInit = {}): Promise<{ times: number[]; types: string[]; status: number }> {
  const started = Date.now();
  const response = await fetch(url, init);
  const times: number[] = [];
  const types: string[] = [];
  const parser = createParser({
    onEvent: (message) => {
      times.push(Date.now() - started);
      types.push(message.event ?? 'message');
    },
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
  } catch {
    // a proxy cutting the stream shows as a short list
  }
  return { times, types, status: response.status };
}

describe.runIf(nginx)('behind nginx (proxy_buffering on)', () => {
  let gateway: ListeningGateway;
  let quietGateway: ListeningGateway;
  let control: ReturnType<typeof createServer>;
  let proxy: NginxProcess;
  beforeAll(async () => {
    gateway = await listen(createGateway({ agents, heartbeatMs: 500, graceMs: 'continue' }), { port: 0 });
    // The same gateway without useful heartbeats, to show nginx does cut a silent stream.
    quietGateway = await listen(createGateway({ agents, heartbeatMs: 600_000, graceMs: 'continue' }), { port: 0 });
    // A naive SSE upstream: the same cadence, but without X-Accel-Buffering: no.
    control = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let index = 0;
      const timer = setInterval(() => {
        index++;
        response.write(`id: ${index}\nevent: tick\ndata: ${index}\n\n`);
        if (index === EVENTS) {
          clearInterval(timer);
          response.end();
        }
      }, INTERVAL);
      response.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
    const controlPort = (control.address() as AddressInfo).port;
    const upstream = (port: number) => `proxy_pass http://127.0.0.1:${port}; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade; proxy_read_timeout 2s;`;
    proxy = await startNginx(nginx as string, () => `
      location /control/ { proxy_pass http://127.0.0.1:${controlPort}/; proxy_http_version 1.1; gzip on; gzip_types text/event-stream; gzip_min_length 0; }
      location /quiet/ { proxy_pass http://127.0.0.1:${quietGateway.port}/; proxy_http_version 1.1; proxy_read_timeout 2s; }
      location / { ${upstream(gateway.port)} }`);
  }, 30_000);
  afterAll(async () => {
    await proxy?.stop();
    await Promise.all([gateway?.close(), quietGateway?.close()]);
    control?.close();
  });

  it('delivers agentwire events spread in time as produced, and detects a batching proxy in the control', async () => {
    const ours = await arrivals(`${proxy.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ agent: 'paced', input: null }),
    });
    const theirs = await arrivals(`${proxy.url}/control/`, { headers: { 'accept-encoding': 'gzip' } });
    const deltas = ours.times.slice(1, -1); // the text.delta arrivals
    expect(deltas).toHaveLength(EVENTS);
    const spread = (times: number[]) => (times.at(-1) ?? 0) - (times[0] ?? 0);
    // Produced over ~(EVENTS-1) intervals: ours arrive over most of that span…
    expect(spread(deltas)).toBeGreaterThan((EVENTS - 1) * INTERVAL * 0.6);
    // …and the control, compressed by nginx, arrives in a burst at the end.
    expect(theirs.times).toHaveLength(EVENTS);
    expect(spread(theirs.times)).toBeLessThan(INTERVAL);
    expect(theirs.times[0]).toBeGreaterThan((EVENTS - 2) * INTERVAL);
  });

  it('keeps a stream quiet for longer than proxy_read_timeout alive with heartbeats; without them nginx cuts it', async () => {
    const kept = await arrivals(`${proxy.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ agent: 'hush', input: 3_500 }),
    });
    expect(kept.types).toEqual(['run.started', 'text.delta', 'text.delta', 'run.finished']);
    const cut = await arrivals(`${proxy.url}/quiet/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ agent: 'hush', input: 3_500 }),
    });
    expect(cut.types).toEqual(['run.started', 'text.delta']);
  }, 30_000);

  it('passes WebSocket upgrades, subscriptions and resume through', async () => {
    const { id } = await startRun(gateway.url, { agent: 'paced', input: null });
    await waitFor(async () => ((await (await fetch(`${gateway.url}/api/runs/${id}`)).json()) as { lastSeq: number }).lastSeq >= 3, 'the run to pass seq 3');
    const ws = new WebSocket(`${proxy.url.replace('http', 'ws')}/api/ws`);
    const seqs: number[] = [];
    const frames: unknown[] = [];
    ws.on('message', (data) => {
      frames.push(JSON.parse(data.toString()));
      const frame = JSON.parse(data.toString()) as { type: string; events?: { seq: number }[] };
      if (frame.type === 'events') seqs.push(...(frame.events ?? []).map((event) => event.seq));
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ type: 'subscribe', runId: id, after: 3 }));
    await waitFor(() => seqs.at(-1) === EVENTS + 2, 'the run to end over the proxied socket').catch((error) => {
      throw new Error(`${error} ${JSON.stringify(frames)}`);
    });
    expect(seqs).toEqual(Array.from({ length: EVENTS + 2 - 3 }, (_, index) => index + 4));
    ws.close();
  });
});
