/**
 * A gateway killed mid-stream and the stream resumed on another: what the client saw before the
 * crash, then what a survivor serves after it, for tests that check nothing was lost or repeated.
 */
import type { AgentEvent } from '../../src/protocol/events.js';
import type { ServeProcess } from './process.js';
import { collectEvents, openSse } from './sse-client.js';
import { within } from './wait.js';

/**
 * Watches run `id` through `doomed`, kills that gateway with SIGKILL (a crash, not a shutdown) once
 * `count` events arrived, waits for it to exit, and returns the events it delivered.
 */
export async function watchUntilKilled(doomed: ServeProcess, id: string, count: number): Promise<AgentEvent[]> {
  const connection = await openSse(`${doomed.url}/api/runs/${id}/events`);
  const seen: AgentEvent[] = [];
  try {
    for await (const message of connection.messages) {
      seen.push(JSON.parse(message.data) as AgentEvent);
      if (seen.length === count) doomed.child.kill('SIGKILL');
    }
  } catch {
    // The connection to the killed gateway breaks: that is the point.
  }
  await doomed.stop();
  return seen;
}

/**
 * Resumes run `id` on the gateway at `survivorUrl` after the last of `seen` (by `Last-Event-ID`),
 * allowing 15 s for the stream to end (`what` names that end in the timeout error), and returns
 * `seen` followed by what the survivor sent.
 */
export async function resumeAfter(survivorUrl: string, id: string, seen: readonly AgentEvent[], what: string): Promise<AgentEvent[]> {
  const last = seen.at(-1)?.seq ?? 0;
  const { events } = await within(collectEvents(`${survivorUrl}/api/runs/${id}/events`, { headers: { 'last-event-id': String(last) } }), 15_000, what);
  return [...seen, ...events];
}
