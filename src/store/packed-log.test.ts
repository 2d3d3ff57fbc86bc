import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AgentEvent, EventBody } from '../protocol/events.js';
import { PackedLog } from './packed-log.js';
import { type StoredEvent, toStoredEvent } from './store.js';

function stamp(seq: number, body: EventBody): StoredEvent {
  return toStoredEvent({ ...body, seq, at: 1_700_000_000_000 + seq } as AgentEvent);
}

const texts = ['plain ascii', 'ünïcödé', '漢字とかな', 'emoji 🚀🧪 and a lone \ud800 surrogate', '', 'x'.repeat(5000)];

describe('PackedLog', () => {
  it('gives back every pushed event with its seq, type, JSON and object, whatever its characters', () => {
    const log = new PackedLog();
    const events = Array.from({ length: 600 }, (_, index) =>
      index % 3 === 0
        ? stamp(index + 1, { type: 'text.delta', text: texts[index % texts.length] as string })
        : stamp(index + 1, { type: 'data', name: `n${index}`, value: { text: texts[index % texts.length], index } }),
    );
    // In batches of every size, as the store packs them.
    for (let index = 0, size = 1; index < events.length; index += size, size = (size * 7) % 23 || 1) log.append(events.slice(index, index + size));
    expect(log.length).toBe(600);
    expect(log.firstSeq).toBe(1);
    events.forEach((event, index) => {
      const read = log.at(index);
      expect(read.seq).toBe(event.seq);
      expect(read.type).toBe(event.type);
      expect(read.json).toBe(event.json);
      expect(read.event).toEqual(JSON.parse(read.json));
    });
    expect(log.jsonLength).toBe(events.reduce((sum, event) => sum + event.json.length, 0));
  });

  it('drops from the front and keeps appending in order, reusing its buffers', () => {
    const log = new PackedLog();
    let next = 1;
    const push = (count: number) => {
      for (let index = 0; index < count; index++, next++) log.append([stamp(next, { type: 'text.delta', text: `token ${next} ` })]);
    };
    push(1000);
    log.dropFirst(990);
    expect(log.firstSeq).toBe(991);
    expect(log.length).toBe(10);
    push(5000);
    expect(log.at(0).seq).toBe(991);
    expect(log.at(log.length - 1).seq).toBe(6000);
    expect(JSON.parse(log.at(9).json)).toMatchObject({ seq: 1000, text: 'token 1000 ' });
    log.dropFirst(1_000_000);
    expect(log.length).toBe(0);
    expect(log.jsonLength).toBe(0);
    expect(log.firstSeq).toBe(6001);
    push(1);
    expect(log.at(0).seq).toBe(6001);
  });

  it('refuses an event out of sequence or of an unknown type, and a bad batch leaves nothing behind', () => {
    const log = new PackedLog(5);
    expect(() => log.append([stamp(5, { type: 'status', message: 'a' }), stamp(7, { type: 'status', message: 'b' })])).toThrow(/expected seq 6, got 7/);
    expect(() => log.append([stamp(6, { type: 'status', message: 'x' })])).toThrow(/expected seq 5, got 6/);
    expect(() => log.append([{ seq: 5, type: 'nope' as never, json: '{}', event: {} as AgentEvent }])).toThrow(/unknown event type/);
    expect(log.length).toBe(0);
  });

  it('matches a plain array under any interleaving of pushes and drops', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ push: fc.array(fc.string({ maxLength: 300 }), { maxLength: 9 }) }), fc.record({ drop: fc.nat(40) })), {
          maxLength: 200,
        }),
        (operations) => {
          const log = new PackedLog();
          const reference: StoredEvent[] = [];
          let firstSeq = 1;
          for (const operation of operations) {
            if ('push' in operation) {
              const batch = operation.push.map((text, offset) => stamp(firstSeq + reference.length + offset, { type: 'text.delta', text }));
              log.append(batch);
              reference.push(...batch);
            } else {
              const dropped = Math.min(operation.drop, reference.length);
              reference.splice(0, dropped);
              firstSeq += dropped;
              log.dropFirst(operation.drop);
            }
          }
          expect(log.length).toBe(reference.length);
          expect(log.firstSeq).toBe(firstSeq);
          expect(log.jsonLength).toBe(reference.reduce((sum, event) => sum + event.json.length, 0));
          reference.forEach((event, index) => expect(log.at(index).json).toBe(event.json));
        },
      ),
      { numRuns: 200 },
    );
  });
});
