/**
 * The context an agent's run receives, and calling the agent with it.
 *
 * @module
 */
import type { Usage } from '../protocol/events.js';
import { AgentwireError } from '../protocol/errors.js';
import type { AgentContext, AgentItem } from '../producer/agent.js';
import { Scope } from '../producer/scope.js';
import type { LiveRun } from './live-run.js';
import type { AgentErrorRun } from './options.js';
import { createSleeper } from './sleep.js';

/** An agent's iterator, sync or async. */
export type AgentIterator = Iterator<AgentItem, unknown> | AsyncIterator<AgentItem, unknown>;

/**
 * `ctx`: the run's top-level scope plus its id, agent, input, signal, usage report and sleep. Like
 * the scope's helpers, `signal`, `sleep` and `reportUsage` are getters (destructuring them works);
 * each is made the first time it is read, so a run pays only for what its agent uses. A spread of
 * the context (`{ ...ctx }`) copies its data, not its helpers; a wrapper (`Object.create(ctx)`)
 * keeps them all.
 */
class RunContext extends Scope implements AgentContext {
  readonly runId: string;
  readonly agent: string;
  readonly input: unknown;
  private readonly _run: LiveRun;
  private _sleep: ((milliseconds: number) => Promise<void>) | undefined;
  private _reportUsage: ((usage: Usage) => void) | undefined;

  constructor(run: LiveRun, input: unknown) {
    super(run, undefined);
    this._run = run;
    this.runId = run.id;
    this.agent = run.agent.name;
    this.input = input;
  }

  get signal(): AbortSignal {
    return this._run.signal;
  }

  get sleep(): (milliseconds: number) => Promise<void> {
    return (this._sleep ??= createSleeper(this._run));
  }

  get reportUsage(): (usage: Usage) => void {
    const run = this._run;
    return (this._reportUsage ??= (usage) => {
      run.usage = usage;
    });
  }
}

/**
 * Calls the run's agent and returns its iterator, with a clear error when it is not a generator.
 * `onAgentError` is told what a plain async function agent rejects with (it runs anyway).
 */
export function openAgent(run: LiveRun, input: unknown, onAgentError: (error: unknown, run: AgentErrorRun) => void): AgentIterator {
  const produced: unknown = run.agent.run(new RunContext(run, input));
  const iterable = produced as Partial<AsyncIterable<AgentItem> & Iterable<AgentItem>> | null;
  const iterator = iterable?.[Symbol.asyncIterator]?.() ?? iterable?.[Symbol.iterator]?.();
  if (typeof produced === 'string' || !iterator) {
    if (produced instanceof Promise) {
      // A plain async function runs anyway: report its own rejection, and keep the one caused by
      // this run's abort from becoming an unhandled rejection (which would crash the process).
      produced.catch((error: unknown) => {
        if (!run.aborted || error !== run.abortReason) onAgentError(error, { runId: run.id, agent: run.agent.name });
      });
    }
    throw new AgentwireError(
      'AW_INVALID_EVENT',
      `agent "${run.agent.name}" returned ${produced instanceof Promise ? 'a Promise' : typeof produced}; an agent must be an async generator function (async function*)`,
    );
  }
  return iterator as AgentIterator;
}
