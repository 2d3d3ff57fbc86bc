// CPU profiles of the bench's agentwire servers (`npm run bench -- --profile`): V8's `.cpuprofile`
// files (`node --cpu-prof`) folded into a call tree, merged across the processes of a workload,
// summarised as the functions with the most self time, and drawn as a flame graph (SVG, top-down:
// the root at the top, each frame as wide as its share of the time, its callees below it; hover a
// frame for its name, place and time).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A frame of the call tree: `self` and `total` in ms, children by key. */
function frame(name, where, kind) {
  return { name, where, kind, self: 0, total: 0, children: new Map() };
}

/** What ran in a call frame: agentwire (its built `dist/`), Node's own JavaScript, the bench's code, or the rest (V8, native, dependencies). */
function kindOf(url) {
  if (url.includes('/node_modules/')) return 'other';
  if (url.includes('/dist/')) return 'agentwire';
  if (url.startsWith('node:')) return 'node';
  if (url.includes('/bench/')) return 'bench';
  return 'other';
}

/** Where a call frame's code is: `node:…` for Node's own, a short `dir/file:line` otherwise, or '' for V8's entries. */
function placeOf(callFrame) {
  if (!callFrame.url) return '';
  const short = callFrame.url.startsWith('node:') ? callFrame.url : callFrame.url.replace(/^file:\/\//, '').split('/').slice(-2).join('/');
  return `${short}:${callFrame.lineNumber + 1}`;
}

/**
 * Folds one `.cpuprofile` into a call tree of ms of CPU (idle samples left out). A sample's time is
 * the gap to the next sample, as Chrome's DevTools count it.
 */
export function profileTree(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const root = frame('(all)', '', 'other');
  for (let index = 0; index < profile.samples.length; index++) {
    const ms = (profile.timeDeltas[index + 1] ?? 0) / 1000;
    const leaf = byId.get(profile.samples[index]);
    if (!leaf || ms <= 0 || leaf.callFrame.functionName === '(idle)') continue;
    const path = [];
    for (let id = leaf.id; id !== undefined; id = parentOf.get(id)) path.push(byId.get(id));
    path.pop(); // V8's '(root)': the tree's own root stands for it
    let at = root;
    at.total += ms;
    for (let depth = path.length - 1; depth >= 0; depth--) {
      const { callFrame } = path[depth];
      const name = callFrame.functionName || '(anonymous)';
      const where = placeOf(callFrame);
      const key = `${name} ${where}`;
      let next = at.children.get(key);
      if (!next) at.children.set(key, (next = frame(name, where, kindOf(callFrame.url))));
      next.total += ms;
      at = next;
    }
    at.self += ms;
  }
  return root;
}

/** Adds `tree` into `into` (same call paths are merged). */
function mergeInto(into, tree) {
  into.self += tree.self;
  into.total += tree.total;
  for (const [key, child] of tree.children) {
    let target = into.children.get(key);
    if (!target) into.children.set(key, (target = frame(child.name, child.where, child.kind)));
    mergeInto(target, child);
  }
}

/** One call tree of several (the processes that served one workload). */
export function mergeTrees(trees) {
  const root = frame('(all)', '', 'other');
  for (const tree of trees) mergeInto(root, tree);
  return root;
}

/** The call trees of every `.cpuprofile` in `dir` (none when it does not exist; a file cut short is skipped). */
export function readProfiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.cpuprofile'))
    .flatMap((file) => {
      try {
        return [profileTree(JSON.parse(readFileSync(join(dir, file), 'utf8')))];
      } catch {
        return [];
      }
    });
}

/** The `count` functions with the most self time: `{ name, where, ms, share }` (share of all the CPU). */
export function topSelf(tree, count = 15) {
  const totals = new Map();
  const visit = (node) => {
    if (node !== tree) {
      const key = `${node.name} ${node.where}`;
      const entry = totals.get(key) ?? { name: node.name, where: node.where, ms: 0 };
      entry.ms += node.self;
      totals.set(key, entry);
    }
    for (const child of node.children.values()) visit(child);
  };
  visit(tree);
  return [...totals.values()]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, count)
    .map((entry) => ({ ...entry, share: tree.total > 0 ? entry.ms / tree.total : 0 }));
}

