/**
 * Runtime validation (zod) of what comes from outside: events an agent yields, request bodies,
 * resume cursors. The TypeScript types in `events.ts` are the contract; these schemas check values
 * against it.
 *
 * @module
 */
import { z } from 'zod';
import type { AgentYield } from './events.js';

const id = z.string().min(1).max(200);
const errorInfo = z.object({ message: z.string(), code: z.string().min(1) });

/** Schemas for each event type an agent may yield. */
const yieldSchemas = [
  z.object({ type: z.literal('step.started'), stepId: id, parentId: id.optional(), title: z.string(), kind: z.string().optional() }),
  z.object({ type: z.literal('step.log'), stepId: id, text: z.string() }),
  z.object({ type: z.literal('step.updated'), stepId: id, title: z.string() }),
  z.object({ type: z.literal('step.finished'), stepId: id, status: z.enum(['complete', 'error']), error: errorInfo.optional() }),
  z.object({ type: z.literal('text.delta'), text: z.string(), stepId: id.optional() }),
  z.object({ type: z.literal('tool.call'), callId: id, stepId: id.optional(), name: z.string().min(1), args: z.unknown() }),
  z.object({ type: z.literal('tool.result'), callId: id, result: z.unknown().optional(), error: errorInfo.optional() }),
  z.object({ type: z.literal('status'), message: z.string() }),
  z.object({ type: z.literal('data'), name: z.string().min(1), value: z.unknown() }),
] as const;

/** Validates one value an agent yielded (other than a plain string). */
export const agentYieldSchema = z.discriminatedUnion('type', yieldSchemas);

const yieldTypes = new Set(yieldSchemas.map((schema) => schema.shape.type.value));

/** The result of {@link validateAgentYield}. */
export type YieldCheck = { ok: true; value: AgentYield } | { ok: false; message: string };

/**
 * Checks a value an agent yielded against the contract. The message names the problem so the
 * agent's author can fix it ("yielded an object with unknown type "foo"; expected one of …").
 */
export function validateAgentYield(value: unknown): YieldCheck {
  const canonical = acceptCanonicalYield(value);
  if (canonical !== undefined) return { ok: true, value: canonical };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: `an agent may yield a string or an event object, not ${describe(value)}` };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !yieldTypes.has(type as never)) {
    const runType = typeof type === 'string' && type.startsWith('run.');
    return {
      ok: false,
      message: runType
        ? `an agent may not yield "${type}": the runner emits run.* events itself (return a value to finish, throw to fail)`
        : `an agent yielded an object with type ${JSON.stringify(type)}; expected one of ${[...yieldTypes].join(', ')}`,
    };
  }
  const parsed = agentYieldSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'value';
    return { ok: false, message: `an agent yielded an invalid "${type}" event: ${where}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, value: parsed.data as AgentYield };
}

/**
 * The hot path of {@link validateAgentYield}: returns `value` itself when it is one of the shapes
 * agents yield most — answer text, logs, status, data — with exactly the keys, in the order, the
 * producer API builds them, and valid fields (so zod would accept it and return an equal object).
 * Returns `undefined` for anything else, which then goes through the full schema. No allocation.
 */
export function acceptCanonicalYield(value: unknown): AgentYield | undefined {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const item = value as Record<string, unknown>;
  switch (item.type) {
    case 'text.delta':
      if (typeof item.text !== 'string') return undefined;
      return hasKeys(item, TEXT_KEYS) || (hasKeys(item, STEP_TEXT_KEYS) && isId(item.stepId)) ? (value as AgentYield) : undefined;
    case 'step.log':
      return hasKeys(item, LOG_KEYS) && isId(item.stepId) && typeof item.text === 'string' ? (value as AgentYield) : undefined;
    case 'status':
      return hasKeys(item, STATUS_KEYS) && typeof item.message === 'string' ? (value as AgentYield) : undefined;
    case 'data':
      return hasKeys(item, DATA_KEYS) && typeof item.name === 'string' && item.name !== '' && item.value !== undefined
        ? (value as AgentYield)
        : undefined;
    default:
      return undefined;
  }
}

const TEXT_KEYS = ['type', 'text'];
const STEP_TEXT_KEYS = ['type', 'text', 'stepId'];
const LOG_KEYS = ['type', 'stepId', 'text'];
const STATUS_KEYS = ['type', 'message'];
const DATA_KEYS = ['type', 'name', 'value'];

/** True when the object's enumerable keys are exactly `keys`, in that order. */
function hasKeys(item: Record<string, unknown>, keys: readonly string[]): boolean {
  let index = 0;
  for (const key in item) {
    if (key !== keys[index]) return false;
    index++;
  }
  return index === keys.length;
}

const isId = (value: unknown): boolean => typeof value === 'string' && value.length > 0 && value.length <= 200;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** The body of `POST /api/runs`. */
export const startRunBodySchema = z.object({
  agent: z.string().min(1).max(200).optional(),
  input: z.unknown(),
});

/** A parsed `POST /api/runs` body. */
export type StartRunBody = z.infer<typeof startRunBodySchema>;

/**
 * Checks a `POST /api/runs` body; the message names what is wrong (`input is missing`, a bad
 * `agent`), so a client sees which field to fix.
 */
export function parseStartRunBody(raw: unknown): { ok: true; value: StartRunBody } | { ok: false; message: string } {
  const shape = 'the body must be a JSON object { "input": any, "agent"?: string }';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, message: shape };
  if (!Object.hasOwn(raw, 'input')) return { ok: false, message: `input is missing: ${shape}` };
  const parsed = startRunBodySchema.safeParse(raw);
  if (!parsed.success) return { ok: false, message: `agent must be a non-empty string of at most 200 characters: ${shape}` };
  return { ok: true, value: parsed.data };
}

/**
 * Parses a resume cursor (`Last-Event-ID`, `?after=`, `?lastEventId=`): a non-negative integer.
 * Returns `undefined` for a missing or empty value and `null` for a malformed one.
 */
export function parseCursor(value: string | null | undefined): number | null | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (!/^\d{1,15}$/.test(trimmed)) return null;
  return Number(trimmed);
}
