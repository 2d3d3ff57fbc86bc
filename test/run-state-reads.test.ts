/**
 * Reads of a run's state cost no parse of its log: `GET /api/runs/:id` serves the state the store
 * folded as events were appended, the AG-UI and AI SDK resume preludes start from the store's state
 * at the cursor, and `HEAD` builds no format at all. Checked on a run of 100,000 events by counting
 * `JSON.parse` calls (the log keeps each event as its JSON: a re-read parses every event).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AgentEvent, EventBody } from '../src/protocol/events.js';
import { demoAgents } from '../src/demo/demo-agents.js';
import { reduceAll } from '../src/reducer/reduce.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { type StoredEvent, toStoredEvent } from '../src/store/store.js';
import { type TestServer, startNodeServer } from './helpers/servers.js';

const RUN = 'run_hundred_thousand';
const COUNT = 100_000;

function events(): StoredEvent[] {
  const bodies: EventBody[] = [{ type: 'run.started', runId: RUN, agent: 'demo', input: 'q' }];
  for (let index = 1; bodies.length < COUNT - 1; index++) {
    const stepId = `s${Math.floor(index / 10)}`;
    if (index % 10 === 0) bodies.push({ type: 'step.started', stepId, title: `Step ${stepId}` });
    else if (index % 10 === 9) bodies.push({ type: 'step.finished', stepId, status: 'complete' });
    else if (index % 2 === 0) bodies.push({ type: 'step.log', stepId, text: `line ${index}` });
    else bodies.push({ type: 'text.delta', text: 'word ' });
  }
  bodies.push({ type: 'run.finished', output: 'done' });
  return bodies.map((body, index) => toStoredEvent({ ...body, seq: index + 1, at: 1_700_000_000_000 + index } as AgentEvent));
}

describe('reads of a 100,000-event run', () => {
  let server: TestServer;
  let store: MemoryStore;
  let all: StoredEvent[];

  beforeAll(async () => {
    store = new MemoryStore();
    all = events();
    await store.createRun({ id: RUN, agent: 'demo', owner: undefined, createdAt: Date.now(), status: 'running', endedAt: undefined, lastSeq: 0 });
    for (let start = 0; start < all.length; start += 1000) await store.append(RUN, all.slice(start, start + 1000));
    server = await startNodeServer({ agents: demoAgents({ speed: 0 }), store });
  });

  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  /** Runs `request` counting the JSON.parse calls made meanwhile (the gateway runs in this process). */
  async function counting<T>(request: () => Promise<T>): Promise<{ result: T; parses: number }> {
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const result = await request();
      return { result, parses: parse.mock.calls.length };
    } finally {
      parse.mockRestore();
    }
  }

  it('GET /api/runs/:id serves the folded state without re-parsing the log', async () => {
    const { result, parses } = await counting(async () => (await fetch(`${server.url}/api/runs/${RUN}`)).json());
    expect(parses).toBeLessThan(10);
    expect(result).toEqual(JSON.parse(JSON.stringify(reduceAll(all.map((stored) => stored.event)))));
  });

  it('HEAD of a format builds no history: neither the log nor the state is read', async () => {
    const read = vi.spyOn(store, 'read');
    const state = vi.spyOn(store, 'state');
    try {
      for (const format of ['ag-ui', 'ai-sdk']) {
        const response = await fetch(`${server.url}/api/runs/${RUN}/events?format=${format}`, { method: 'HEAD', headers: { 'last-event-id': '99990' } });
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toContain('text/event-stream');
        if (format === 'ai-sdk') expect(response.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
      }
      expect(read).not.toHaveBeenCalled();
      expect(state).not.toHaveBeenCalled();
    } finally {
      read.mockRestore();
      state.mockRestore();
    }
  });

  it.each(['ag-ui', 'ai-sdk'])('a %s stream resumed near the end parses at most a checkpoint interval, not the log', async (format) => {
    const { result, parses } = await counting(async () => {
      const response = await fetch(`${server.url}/api/runs/${RUN}/events?format=${format}`, { headers: { 'last-event-id': String(COUNT - 10) } });
      return response.text();
    });
    // At most the events since the newest checkpoint (one every 1/16 of maxEventsPerRun), and the ten sent.
    expect(parses).toBeLessThan(100_000 / 16 + 100);
    expect(result).toContain(format === 'ag-ui' ? '"RUN_FINISHED"' : '"finish"');
    if (format === 'ag-ui') expect(result).toContain('"STATE_SNAPSHOT"');
  });
});
