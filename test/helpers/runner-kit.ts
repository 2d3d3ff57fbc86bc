/**
 * What the runner's test files share: a runner over a fresh memory store (shut down after each
 * test), a run's whole log, and checks of its shape.
 */
import { afterEach, expect } from 'vitest';
import type { AgentEvent, EventOf, EventType } from '../../src/protocol/events.js';
import type { AgentsInput } from '../../src/runner/agents.js';
import { Runner, type RunnerOptions } from '../../src/runner/runner.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { RunStore } from '../../src/store/store.js';
import { within } from './wait.js';

/** Run after the current test, newest first. */
export const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A runner over a fresh memory store; both are shut down and closed after the test. */
export function setup(agents: AgentsInput, options: Partial<Omit<RunnerOptions, 'store' | 'agents'>> = {}) {
  const store = new MemoryStore();
  const runner = new Runner({ store, agents, graceMs: 'continue', onAgentError: () => {}, ...options });
  cleanups.push(async () => {
    await runner.shutdown('test cleanup');
    await store.close();
  });
  return { store, runner };
}

/** Every event of a run, read through the store until the terminal event. */
export async function eventsOf(store: RunStore, runId: string): Promise<AgentEvent[]> {
  const events: AgentEvent[] = [];
  const reading = (async () => {
    for await (const batch of store.follow(runId, 0)) events.push(...batch.map((stored) => stored.event));
  })();
  await within(reading, 10_000, `the log of ${runId} to end`);
  return events;
}

/** Starts a run and returns its whole log once it has ended. */
export async function runToEnd(store: RunStore, runner: Runner, agent?: string, input: unknown = null) {
  const record = await runner.start({ agent, input });
  const events = await eventsOf(store, record.id);
  return { record, events };
}

export function typesOf(events: readonly AgentEvent[]): EventType[] {
  return events.map((event) => event.type);
}

/** seq is 1…n with no gap, exactly one terminal event and it is last, every step started is finished once. */
export function expectWellFormed(events: readonly AgentEvent[]): void {
  expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
  expect(events[0]?.type).toBe('run.started');
  const terminals = events.filter((event) => ['run.finished', 'run.failed', 'run.cancelled'].includes(event.type));
  expect(terminals).toHaveLength(1);
  expect(terminals[0]).toBe(events.at(-1));
  const started = events.filter((event) => event.type === 'step.started').map((event) => event.stepId);
  const finished = events.filter((event) => event.type === 'step.finished').map((event) => event.stepId);
  expect([...finished].sort()).toEqual([...started].sort());
  // Children finish before parents.
  for (const event of events) {
    if (event.type !== 'step.started' || event.parentId === undefined) continue;
    const childEnd = finished.indexOf(event.stepId);
    const parentEnd = finished.indexOf(event.parentId);
    expect(childEnd, `step ${event.stepId} finishes before its parent ${event.parentId}`).toBeLessThan(parentEnd);
  }
}

export function only<T extends EventType>(events: readonly AgentEvent[], type: T): EventOf<T>[] {
  return events.filter((event): event is EventOf<T> => event.type === type);
}

export function last(events: readonly AgentEvent[]): AgentEvent {
  return events.at(-1) as AgentEvent;
}


export function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}
