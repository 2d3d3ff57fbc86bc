/**
 * What bounds a run's state beyond its text and logs. The store keeps a run's whole footprint (its
 * retained events and the `run.snapshot` of the evicted ones) within `maxBytesPerRun`, and the
 * state bounds its steps, tool calls and `data` entries too (the oldest finished ones dropped
 * first, counted in `truncated`): an agent that opens many steps or calls many tools keeps a
 * replay from 0 within the bound (before the bound, 250,000 `step.started` at the default 16 MiB
 * gave a 37.6 MiB replay from 0).
 */
import { describe, expect, it } from 'vitest';
import type { AgentEvent, EventBody } from '../protocol/events.js';
import { MemoryStore } from './memory-store.js';
import { type StoredEvent, toStoredEvent } from './store.js';

const MAX_BYTES = 256 * 1024;

/** The bytes a replay from 0 sends once `count` events made by `make` were appended to a run bounded at {@link MAX_BYTES}. */
async function replayBytes(count: number, make: (index: number) => EventBody): Promise<number> {
  const store = new MemoryStore({ maxBytesPerRun: MAX_BYTES });
  try {
    await store.createRun({ id: 'run_parts', agent: 'test', owner: undefined, createdAt: 0, status: 'running', endedAt: undefined, lastSeq: 0 });
    const stamp = (seq: number, body: EventBody): StoredEvent => toStoredEvent({ ...body, seq, at: 1_700_000_000_000 + seq } as AgentEvent);
    store.openAppender('run_parts')(stamp(1, { type: 'run.started', runId: 'run_parts', agent: 'test', input: null }));
    for (let index = 0; index < count; index++) store.openAppender('run_parts')(stamp(index + 2, make(index)));
    return (await store.read('run_parts', 0)).reduce((sum, stored) => sum + stored.json.length, 0);
  } finally {
    await store.close();
  }
}

describe("a run's footprint with many steps or tool calls", () => {
  // The bound as documented: maxBytesPerRun, passed by at most 1/16 of it when the state alone nears it.
  const bound = MAX_BYTES + MAX_BYTES / 16;

  it('6,000 step.started keep a replay from 0 within maxBytesPerRun', async () => {
    expect(await replayBytes(6_000, (index) => ({ type: 'step.started', stepId: `s${index}`, title: 'Step' }))).toBeLessThanOrEqual(bound);
  });

  it('5,000 tool calls keep a replay from 0 within maxBytesPerRun', async () => {
    expect(await replayBytes(5_000, (index) => ({ type: 'tool.call', callId: `c${index}`, name: 'search', args: { q: 'x'.repeat(100) } }))).toBeLessThanOrEqual(bound);
  });
});
