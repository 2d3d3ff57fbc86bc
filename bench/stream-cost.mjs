// The gateway's server CPU per request and per fan-out, for interleaved A/B runs of two builds:
//   node bench/stream-cost.mjs requests [--dist=dist] [--requests=2000]
//   node bench/stream-cost.mjs fanout [--dist=dist] [--subscribers=1000] [--events=100]
//   node bench/stream-cost.mjs ws-fanout [--dist=dist] [--subscribers=1000] [--events=100]
// `requests`: sequential start-and-stream requests (POST /api/runs, Accept: text/event-stream) of a
// 3-event run on one keep-alive connection, after a warm-up; prints server CPU µs per request.
// `fanout`: one run, N SSE subscribers attached first, then E events one per timer tick; prints the
// server CPU from the first event to the last subscriber's end. `ws-fanout`: the same over
// WebSocket, a socket per subscriber. The gateway runs in a child
// process (`process.cpuUsage()` there), bounded in time; loopback only.
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const args = Object.fromEntries(process.argv.slice(3).map((arg) => arg.replace(/^--/, '').split('=')));
const mode = process.argv[2];

if (mode === 'server') {
  const dist = pathToFileURL(resolve(args.dist ?? 'dist')).href;
  const { createGateway } = await import(`${dist}/gateway/index.js`);
  const { defineAgent } = await import(`${dist}/index.js`);
  const { createServer } = await import('node:http');
  let go;
  const started = new Promise((resolve) => (go = resolve));
  const events = Number(args.events ?? 100);
  const gateway = createGateway({
    agents: [
      defineAgent('three', async function* () {
        yield { type: 'data', name: 'a', value: 1 };
        yield { type: 'data', name: 'b', value: 2 };
        yield { type: 'data', name: 'c', value: 3 };
      }),
      defineAgent('fanout', async function* () {
        await started;
        for (let i = 0; i < events; i++) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          yield { type: 'data', name: 'tick', value: 'x'.repeat(48) + i };
        }
      }),
    ],
    uiDir: false,
    limits: { maxRuns: 100_000, maxStreams: 100_000, maxSubscribersPerRun: 10_000 },
  });
  const server = createServer(gateway.listener);
  server.on('upgrade', gateway.upgrade);
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', (message) => {
    if (message === 'go') go();
    if (message === 'exit') process.exit(0);
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send({ cpu: user + system });
    }
  });
  setTimeout(() => process.exit(2), 120_000).unref();
} else {
  const child = fork(new URL(import.meta.url), ['server', ...process.argv.slice(3)], { stdio: 'inherit' });
  const nextMessage = () => new Promise((resolve) => child.once('message', resolve));
  const { port } = await nextMessage();
  const cpu = async () => {
    child.send('cpu');
    return (await nextMessage()).cpu;
  };
  const guard = setTimeout(() => {
    console.error('timed out');
    child.kill();
    process.exit(1);
  }, 110_000);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  /** One request; resolves with the body once it ends. */
  const send = (method, path, body, headers = {}, onResponse) =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, agent: onResponse ? undefined : agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        onResponse?.(res);
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve(text));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  if (mode === 'requests') {
    const total = Number(args.requests ?? 2000);
    const stream = () => send('POST', '/api/runs', '{"agent":"three","input":{}}', { accept: 'text/event-stream' });
    for (let i = 0; i < 300; i++) await stream();
    const before = await cpu();
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const text = await stream();
      if (!text.includes('run.finished')) throw new Error(`no terminal event in ${JSON.stringify(text)}`);
    }
    const wall = performance.now() - t0;
    const after = await cpu();
    console.log(JSON.stringify({ mode, dist: args.dist ?? 'dist', cpuUsPerRequest: +((after - before) / total).toFixed(1), wallUsPerRequest: +((wall * 1000) / total).toFixed(1) }));
  } else if (mode === 'fanout') {
    const subscribers = Number(args.subscribers ?? 1000);
    const { id: runId } = JSON.parse(await send('POST', '/api/runs', '{"agent":"fanout","input":{}}'));
    let attached = 0;
    let allAttached;
    const ready = new Promise((resolve) => (allAttached = resolve));
    const agents = Array.from({ length: 20 }, () => new Agent({ keepAlive: false, maxSockets: Infinity }));
    const done = Array.from({ length: subscribers }, (_, i) =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: `/api/runs/${runId}/events`, agent: agents[i % agents.length] }, (res) => {
          let seen = '';
          let counted = false;
          res.setEncoding('utf8');
          res.on('data', (chunk) => {
            seen += chunk;
            if (!counted && seen.includes('run.started')) {
              counted = true;
              if (++attached === subscribers) allAttached();
            }
            if (seen.length > 4096) seen = seen.slice(-200);
          });
          res.on('end', () => resolve(seen.includes('run.finished')));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      }),
    );
    await ready;
    const before = await cpu();
    const t0 = performance.now();
    child.send('go');
    const finished = (await Promise.all(done)).filter(Boolean).length;
    const wall = performance.now() - t0;
    const after = await cpu();
    console.log(JSON.stringify({ mode, dist: args.dist ?? 'dist', subscribers, finished, serverCpuMs: +((after - before) / 1000).toFixed(1), wallMs: +wall.toFixed(0) }));
  } else if (mode === 'ws-fanout') {
    const { default: WebSocket } = await import('ws');
    const subscribers = Number(args.subscribers ?? 1000);
    const { id: runId } = JSON.parse(await send('POST', '/api/runs', '{"agent":"fanout","input":{}}'));
    const sockets = await Promise.all(
      Array.from({ length: subscribers }, () =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`);
          let started;
          const ended = new Promise((end) => {
            ws.on('message', (data) => {
              const text = data.toString();
              if (text.includes('run.started')) started?.();
              if (text.includes('run.finished')) end(true);
            });
            ws.on('close', () => end(false));
          });
          ws.once('error', reject);
          ws.once('open', () => {
            ws.send(JSON.stringify({ type: 'subscribe', runId }));
            new Promise((ok) => (started = ok)).then(() => resolve({ ws, ended }));
          });
        }),
      ),
    );
    const before = await cpu();
    const t0 = performance.now();
    child.send('go');
    const finished = (await Promise.all(sockets.map((socket) => socket.ended))).filter(Boolean).length;
    const wall = performance.now() - t0;
    const after = await cpu();
    for (const { ws } of sockets) ws.terminate();
    console.log(JSON.stringify({ mode, dist: args.dist ?? 'dist', subscribers, finished, serverCpuMs: +((after - before) / 1000).toFixed(1), wallMs: +wall.toFixed(0) }));
  } else throw new Error('usage: node bench/stream-cost.mjs requests|fanout|ws-fanout [--dist=dist]');
  clearTimeout(guard);
  // A clean exit, so a server run with --cpu-prof writes its profile.
  child.send('exit');
  agent.destroy();
}
