/**
 * The logger of `agentwire serve`: pino's JSON lines for machines (piped, or `--log-format json`),
 * or one readable line per record on a terminal (`--log-format pretty`) — a small formatter over
 * the same JSON, so there is no second logging dependency.
 *
 * @module
 */
import pc from 'picocolors';
import { type Logger, pino } from 'pino';

/** `--log-format`: `auto` is `pretty` on a TTY and `json` otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
/** One of {@link LOG_FORMATS}. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Where the lines go: stdout, or a test's stream. */
export interface LogOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

const LEVELS: Record<number, { name: string; paint: (text: string) => string }> = {
  10: { name: 'TRACE', paint: pc.dim },
  20: { name: 'DEBUG', paint: pc.dim },
  30: { name: 'INFO', paint: pc.green },
  40: { name: 'WARN', paint: pc.yellow },
  50: { name: 'ERROR', paint: pc.red },
  60: { name: 'FATAL', paint: (text) => pc.bold(pc.red(text)) },
};

/** pino's own fields and those every line's message already says. */
const SHOWN_OR_NOISE = new Set(['level', 'time', 'pid', 'hostname', 'service', 'msg', 'event', 'err']);

/** Creates the serve logger for `format`, writing to `output` (stdout by default). */
export function createServeLogger(format: LogFormat, options: { level: string; output?: LogOutput }): Logger {
  const output = options.output ?? process.stdout;
  const base = { level: options.level, base: { service: 'agentwire' } };
  const pretty = format === 'pretty' || (format === 'auto' && output.isTTY === true);
  if (!pretty) return options.output ? pino(base, { write: (line: string) => output.write(line) }) : pino(base);
  const color = output.isTTY === true;
  return pino(base, { write: (line: string) => output.write(formatLogLine(line, color)) });
}

/**
 * One pino JSON line as "12:03:04.120 INFO  run run_… started (demo)": local time, level, message,
 * then `key=value` for each field the message does not already say, then an error's stack
 * (indented). A line that is not JSON is passed through.
 */
export function formatLogLine(line: string, color: boolean): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const paint = color ? pc : { dim: String, bold: String };
  const level = LEVELS[record.level as number] ?? { name: String(record.level), paint: String };
  const message = typeof record.msg === 'string' ? record.msg : '';
  const fields = Object.entries(record)
    .filter(([key, value]) => !SHOWN_OR_NOISE.has(key) && value !== undefined && value !== null && !message.includes(String(value)))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const time = typeof record.time === 'number' ? clock(new Date(record.time)) : '';
  const head = `${paint.dim(time)} ${(color ? level.paint : String)(level.name.padEnd(5))} ${message}${fields.length > 0 ? `  ${paint.dim(fields.join(' '))}` : ''}`;
  return `${head}${errorLines(record.err)}\n`;
}

/** hh:mm:ss.mmm in local time. */
function clock(date: Date): string {
  const two = (value: number) => String(value).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/** A serialized error's stack (or message) and code, indented under its line. */
function errorLines(err: unknown): string {
  if (typeof err !== 'object' || err === null) return '';
  const { stack, message, code } = err as { stack?: unknown; message?: unknown; code?: unknown };
  const text = typeof stack === 'string' ? stack : typeof message === 'string' ? message : JSON.stringify(err);
  const lines = text.split('\n');
  if (typeof code === 'string' && !text.includes(code)) lines[0] = `${lines[0]} (${code})`;
  return lines.map((item) => `\n    ${item.trimStart().startsWith('at ') ? `  ${item.trim()}` : item}`).join('');
}
