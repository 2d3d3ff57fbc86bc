/**
 * The registry of agents a runner serves, normalised from what users pass.
 *
 * @module
 */
import { AgentwireError } from '../protocol/errors.js';
import type { AgentDefinition, AgentFunction } from '../producer/agent.js';

/** Agents as users pass them: a record of functions or definitions, or a list of definitions. */
export type AgentsInput = Record<string, AgentFunction | AgentDefinition> | readonly AgentDefinition[];

/** Normalised agents, in the order given; the first is the default. */
export class AgentRegistry {
  readonly #agents = new Map<string, AgentDefinition>();

  constructor(input: AgentsInput) {
    const entries: [string, AgentFunction | AgentDefinition][] = Array.isArray(input)
      ? (input as readonly AgentDefinition[]).map((definition) => [definition?.name, definition])
      : Object.entries(input);
    for (const [name, value] of entries) {
      const definition = typeof value === 'function' ? { name, run: value } : value;
      if (typeof name !== 'string' || name === '' || !definition || typeof definition.run !== 'function') {
        throw new AgentwireError(
          'AW_INVALID_OPTION',
          `agents: entry ${JSON.stringify(name)} is not an agent (expected an async generator function or { name, run })`,
        );
      }
      if (this.#agents.has(name)) throw new AgentwireError('AW_INVALID_OPTION', `agents: the name "${name}" is used twice`);
      this.#agents.set(name, { ...definition, name });
    }
    if (this.#agents.size === 0) throw new AgentwireError('AW_INVALID_OPTION', 'agents: at least one agent is required');
  }

  /** The agent named `name` (the default agent when `undefined`). Throws `AW_UNKNOWN_AGENT`. */
  resolve(name: string | undefined): AgentDefinition {
    const agent = name === undefined ? this.#agents.values().next().value : this.#agents.get(name);
    if (agent) return agent;
    throw new AgentwireError(
      'AW_UNKNOWN_AGENT',
      `unknown agent "${name}"; this gateway serves: ${[...this.#agents.keys()].join(', ')}`,
    );
  }

  /** Every agent, default first. */
  list(): { name: string; description: string | undefined; default: boolean }[] {
    return [...this.#agents.values()].map((agent, index) => ({
      name: agent.name,
      description: agent.description,
      default: index === 0,
    }));
  }
}
