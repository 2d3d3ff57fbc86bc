/**
 * The page's calls to the gateway's JSON API (events go through `agentwire/client`).
 *
 * @module
 */

/** An agent from `GET /api/agents`. */
export interface AgentInfo {
  name: string;
  description?: string;
}

/** A run from `GET /api/runs`. */
export interface RunSummary {
  id: string;
  agent: string;
  createdAt: number;
  status: 'running' | 'finished' | 'failed' | 'cancelled';
  endedAt?: number;
}

async function json<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => ({}))) as T & { error?: { message?: string } };
  if (!response.ok) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
  return body;
}

/** The agents this gateway serves. */
export async function fetchAgents(): Promise<AgentInfo[]> {
  return (await json<{ agents: AgentInfo[] }>(await fetch('/api/agents'))).agents;
}

/** Recent runs, newest first. */
export async function fetchRuns(): Promise<RunSummary[]> {
  return (await json<{ runs: RunSummary[] }>(await fetch('/api/runs?limit=50', { cache: 'no-store' }))).runs;
}

/** Starts a run (JSON start; the page then attaches to it by id, which is always safe to retry). */
export async function createRun(agent: string | undefined, input: string): Promise<string> {
  const response = await fetch('/api/runs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(agent ? { agent, input } : { input }),
  });
  return (await json<{ id: string }>(response)).id;
}
