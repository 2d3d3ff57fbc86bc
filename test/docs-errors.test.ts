/**
 * The error catalog page is generated from the code's catalog: every code of ERROR_CODES appears in
 * it with its status, in the generated table and in the built site, and the generator refuses a
 * source it cannot read whole instead of dropping a code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOG_SOURCE, catalogTable, generateCatalogTable, parseCatalog } from '../scripts/docs-errors.mjs';
import { ERROR_CODES } from '../src/protocol/errors.js';
import { ROOT } from './helpers/process.js';

const BUILT_PAGE = `${ROOT}docs/.vitepress/dist/reference/errors.html`;
const CODES = Object.entries(ERROR_CODES);

describe('the generated error catalog', () => {
  it('has a row for every code of ERROR_CODES, with its status and doc comment', async () => {
    const table = await generateCatalogTable();
    expect(CODES.length).toBeGreaterThan(30);
    for (const [code, status] of CODES) expect(table).toMatch(new RegExp(`^\\| \`${code}\` \\| ${status} \\| \\S`, 'm'));
    expect(table.match(/^\| `/gm)).toHaveLength(CODES.length);
    // A doc comment of several lines becomes one cell.
    expect(table).toContain('| `AW_AGENT_ERROR` | 500 | The agent, or a tool it ran with `ctx.tool`, threw. Appears in `tool.result` and `run.failed`. The message');
  });

  it('refuses a catalog source that misses a code or a doc comment', () => {
    const source = readFileSync(CATALOG_SOURCE, 'utf8');
    const undocumented = source.replace('  /** The run exceeded its time limit. Appears in `run.failed`. */\n', '');
    expect(undocumented).not.toBe(source);
    expect(() => parseCatalog(undocumented, ERROR_CODES)).toThrow(/AW_RUN_TIMEOUT/);
    expect(() => parseCatalog(source, { ...ERROR_CODES, AW_NEW_CODE: 400 })).toThrow(/AW_NEW_CODE/);
    expect(() => parseCatalog('export const OTHER = {};', ERROR_CODES)).toThrow(/ERROR_CODES/);
  });

  it('escapes a pipe in a doc comment so the table keeps its columns', () => {
    expect(catalogTable([{ code: 'AW_X', status: 400, meaning: 'a | b' }])).toContain('| `AW_X` | 400 | a \\| b |');
  });

  it('the built site lists every code on the errors page', () => {
    if (!existsSync(BUILT_PAGE)) throw new Error(`${BUILT_PAGE} is missing: run "npm run docs:build" first (npm test does it)`);
    const html = readFileSync(BUILT_PAGE, 'utf8');
    for (const [code] of CODES) expect(html, code).toContain(`<code>${code}</code>`);
  });
});
