import { describe, expect, it } from 'vitest';
import { setup, eventsOf, expectWellFormed } from '../../test/helpers/runner-kit.js';
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
