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
 * A valid plain object with exactly its type's keys, in the schema's order (as the producer API
 * builds them), is returned as it is; any other valid value as a copy holding only the
 * contract's fields, in that order.
 */
export function validateAgentYield(value: unknown): YieldCheck {
  const canonical = acceptCanonicalYield(value);
  return canonical !== undefined ? { ok: true, value: canonical } : checkAgentYield(value);
}

/**
 * {@link validateAgentYield} without its fast path, for a value {@link acceptCanonicalYield} has
 * already turned down: the full schema, whose result is a copy holding only the contract's fields.
 */
export function checkAgentYield(value: unknown): YieldCheck {
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
 * The hot path of {@link validateAgentYield}: returns `value` itself when it is a plain object
 * with exactly the keys of its type, in the schema's order (the order the producer API builds
 * them in, and the order zod's copy would have), and valid fields — so zod would accept it and
 * return an equal object that serialises to the same JSON. Returns `undefined` for anything else,
 * which then goes through the full schema. No allocation.
 *
 * This is what lets the producer API's events skip zod without a mark on them: a look-alike an
 * agent builds by hand passes exactly when it is valid, and a helper's event the agent changed
 * after building it (a key added, a field or the `type` rewritten) is checked as it is now.
 */
export function acceptCanonicalYield(value: unknown): AgentYield | undefined {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const item = value as Record<string, unknown>;
  let valid: boolean;
  switch (item.type) {
    case 'text.delta':
      valid = hasShape(item, TEXT) && typeof item.text === 'string' && (item.stepId === undefined || isId(item.stepId));
      break;
    case 'step.log':
      valid = hasShape(item, LOG) && isId(item.stepId) && typeof item.text === 'string';
      break;
    case 'status':
      valid = hasShape(item, STATUS) && typeof item.message === 'string';
      break;
    case 'data':
      valid = hasShape(item, DATA) && typeof item.name === 'string' && item.name !== '' && item.value !== undefined;
      break;
    case 'step.started':
      valid =
        hasShape(item, STARTED) &&
        isId(item.stepId) &&
        (item.parentId === undefined || isId(item.parentId)) &&
        typeof item.title === 'string' &&
        (item.kind === undefined || typeof item.kind === 'string');
      break;
    case 'step.updated':
      valid = hasShape(item, UPDATED) && isId(item.stepId) && typeof item.title === 'string';
      break;
    case 'step.finished':
      valid =
        hasShape(item, FINISHED) &&
        isId(item.stepId) &&
        (item.status === 'complete' || item.status === 'error') &&
        (item.error === undefined || isErrorInfo(item.error));
      break;
    case 'tool.call':
      valid =
        hasShape(item, CALL) &&
        isId(item.callId) &&
        (item.stepId === undefined || isId(item.stepId)) &&
        typeof item.name === 'string' &&
        item.name !== '';
      break;
    case 'tool.result':
      valid = hasShape(item, RESULT) && isId(item.callId) && (item.error === undefined || isErrorInfo(item.error));
      break;
    default:
      return undefined;
  }
  return valid ? (value as AgentYield) : undefined;
}

/** A type's keys in the schema's order; bit `i` of `optional` set when `keys[i]` may be absent. */
interface Shape {
  readonly keys: readonly string[];
  readonly optional: number;
}

const TEXT: Shape = { keys: ['type', 'text', 'stepId'], optional: 0b100 };
const LOG: Shape = { keys: ['type', 'stepId', 'text'], optional: 0 };
const STATUS: Shape = { keys: ['type', 'message'], optional: 0 };
const DATA: Shape = { keys: ['type', 'name', 'value'], optional: 0 };
const STARTED: Shape = { keys: ['type', 'stepId', 'parentId', 'title', 'kind'], optional: 0b10100 };
const UPDATED: Shape = { keys: ['type', 'stepId', 'title'], optional: 0 };
const FINISHED: Shape = { keys: ['type', 'stepId', 'status', 'error'], optional: 0b1000 };
// `args` must be present (zod rejects a missing one) but may hold anything, `undefined` included.
const CALL: Shape = { keys: ['type', 'callId', 'stepId', 'name', 'args'], optional: 0b00100 };
const RESULT: Shape = { keys: ['type', 'callId', 'result', 'error'], optional: 0b1100 };
const ERROR: Shape = { keys: ['message', 'code'], optional: 0 };

/** True when the object's enumerable keys are the shape's, in its order, with only optional ones left out. */
function hasShape(item: object, shape: Shape): boolean {
  const { keys, optional } = shape;
  let index = 0;
  for (const key in item) {
    while (index < keys.length && keys[index] !== key && ((optional >> index) & 1) === 1) index++;
    if (keys[index] !== key) return false;
    index++;
  }
  for (; index < keys.length; index++) if (((optional >> index) & 1) === 0) return false;
  return true;
}

function isErrorInfo(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  const error = value as Record<string, unknown>;
  return hasShape(error, ERROR) && typeof error.message === 'string' && typeof error.code === 'string' && error.code !== '';
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
  // startRunBodySchema's check, by hand for the usual body (this runs for every start, the schema's
  // parse allocates); what it would refuse, the schema decides: it counts code points, not UTF-16
  // units, so an agent of 101 to 200 astral characters is longer than 200 here but not there.
  const { agent, input } = raw as { agent?: unknown; input: unknown };
  if (agent !== undefined && !(typeof agent === 'string' && agent.length >= 1 && agent.length <= 200) && !startRunBodySchema.safeParse(raw).success) {
    return { ok: false, message: `agent must be a non-empty string of at most 200 characters: ${shape}` };
  }
  return { ok: true, value: agent === undefined ? { input } : { agent: agent as string, input } };
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
