import { describe, expect, it, vi } from 'vitest';
import { agentYieldSchema } from '../protocol/validate.js';
import { setup, eventsOf, expectWellFormed, last, runToEnd, typesOf } from '../../test/helpers/runner-kit.js';
import { within } from '../../test/helpers/wait.js';

describe('Runner: event loop', () => {
  it('an agent yielding 20,000 strings in a sync loop yields to the loop every 64 events: every turn runs its immediates and timers', async () => {
    /** The runner's slice: it goes through the loop after this many events of one turn (EVENTS_PER_TURN). */
    const SLICE = 64;
    let produced = 0;
    const { store, runner } = setup({
      firehose: async function* () {
        for (let index = 0; index < 20_000; index++) {
          produced++;
          yield 'x';
        }
      },
    });
    const record = await runner.start({ input: null });
    // Sample `produced` at every check phase (immediates) and in timers, until the run has ended.
    let ended = false;
    const atImmediates: number[] = [];
    const sampleImmediate = () => {
      atImmediates.push(produced);
      if (!ended) setImmediate(sampleImmediate);
    };
    setImmediate(sampleImmediate);
    const atTimers: number[] = [];
    const sampleTimer = () => {
      atTimers.push(produced);
      if (!ended) setTimeout(sampleTimer, 0);
    };
    setTimeout(sampleTimer, 0);
    await within(runner.whenEnded(record.id), 20_000, 'the firehose run to end');
    ended = true;
    const steps = atImmediates.slice(1).map((value, index) => value - (atImmediates[index] as number));
    // At most one slice between two turns of the loop (a slice may also be cut short by time).
    expect(Math.max(...steps)).toBeLessThanOrEqual(SLICE);
    expect(atImmediates[0]).toBeLessThanOrEqual(SLICE);
    // So the run took at least 20,000 / 64 turns, and a timer ran in many of them before it ended.
    expect(atImmediates.length).toBeGreaterThanOrEqual(Math.floor(20_000 / SLICE));
    expect(atTimers.filter((value) => value < 20_000).length).toBeGreaterThanOrEqual(3);
    const events = await eventsOf(store, record.id);
    expect(events).toHaveLength(20_002);
    expectWellFormed(events);
  });

  it('an agent paced by timers is asked for its next event in the same turn, with no extra hop through the loop', async () => {
    // Each event comes after a 10 ms timer (longer than the runner's time slice). The agent schedules
    // an immediate just before it yields: if the runner went through the loop before asking for the
    // next event, that immediate has run by the time the agent resumes.
    const immediateRanBeforeResume: boolean[] = [];
    const { store, runner } = setup({
      paced: async function* () {
        for (let index = 0; index < 6; index++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          let immediateRan = false;
          setImmediate(() => {
            immediateRan = true;
          });
          yield `t${index}`;
          immediateRanBeforeResume.push(immediateRan);
        }
      },
    });
    const record = await runner.start({ input: null });
    await within(runner.whenEnded(record.id), 10_000, 'the paced run to end');
    expect(immediateRanBeforeResume).toEqual([false, false, false, false, false, false]);
    expectWellFormed(await eventsOf(store, record.id));
  });
});

describe('Runner: what an agent yields is checked once, as it is when yielded', () => {
  it("a helper's event the agent altered before yielding is checked as altered: an added key stays out of the log, a rewritten type fails the run", async () => {
    const { store, runner } = setup({
      altered: async function* (ctx) {
        yield* ctx.step('work', async function* (step) {
          // A look-alike of the runner's own fields: the log keeps its own seq and at.
          yield Object.assign(step.log('line'), { seq: 999, at: 0 });
        });
        const forged = ctx.status('done') as { type: string };
        forged.type = 'run.finished';
        yield forged as never;
      },
    });
    const { events } = await runToEnd(store, runner);
    expect(typesOf(events)).toEqual(['run.started', 'step.started', 'step.log', 'step.finished', 'run.failed']);
    expect(events[2]).toEqual({ type: 'step.log', seq: 3, at: expect.any(Number), stepId: 's1', text: 'line' });
    expect((events[2] as { at: number }).at).toBeGreaterThan(0);
    expect(last(events)).toMatchObject({ error: { code: 'AW_INVALID_EVENT', message: expect.stringMatching(/may not yield "run\.finished"/) } });
    expectWellFormed(events);
  });

  it('the full schema runs for none of the events the helpers build, and once for an object the fast check turns down', async () => {
    const parse = vi.spyOn(agentYieldSchema, 'safeParse');
    try {
      const { store, runner } = setup({
        helpers: async function* (ctx) {
          yield* ctx.step({ title: 'outer', kind: 'agent' }, async function* (outer) {
            yield* outer.step('inner', async function* (inner) {
              yield inner.log('line');
              yield inner.update('renamed');
              yield* inner.tool('search', { q: 1 }, () => 2);
            });
            try {
              yield* outer.tool('broken', null, () => {
                throw new Error('no');
              });
            } catch {
              // the failed call is part of what is measured
            }
          });
          yield ctx.status('done');
          yield ctx.data('rows', []);
        },
        handWritten: async function* () {
          yield { message: 'another key order', type: 'status' } as never;
        },
      });
      const helpers = await runToEnd(store, runner, 'helpers');
      expect(helpers.events).toHaveLength(14);
      expect(parse).not.toHaveBeenCalled();
      const handWritten = await runToEnd(store, runner, 'handWritten');
      expect(handWritten.events[1]).toMatchObject({ type: 'status', message: 'another key order' });
      expect(parse).toHaveBeenCalledTimes(1);
    } finally {
      parse.mockRestore();
    }
  });

  it('the log has the same JSON, key for key, for an event a helper built and for the same event written by hand in another key order', async () => {
    const { store, runner } = setup({
      both: async function* (ctx) {
        yield* ctx.step({ title: 'outer', kind: 'agent' }, async function* (outer) {
          yield* outer.step('inner', async function* (inner) {
            yield* inner.tool('search', { q: 1 }, () => 2);
          });
        });
        yield { kind: 'agent', title: 'outer', stepId: 's9', type: 'step.started' } as never;
        yield { title: 'inner', parentId: 's9', stepId: 's10', type: 'step.started' } as never;
        yield { args: { q: 1 }, name: 'search', stepId: 's10', callId: 'c9', type: 'tool.call' } as never;
        yield { result: 2, callId: 'c9', type: 'tool.result' } as never;
        yield { stepId: 's10', status: 'complete', type: 'step.finished' } as never;
        yield { status: 'complete', stepId: 's9', type: 'step.finished' } as never;
      },
    });
    const record = await runner.start({ input: null });
    await eventsOf(store, record.id);
    // Each line without its seq and at, the hand-written ids renamed to the helpers'.
    const renamed: Record<string, string> = { '"s9"': '"s1"', '"s10"': '"s2"', '"c9"': '"c1"' };
    const json = (await store.read(record.id, 0)).map((stored) =>
      stored.json.replace(/"seq":\d+,"at":\d+,/, '').replace(/"s9"|"s10"|"c9"/g, (id) => renamed[id] as string),
    );
    expect(json.slice(1, 7)).toEqual(json.slice(7, 13));
    expect(json[2]).toBe('{"type":"step.started","stepId":"s2","parentId":"s1","title":"inner"}');
    expect(json[3]).toBe('{"type":"tool.call","callId":"c1","stepId":"s2","name":"search","args":{"q":1}}');
  });
});
