/**
 * Loading user agents from a module (`--agent-module ./my-agents.js`).
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AgentDefinition, AgentFunction } from '../producer/agent.js';
import type { AgentsInput } from '../runner/agents.js';
import { UsageError } from './usage-error.js';

/**
 * Imports `path` (relative to the working directory) and collects its agents: a default export
 * that is a record `{ name: agent }`, a list of definitions, or one definition; otherwise every
 * named export that is an agent function or definition, under its export name.
 */
export async function loadAgentModule(path: string): Promise<AgentsInput> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new UsageError(`--agent-module: no such file ${absolute}`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`--agent-module: could not import ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const fromDefault = agentsFrom(module.default);
  if (fromDefault) return fromDefault;
  const named: Record<string, AgentFunction | AgentDefinition> = {};
  for (const [name, value] of Object.entries(module)) {
    if (name === 'default') continue;
    if (typeof value === 'function' || isDefinition(value)) named[isDefinition(value) ? value.name : name] = value as AgentFunction;
  }
  if (Object.keys(named).length === 0) {
    throw new UsageError(
      `--agent-module: ${path} exports no agents; export async generator functions (export async function* myAgent(ctx) {…}) or a default { name: agent } object`,
    );
  }
  return named;
}

function isDefinition(value: unknown): value is AgentDefinition {
  return typeof value === 'object' && value !== null && typeof (value as AgentDefinition).name === 'string' && typeof (value as AgentDefinition).run === 'function';
}

function agentsFrom(value: unknown): AgentsInput | undefined {
  if (value === undefined || value === null) return undefined;
  if (isDefinition(value)) return [value];
  if (typeof value === 'function') return { default: value as AgentFunction };
  if (Array.isArray(value)) return value as AgentDefinition[];
  if (typeof value === 'object') return value as Record<string, AgentFunction | AgentDefinition>;
  return undefined;
}
