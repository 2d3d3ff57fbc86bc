// agentwire: the built gateway (dist/) with a bench agent that yields the workload as `data` events,
// mounted exactly as the README's "Mount it in your app" shows (`createServer(gateway.listener)`,
// Node's default backlog), so every peer meets the same accept queue.
// `POST /api/runs` (agent `bench`, Accept: text/event-stream) starts a run and streams it; agent
// `fanout` waits until `startAt`, so subscribers can attach first. Grace from BENCH_GRACE_MS.
import { createServer } from 'node:http';
import { createGateway } from '../../dist/gateway/index.js';
import { defineAgent } from '../../dist/index.js';
import { beforeEvent, createEventMaker, finalised, now, port, produced, workloadFrom, announce } from './workload.mjs';

async function* workloadAgent(ctx) {
  const workload = workloadFrom(ctx.input ?? {});
  const make = createEventMaker(workload.bytes);
  try {
    if (workload.startAt > 0) await ctx.sleep(Math.max(0, workload.startAt - now()));
    const startedAt = now();
    for (let i = 1; i <= workload.n; i++) {
      const before = beforeEvent(workload, startedAt, i, (ms) => ctx.sleep(ms));
      if (before) await before;
      produced();
      yield { type: 'data', name: 'b', value: make(i) };
    }
  } finally {
    finalised();
  }
}

const grace = process.env.BENCH_GRACE_MS;
const gateway = createGateway({
  agents: [defineAgent('bench', workloadAgent), defineAgent('fanout', workloadAgent)],
  graceMs: grace === undefined ? undefined : grace === 'continue' ? 'continue' : Number(grace),
  uiDir: false,
  onAgentError: () => {},
  // Sized for the workloads (up to 5,000 concurrent runs), as a deployment expecting them would be;
  // the defaults (1,000 runs) answer the 1,001st with 429.
  limits: { maxRuns: 100_000, maxStreams: 100_000, maxSubscribersPerRun: 10_000 },
});
const server = createServer(gateway.listener);
server.on('upgrade', gateway.upgrade);
server.listen(port(), '127.0.0.1', () => announce(server.address().port));
