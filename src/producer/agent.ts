/**
 * How an agent is written: an async generator that receives an {@link AgentContext} and yields
 * events, or plain strings (answer text). Its return value becomes the run's `output`.
 *
 * @module
 */
import type { AgentYield, Usage } from '../protocol/events.js';
import type { StepScope } from './scope.js';

/** What an agent may yield: an event body, or a string (a `text.delta` of the final answer). */
export type AgentItem = AgentYield | string;

/**
 * The context each run of an agent receives. It is also the root scope for steps and tools. Its
 * helpers may be called on it or destructured (`async function* ({ input, step, sleep })`); they
 * are accessors on its prototype, so a spread (`{ ...ctx }`) copies its data (`runId`, `agent`,
 * `input`, `stepId`) but none of its helpers: to hand a context on with changes, wrap it
 * (`Object.create(ctx, { input: { value } })`) rather than spread it.
 */
export interface AgentContext extends StepScope {
  /** The run's id. */
  readonly runId: string;
  /** The agent's name as registered. */
  readonly agent: string;
  /** The `input` of the start request, as sent. */
  readonly input: unknown;
  /** Aborts when the run is cancelled (by a user, a shutdown, or the disconnect policy). */
  readonly signal: AbortSignal;
  /** Records token usage; it is sent with `run.finished`. */
  reportUsage(usage: Usage): void;
  /** Resolves after `milliseconds`, or rejects with the abort reason as soon as the run is cancelled. */
  sleep(milliseconds: number): Promise<void>;
}

/**
 * An agent: called once per run. Yield events or strings; return the output; throw to fail the run
 * (throw an {@link AgentError} to show its message to users).
 *
 * @example
 * ```ts
 * const hello: AgentFunction = async function* (ctx) {
 *   yield* ctx.step('Think', async function* (step) {
 *     yield step.log('considering the input');
 *   });
 *   yield `Hello, ${String(ctx.input)}!`;
 * };
 * ```
 */
export type AgentFunction = (context: AgentContext) => AsyncIterable<AgentItem> | Iterable<AgentItem>;

/** An agent with its name and a description for `GET /api/agents`. */
export interface AgentDefinition {
  name: string;
  description?: string;
  run: AgentFunction;
}

/** Names an agent and describes it. */
export function defineAgent(name: string, run: AgentFunction, options: { description?: string } = {}): AgentDefinition {
  return { name, run, ...(options.description === undefined ? {} : { description: options.description }) };
}

/**
 * An error whose message and code are shown to users in `run.failed` (other errors are masked as
 * "the agent failed" unless the gateway's `exposeErrors` is on).
 */
export class AgentError extends Error {
  readonly code: string;
  readonly expose = true;
  constructor(message: string, code = 'AW_AGENT_ERROR', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentError';
    this.code = code;
  }
}
