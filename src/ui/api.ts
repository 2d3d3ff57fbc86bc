/**
 * The page's calls to the gateway's JSON API (events go through `agentwire/client`), signed in
 * with the session's token when there is one.
 *
 * @module
 */
import { authorizedFetch, reportUnauthorized } from './session.js';

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

/** A call refused with 401: the page shows its sign-in instead of the error text. */
export class SignInRequired extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignInRequired';
  }
}

async function json<T>(response: Response): Promise<T> {
  if (response.status === 401) {
    reportUnauthorized();
    throw new SignInRequired('sign in to continue');
  }
  const body = (await response.json().catch(() => ({}))) as T & { error?: { message?: string } };
  if (!response.ok) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
  return body;
}

/** The agents this gateway serves. */
export async function fetchAgents(): Promise<AgentInfo[]> {
  return (await json<{ agents: AgentInfo[] }>(await authorizedFetch('/api/agents'))).agents;
}

/** Recent runs, newest first. */
export async function fetchRuns(): Promise<RunSummary[]> {
  return (await json<{ runs: RunSummary[] }>(await authorizedFetch('/api/runs?limit=50', { cache: 'no-store' }))).runs;
}

/** Starts a run (JSON start; the page then attaches to it by id, which is always safe to retry). */
export async function createRun(agent: string | undefined, input: string): Promise<string> {
  const response = await authorizedFetch('/api/runs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(agent ? { agent, input } : { input }),
  });
  return (await json<{ id: string }>(response)).id;
}

/** Whether the gateway accepts `token`: `rejected` on 401; throws when it cannot be asked. */
export async function checkToken(token: string): Promise<'accepted' | 'rejected'> {
  const response = await authorizedFetch('/api/agents', { cache: 'no-store' }, token);
  if (response.status === 401) return 'rejected';
  if (!response.ok) throw new Error(`the gateway answered HTTP ${response.status}`);
  return 'accepted';
}
