/**
 * Code blocks taken out of the docs' Markdown, so tests run the snippets exactly as printed.
 */
import { readFileSync } from 'node:fs';
import { ROOT } from './process.js';

/**
 * The body of the one fenced block whose info string is exactly `info` (e.g. `ts [examples/hono.ts]`)
 * in the Markdown file `path` (relative to the repository root). Throws when there is none or more
 * than one, so a renamed or duplicated snippet fails loudly.
 */
export function extractSnippet(path: string, info: string): string {
  const markdown = readFileSync(`${ROOT}${path}`, 'utf8');
  const bodies: string[] = [];
  const fence = /^```([^\n]*)\n([\s\S]*?)^```$/gm;
  for (let match = fence.exec(markdown); match; match = fence.exec(markdown)) {
    if (match[1]?.trim() === info) bodies.push(match[2] ?? '');
  }
  if (bodies.length !== 1) throw new Error(`${path}: expected one \`\`\`${info} block, found ${bodies.length}`);
  return bodies[0] as string;
}

/** `code` with every occurrence of the port `from` replaced by `to` (nothing else is touched). */
export function replacePort(code: string, from: number, to: number): string {
  const pattern = new RegExp(`\\b${from}\\b`, 'g');
  if (!pattern.test(code)) throw new Error(`the snippet does not mention port ${from}`);
  return code.replace(pattern, String(to));
}
