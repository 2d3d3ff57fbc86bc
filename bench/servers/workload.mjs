// The workload every bench server serves, and the probe the orchestrator reads from each server
// process: events of `bytes` bytes of JSON carrying their send time, `n` of them, at `rate` events/s
// (0: as fast as the server can), and a count of what the producer produced and when its `finally` ran.
//
// Servers speak to the orchestrator over stdio, one JSON object per line: they print
// `{"ready":port}` once listening; on a stdin line `query <epochMs>` they print
// `{"probe":{…}}` (events produced in total and after that instant, `finally` time); on `reset` the
// probe starts over.
import { createInterface } from 'node:readline';

/** High-resolution epoch milliseconds, comparable across processes on one machine. */
export const now = () => performance.timeOrigin + performance.now();

/** Parses the workload from query parameters or a JSON object. */
export function workloadFrom(source) {
  const get = (name, fallback) => {
    const value = typeof source.get === 'function' ? source.get(name) : source[name];
    const number = Number(value ?? fallback);
    return Number.isFinite(number) ? number : fallback;
  };
  return {
    n: Math.min(get('n', 100), 50_000_000),
    bytes: Math.max(16, Math.min(get('bytes', 64), 1 << 20)),
    rate: Math.max(0, get('rate', 0)),
    startAt: get('startAt', 0),
  };
}

/**
 * The event object `i` (1-based) of a workload: `{ t, i, p }` with `p` padding its JSON to about
 * `bytes` bytes. `t` is the send time (epoch ms, fractional).
 */
export function createEventMaker(bytes) {
  const base = JSON.stringify({ t: now(), i: 1_000_000, p: '' }).length;
  const padding = 'x'.repeat(Math.max(0, bytes - base));
  return (i) => ({ t: now(), i, p: padding });
}

/** Resolves after `ms` (at once for ms ≤ 0). */
export const sleep = (ms) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

/** How long to wait before event `i` (1-based) of a paced workload started at `startedAt`. */
export function delayBefore(workload, startedAt, i) {
  if (workload.rate <= 0) return 0;
  return startedAt + ((i - 1) * 1000) / workload.rate - now();
}

/**
 * Events an unpaced producer makes between two turns of the event loop. A real upstream (a model's
 * HTTP response, a file, a queue) arrives in chunks, each read in its own macrotask; a producer that
 * never leaves the microtask queue starves every server that writes on `drain` or a timer, which
 * measures the harness, not the server.
 */
export const EVENTS_PER_READ = 64;

const ioTurn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * What every server's producer waits for before event `i`: the pacing delay at a rate, or one I/O
 * turn every {@link EVENTS_PER_READ} events when unpaced; `null` when there is nothing to wait for
 * (so the caller skips an `await`). `sleepFor` is the framework's own sleep where its docs use one.
 */
export function beforeEvent(workload, startedAt, i, sleepFor = sleep) {
  const wait = delayBefore(workload, startedAt, i);
  if (wait > 0) return sleepFor(wait);
  if (workload.rate <= 0 && i % EVENTS_PER_READ === 0) return ioTurn();
  return null;
}

/**
 * The workload as an async generator of event objects (or of `as(event)`), paced by timers, counted
 * by the probe, with `finally` recorded — for servers whose docs stream from a generator
 * (better-sse, Fastify).
 */
export async function* workloadEvents(workload, as = (event) => event) {
  const make = createEventMaker(workload.bytes);
  const startedAt = now();
  try {
    for (let i = 1; i <= workload.n; i++) {
      const before = beforeEvent(workload, startedAt, i);
      if (before) await before;
      produced();
      yield as(make(i));
    }
  } finally {
    finalised();
  }
}

// --- the probe ------------------------------------------------------------------------------
const keepTimes = process.env.BENCH_PROBE_TIMES === '1';
const TIMES_CAP = 4_000_000;
const probe = { produced: 0, finallyCount: 0, lastFinallyAt: 0, times: null, timesLength: 0 };

/** Call once per event the producer produced. */
export function produced() {
  probe.produced++;
  if (keepTimes) {
    probe.times ??= new Float64Array(TIMES_CAP);
    if (probe.timesLength < TIMES_CAP) probe.times[probe.timesLength++] = now();
  }
}

/** Call from the producer's `finally`. */
export function finalised() {
  probe.finallyCount++;
  probe.lastFinallyAt = now();
}

function producedAfter(at) {
  if (!probe.times) return null;
  let low = 0;
  let high = probe.timesLength;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (probe.times[middle] <= at) low = middle + 1;
    else high = middle;
  }
  return probe.timesLength - low;
}

/** Announces the port and answers the orchestrator's probe queries on stdin. */
export function announce(port) {
  process.stdout.write(`${JSON.stringify({ ready: port })}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const [command, argument] = line.trim().split(' ');
    if (command === 'reset') {
      probe.produced = 0;
      probe.finallyCount = 0;
      probe.lastFinallyAt = 0;
      probe.timesLength = 0;
      process.stdout.write('{"reset":true}\n');
    } else if (command === 'query') {
      const at = Number(argument);
      process.stdout.write(
        `${JSON.stringify({
          probe: {
            produced: probe.produced,
            producedAfter: producedAfter(at),
            finallyCount: probe.finallyCount,
            lastFinallyAt: probe.lastFinallyAt,
          },
        })}\n`,
      );
    }
  });
  lines.on('close', () => process.exit(0));
}

/** Resolves when `response` drains or closes (a hand-written server's backpressure). */
export function drainOrClose(response) {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

/** An SSE frame as every hand-written server sends it. */
export const frame = (id, json) => `id: ${id}\nevent: data\ndata: ${json}\n\n`;

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/** Port from the environment (0: any free port). */
export const port = () => Number(process.env.PORT ?? 0);

/**
 * A fan-out channel for the hand-written servers: the first subscriber of a `startAt` starts a
 * ticker at that instant which calls `broadcast(json, i)` n times at `rate`, then `end()`.
 */
export function createFanout() {
  const channels = new Map();
  return {
    join(workload, subscriber) {
      let channel = channels.get(workload.startAt);
      if (!channel) {
        channel = { subscribers: new Set() };
        channels.set(workload.startAt, channel);
        const make = createEventMaker(workload.bytes);
        const tick = async () => {
          await sleep(workload.startAt - now());
          const startedAt = now();
          for (let i = 1; i <= workload.n; i++) {
            const before = beforeEvent(workload, startedAt, i);
            if (before) await before;
            const json = JSON.stringify(make(i));
            for (const each of channel.subscribers) each.send(json, i);
          }
          for (const each of channel.subscribers) each.end();
          channels.delete(workload.startAt);
        };
        tick();
      }
      channel.subscribers.add(subscriber);
      return () => channel.subscribers.delete(subscriber);
    },
  };
}
