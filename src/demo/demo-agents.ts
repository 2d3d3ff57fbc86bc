/**
 * The demo agents `agentwire serve` runs when given no agent module: a research assistant with
 * nested steps, logs, a tool call, status lines and an answer streamed at a realistic, variable
 * rate; an agent that fails inside a step; and a long quiet one that exercises heartbeats.
 *
 * @module
 */
import { AgentError, type AgentContext, type AgentDefinition, defineAgent } from '../producer/agent.js';
import { answerFor, searchResultsFor } from './demo-content.js';

/** Options of {@link demoAgents}. */
export interface DemoOptions {
  /**
   * Speed multiplier: 1 streams the answer at a varying 15–80 tokens/s with human-scale pauses
   * between steps, 2 twice as fast, 0 as fast as possible (benchmarks). @defaultValue 1
   */
  speed?: number;
  /** How long the `quiet` agent stays silent at speed 1, in ms. @defaultValue 60000 */
  quietMs?: number;
}

/** The demo agents: `demo` (default), `failing`, `quiet`. */
export function demoAgents(options: DemoOptions = {}): AgentDefinition[] {
  const speed = options.speed ?? 1;
  if (!Number.isFinite(speed) || speed < 0) throw new RangeError(`demo speed must be a non-negative number, got ${speed}`);
  const pause = (ctx: AgentContext, milliseconds: number) => (speed === 0 ? Promise.resolve() : ctx.sleep(milliseconds / speed));
  const quietMs = options.quietMs ?? 60_000;

  /** Streams `text` word by word at a rate drifting between 15 and 80 tokens/s. */
  async function* stream(ctx: AgentContext, text: string, stepId?: string): AsyncGenerator<string | { type: 'text.delta'; text: string; stepId: string }> {
    let rate = 15 + Math.random() * 65;
    for (const token of text.match(/\s*\S+\s*?/g) ?? []) {
      rate = Math.min(80, Math.max(15, rate + (Math.random() - 0.5) * 20));
      await pause(ctx, 1000 / rate);
      yield stepId === undefined ? token : { type: 'text.delta', text: token, stepId };
    }
  }

  const demo = defineAgent(
    'demo',
    async function* (ctx) {
      const question = questionOf(ctx.input);
      yield ctx.status('Planning…');
      yield* ctx.step({ title: 'Plan the answer', kind: 'thought' }, async function* (step) {
        yield step.log(`Question: ${question}`);
        await pause(ctx, 300);
        yield* stream(ctx, 'I should look this up rather than answer from memory, then check the sources agree.', step.stepId);
      });
      const sources = yield* ctx.step({ title: 'Research', kind: 'agent' }, async function* (research) {
        const results = yield* research.step({ title: 'Search the knowledge base', kind: 'search' }, async function* (search) {
          yield search.status('Searching vector index…');
          yield search.log('embedding the question');
          await pause(ctx, 250);
          return yield* search.tool('search', { query: question, topK: 3 }, async () => {
            await pause(ctx, 600);
            return searchResultsFor(question);
          });
        });
        yield* research.step({ title: 'Read the sources', kind: 'thought' }, async function* (read) {
          for (const result of results) {
            await pause(ctx, 200);
            yield read.log(`read “${result.title}” (score ${result.score})`);
          }
          yield read.update(`Read ${results.length} sources`);
        });
        return results;
      });
      yield ctx.status('Writing the answer…');
      const answer = answerFor(question);
      yield* stream(ctx, answer);
      const outputTokens = answer.split(/\s+/).length;
      ctx.reportUsage({ inputTokens: question.split(/\s+/).length, outputTokens });
      return { sources: sources.map((source) => source.title) };
    },
    { description: 'A research assistant: plans, searches (a tool call), reads sources in nested steps, then streams its answer.' },
  );

  const failing = defineAgent(
    'failing',
    async function* (ctx) {
      yield ctx.status('Fetching data…');
      yield* ctx.step({ title: 'Fetch the quarterly report', kind: 'tool' }, async function* (step) {
        yield step.log('GET https://reports.example.invalid/q3');
        await pause(ctx, 400);
        yield step.log('retrying after 503');
        yield* step.tool('http.get', { url: 'https://reports.example.invalid/q3' }, async () => {
          await pause(ctx, 400);
          throw new AgentError('The reports service answered 503 Service Unavailable twice.', 'UPSTREAM_UNAVAILABLE');
        });
      });
    },
    { description: 'Fails inside a step (a tool call that errors), to show error states.' },
  );

  const quiet = defineAgent(
    'quiet',
    async function* (ctx) {
      yield* ctx.step({ title: 'Waiting for a slow batch job', kind: 'tool' }, async function* (step) {
        yield step.log(`submitted; the job takes about ${Math.round(quietMs / 1000 / (speed || 1))} s and says nothing meanwhile`);
        await (speed === 0 ? Promise.resolve() : ctx.sleep(quietMs / speed));
        yield step.log('job finished');
      });
      yield 'The batch job finished. The stream stayed open thanks to heartbeats.';
    },
    { description: 'Stays silent for a long time inside a step (heartbeats keep the stream alive).' },
  );

  return [demo, failing, quiet];
}

/** The question in an input: a string, or the `prompt` of an object (as `POST /api/chat` sends). */
function questionOf(input: unknown): string {
  if (typeof input === 'string') return input;
  const prompt = (input as { prompt?: unknown } | null)?.prompt;
  return typeof prompt === 'string' ? prompt : JSON.stringify(input ?? '');
}
