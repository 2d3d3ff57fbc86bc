// Re-renders a results JSON (bench/results/<date>.json) into its Markdown and SVG charts, without
// running anything: `node bench/render.mjs bench/results/2026-11-25.json`.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { renderMarkdown, renderSvgs } from './report.mjs';

const path = process.argv[2];
if (!path) throw new Error('usage: node bench/render.mjs <results.json>');
const results = JSON.parse(readFileSync(path, 'utf8'));
const stem = basename(path, '.json');
writeFileSync(join(dirname(path), `${stem}.md`), renderMarkdown(results, stem));
for (const [file, svg] of Object.entries(renderSvgs(results))) writeFileSync(join(dirname(path), `${stem}-${file}.svg`), svg);
console.log(`rendered ${stem}.md and its charts`);