const ROW = 17;
/** Deeper frames are left out (module loading recurses some hundred frames deep at start-up). */
const MAX_DEPTH = 60;
const escapeXml = (text) => text.replace(/[<>&"]/g, (char) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[char]);

const COLOURS = { agentwire: '#f08c3a', node: '#6a9fd8', bench: '#6cbf6a', other: '#b9b9b9' };

/**
 * Draws a call tree as a top-down flame graph, `width` px wide. Frames narrower than a pixel, or
 * deeper than {@link MAX_DEPTH}, are left out (their time stays in their caller's width).
 */
export function renderFlameGraph(tree, { title = 'CPU profile', width = 1200 } = {}) {
  const rects = [];
  let depthMax = 0;
  const scale = tree.total > 0 ? width / tree.total : 0;
  const draw = (node, x, depth) => {
    const w = node.total * scale;
    if (w < 1 || depth > MAX_DEPTH) return;
    depthMax = Math.max(depthMax, depth);
    rects.push({ node, x, w, depth });
    let offset = x;
    for (const child of [...node.children.values()].sort((a, b) => b.total - a.total)) {
      draw(child, offset, depth + 1);
      offset += child.total * scale;
    }
  };
  draw(tree, 0, 0);
  const top = 34;
  const height = top + (depthMax + 1) * ROW + 8;
  const body = rects
    .map(({ node, x, w, depth }) => {
      const y = top + depth * ROW;
      const share = tree.total > 0 ? ((100 * node.total) / tree.total).toFixed(1) : '0';
      const label = node.where ? `${node.name} (${node.where})` : node.name;
      const fits = Math.floor((w - 6) / 6.6);
      const text = fits >= 3 ? (label.length > fits ? `${label.slice(0, fits - 1)}…` : label) : '';
      return (
        `<g><title>${escapeXml(`${label}: ${node.total.toFixed(1)} ms (${share} %), self ${node.self.toFixed(1)} ms`)}</title>` +
        `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${ROW - 1}" rx="2" fill="${COLOURS[node.kind]}"/>` +
        (text ? `<text x="${(x + 3).toFixed(1)}" y="${y + 12}">${escapeXml(text)}</text>` : '') +
        '</g>'
      );
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="ui-monospace, Menlo, monospace" font-size="11">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="4" y="16" font-size="13" font-weight="bold">${escapeXml(title)}</text>
<text x="4" y="29" fill="#555">${escapeXml(`${tree.total.toFixed(0)} ms of CPU sampled; orange agentwire, blue Node.js, green the bench's code, grey V8, native code and dependencies. Hover a frame for its time.`)}</text>
${body}
</svg>
`;
}

/** The Markdown section of a profiled run: per workload and server, the top functions and the flame graph. */
export function renderProfilesMarkdown(profiles) {
  if (!profiles || profiles.length === 0) return '';
  const ms = (value) => value.toLocaleString('en-US', { maximumFractionDigits: 0 });
  const sections = profiles.map(({ workload, server, dir, flameGraph, totalMs, top }) => {
    const cell = (text) => `\`${text.replace(/[|`]/g, (char) => (char === '|' ? '\\|' : "'"))}\``;
    const rows = top.map((entry) => `| ${entry.ms.toFixed(1)} | ${(100 * entry.share).toFixed(1)} % | ${cell(entry.name)} | ${entry.where ? cell(entry.where) : '–'} |`);
    return [
      `#### ${workload}: ${server} (${ms(totalMs)} ms of CPU sampled)`,
      '',
      '| self ms | share | function | where |',
      '|---:|---:|---|---|',
      ...rows,
      '',
      `![${workload} flame graph](${flameGraph})`,
      '',
      `The raw \`.cpuprofile\` files (for Chrome DevTools' Performance panel or speedscope; git ignores them): \`${dir}/\``,
      '',
    ].join('\n');
  });
  return [
    '',
    '### Profiles',
    '',
    "agentwire's server processes ran under `node --cpu-prof` (`--profile`), sampled over their whole life (start-up and warm-up included); their figures above carry the profiler's overhead. Self time is the time a function spent in its own code (native calls such as `writev` count on their own, and include the time the thread was descheduled in them).",
    '',
    ...sections,
  ].join('\n');
}
