/**
 * RunLog's own counts: the footprint and the events held it keeps as it appends, packs and evicts,
 * so that an append within the bounds reads nothing of the run but its log object.
 */
import { describe, expect, it } from 'vitest';
import type { AgentEvent, EventBody } from '../protocol/events.js';
import { resolveMemoryStoreOptions } from './memory-store-options.js';
import { PackedLog } from './packed-log.js';
import { logBounds, RunLog } from './run-log.js';
import { type RunRecord, type StoredEvent, toStoredEvent } from './store.js';

const RECORD: RunRecord = { id: 'r', agent: 'test', owner: undefined, createdAt: 1, status: 'running', endedAt: undefined, lastSeq: 0 };

function stamp(seq: number, body: EventBody): StoredEvent {
  return toStoredEvent({ ...body, seq, at: 1_700_000_000_000 + seq } as AgentEvent);
}

function newLog(maxEventsPerRun: number, maxBytesPerRun: number): RunLog {
  return new RunLog(RECORD, logBounds(resolveMemoryStoreOptions({ maxEventsPerRun, maxBytesPerRun })), () => {});
}

describe('RunLog counts', () => {
  it('keeps its footprint and events held equal to what its parts hold, through packing, eviction and the end', () => {
    const log = newLog(600, 20_000);
    let footprint = 0;
    for (let seq = 1; seq <= 2_000; seq++) {
      const body: EventBody = seq === 1 ? { type: 'run.started', runId: 'r', agent: 'test', input: null } : { type: 'data', name: `n${seq % 7}`, value: 'x'.repeat(seq % 50) };
      footprint += log.append(stamp(seq, body));
      const parts = log.packed.jsonLength + log.recentBytes + (log.snapshot?.json.length ?? 0);
      expect([log.footprint, footprint, log.held]).toEqual([parts, parts, log.packed.length + log.recent.length]);
    }
    expect(log.evictedSeq).toBeGreaterThan(0);
    footprint += log.append(stamp(2_001, { type: 'run.finished', output: null } as EventBody));
    expect([log.footprint, footprint]).toEqual(Array(2).fill(log.packed.jsonLength + log.recentBytes + (log.snapshot?.json.length ?? 0)));
    expect(log.record).toMatchObject({ lastSeq: 2_001, status: 'finished', endedAt: 1_700_000_000_000 + 2_001 });
  });

  it('reads nothing of its packed events for an append within the bounds', () => {
    const log = newLog(100_000, 16 * 1024 * 1024);
    log.append(stamp(1, { type: 'run.started', runId: 'r', agent: 'test', input: null }));
    const reads: string[] = [];
    log.packed = new Proxy(log.packed, {
      get(target, key) {
        reads.push(String(key));
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as PackedLog;
    for (let seq = 2; seq <= 100; seq++) log.append(stamp(seq, { type: 'data', name: 'b', value: seq }));
    expect(reads).toEqual([]);
    expect(log.record.lastSeq).toBe(100);
  });
});
