import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { AgentEvent, EventBody } from '../protocol/events.js';
import { reduceAll } from '../reducer/reduce.js';
import { type StoredEvent, toStoredEvent } from '../store/store.js';
import { type Checkpoint, StateCheckpoints } from './state-checkpoints.js';

/** The producer's side only: no command is sent, so a Redis that only defines commands does. */
const producer = (everyEvents: number) => new StateCheckpoints({ defineCommand: () => {} } as unknown as Redis, everyEvents);
const event = (seq: number, body: EventBody): StoredEvent => toStoredEvent({ ...body, seq, at: 1 } as AgentEvent);
const started = event(1, { type: 'run.started', runId: 'r', agent: 'a', input: null });

describe('StateCheckpoints (the producer side)', () => {
  it('checkpoints every `everyEvents` events with the folded state, and always with the terminal event', () => {
    const checkpoints = producer(10);
    const all = [started];
    const written: Checkpoint[] = [];
    expect(checkpoints.fold('r', [started], false)).toBeUndefined();
    for (let seq = 2; seq <= 35; seq++) {
      const stored = event(seq, { type: 'status', message: `${seq}` });
      all.push(stored);
      const checkpoint = checkpoints.fold('r', [stored], false);
      if (checkpoint) written.push(checkpoint);
    }
    const end = event(36, { type: 'run.finished' });
    all.push(end);
    written.push(checkpoints.fold('r', [end], true) as Checkpoint);
    expect(written.map((checkpoint) => checkpoint.seq)).toEqual([10, 20, 30, 36]);
    for (const checkpoint of written) {
      expect(JSON.parse(checkpoint.json)).toEqual({ seq: checkpoint.seq, state: reduceAll(all.slice(0, checkpoint.seq).map((stored) => stored.event)) });
      expect(checkpoint.eventJson).toBe((all[checkpoint.seq - 1] as StoredEvent).json);
    }
  });

  it('keeps at most six checkpoints, the newest two numbered a multiple of 1, of 4 and of 16, so one is never far before a cursor', () => {
    const checkpoints = producer(1);
    const seqs: number[] = []; // by number - 1
    for (let seq = 1; seq <= 600; seq++) {
      const checkpoint = checkpoints.fold('r', [seq === 1 ? started : event(seq, { type: 'status', message: 'x'.repeat(200) })], false);
      if (!checkpoint) continue;
      seqs.push(checkpoint.seq);
      const number = seqs.length;
      const expected = new Set<number>();
      for (const step of [1, 4, 16]) {
        const newest = number - (number % step);
        for (const kept of [newest, newest - step]) if (kept >= 1 && kept !== number) expected.add(seqs[kept - 1] as number);
      }
      expect(new Set(checkpoint.keep), `checkpoint ${number}`).toEqual(expected);
      expect(checkpoint.keep.length).toBeLessThan(6);
    }
    expect(seqs.length).toBeGreaterThan(64);
  });

  it('writes no more checkpoint bytes than event bytes: a large state waits for as many bytes of events as it takes', () => {
    const checkpoints = producer(1);
    let eventBytes = started.json.length;
    let checkpointBytes = checkpoints.fold('r', [started], false)?.json.length ?? 0;
    const first = checkpointBytes;
    for (let seq = 2; seq <= 2000; seq++) {
      const stored = event(seq, { type: 'text.delta', text: `token ${seq} ` });
      eventBytes += stored.json.length;
      checkpointBytes += checkpoints.fold('r', [stored], false)?.json.length ?? 0;
    }
    // The answer text grows with every event: a checkpoint per event would write ~quadratic bytes.
    expect(checkpointBytes).toBeLessThanOrEqual(2 * eventBytes + first);
  });

  it('does not fold a run it did not see from its first event, and starts over after a gap', () => {
    const checkpoints = producer(1);
    expect(checkpoints.fold('r', [event(5, { type: 'status', message: 'late' })], false)).toBeUndefined();
    expect(checkpoints.fold('r', [started], false)?.seq).toBe(1);
    expect(checkpoints.fold('r', [event(3, { type: 'status', message: 'gap' })], false)).toBeUndefined();
  });
});
