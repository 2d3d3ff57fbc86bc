#!/usr/bin/env node
// Redis mode versus memory mode: per-event delivery latency (producer → SSE subscriber), and the
// fan-out of one run to many subscribers over two gateways. Not part of `npm test`.
//
//   npm run build && node bench/redis-latency.mjs [--events 2000] [--interval 5] [--subscribers 1000]
//
// Starts its own redis-server (no persistence) on a free port and `agentwire serve` processes.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createParser } from 'eventsource-parser';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({ options: { events: { type: 'string', default: '2000' }, interval: { type: 'string', default: '5' }, subscribers: { type: 'string', default: '1000' } } });
const EVENTS = Number(values.events);
const INTERVAL = Number(values.interval);
const SUBSCRIBERS = Number(values.subscribers);

const children = [];
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));

async function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  children.push(child);
  for (let attempt = 0; attempt < 500; attempt++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') return { port, url: `redis://127.0.0.1:${port}` };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('redis-server did not start');
}

async function serve(args) {
  const child = spawn(process.execPath, [`${ROOT}dist/cli/main.js`, 'serve', '--port', '0', '--agent-module', `${ROOT}bench/redis-agents.mjs`, '--grace', 'continue', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve({ child, url: match[1] });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
}

async function startRun(url) {
  const response = await fetch(`${url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'ticker', input: { count: EVENTS, intervalMs: INTERVAL } }) });
  return (await response.json()).id;
}

/** Subscribes and records, per data event, now − the producer's timestamp (ms). */
async function subscribe(url, runId, latencies) {
  const response = await fetch(`${url}/api/runs/${runId}/events`);
  const decoder = new TextDecoder();
  let count = 0;
  const parser = createParser({
    onEvent(message) {
      const received = performance.timeOrigin + performance.now();
      count++;
      if (message.event === 'data') latencies.push(received - JSON.parse(message.data).value);
    },
  });
  for await (const chunk of response.body) parser.feed(decoder.decode(chunk, { stream: true }));
  return count;
}

function summary(latencies) {
  const sorted = [...latencies].sort((left, right) => left - right);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { samples: sorted.length, p50: +at(0.5).toFixed(2), p90: +at(0.9).toFixed(2), p99: +at(0.99).toFixed(2), max: +sorted.at(-1).toFixed(2) };
}

async function latencyOf(produceOn, watchOn, subscribers = 1) {
  const runId = await startRun(produceOn);
  const latencies = [];
  const counts = await Promise.all(Array.from({ length: subscribers }, (_, index) => subscribe(watchOn[index % watchOn.length], runId, latencies)));
  return { ...summary(latencies), eventsPerSubscriber: [...new Set(counts)] };
}

const redis = await startRedis();
const memory = await serve([]);
const [a, b] = await Promise.all([serve(['--redis', redis.url]), serve(['--redis', redis.url])]);
// Warm up each path once.
await latencyOf(memory.url, [memory.url]);
await latencyOf(a.url, [b.url]);

const results = {
  config: { events: EVENTS, intervalMs: INTERVAL, node: process.version },
  memory: await latencyOf(memory.url, [memory.url]),
  redisSameGateway: await latencyOf(a.url, [a.url]),
  redisOtherGateway: await latencyOf(a.url, [b.url]),
};
results.addedP50 = +(results.redisOtherGateway.p50 - results.memory.p50).toFixed(2);
results.addedP99 = +(results.redisOtherGateway.p99 - results.memory.p99).toFixed(2);
const clients = spawnSync('redis-cli', ['-p', String(redis.port), 'info', 'clients'], { encoding: 'utf8' }).stdout;
results.redisConnectedClientsForTwoGateways = Number(/connected_clients:(\d+)/.exec(clients)[1]) - 1;
const fanStart = Date.now();
results.fanOut = { subscribers: SUBSCRIBERS, gateways: 2, ...(await latencyOf(a.url, [a.url, b.url], SUBSCRIBERS)) };
results.fanOut.wallMs = Date.now() - fanStart;
results.fanOut.memoryModeSameLoad = await latencyOf(memory.url, [memory.url], SUBSCRIBERS);
const memoryInfo = spawnSync('redis-cli', ['-p', String(redis.port), '--scan', '--pattern', '*:events'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
const usage = spawnSync('redis-cli', ['-p', String(redis.port), 'memory', 'usage', memoryInfo, 'samples', '0'], { encoding: 'utf8' }).stdout.trim();
results.redisBytesPerRunStream = { events: EVENTS, bytes: Number(usage), bytesPerEvent: +(Number(usage) / EVENTS).toFixed(1) };
console.log(JSON.stringify(results, null, 2));
process.exit(0);
