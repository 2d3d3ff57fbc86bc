// Types of bench/flamegraph.mjs, for the tests that use it.

/** A frame of a call tree: time in ms of CPU. */
export interface ProfileFrame {
  name: string;
  /** `node:…:line`, `dir/file:line`, or '' for V8's own entries. */
  where: string;
  kind: 'agentwire' | 'node' | 'bench' | 'other';
  self: number;
  total: number;
  children: Map<string, ProfileFrame>;
}

/** A `.cpuprofile` as V8 writes it. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

export interface TopFunction {
  name: string;
  where: string;
  ms: number;
  share: number;
}

export function profileTree(profile: CpuProfile): ProfileFrame;
export function mergeTrees(trees: ProfileFrame[]): ProfileFrame;
export function readProfiles(dir: string): ProfileFrame[];
export function topSelf(tree: ProfileFrame, count?: number): TopFunction[];
export function renderFlameGraph(tree: ProfileFrame, options?: { title?: string; width?: number }): string;
export function renderProfilesMarkdown(
  profiles: { workload: string; server: string; dir: string; flameGraph: string; totalMs: number; top: TopFunction[] }[] | undefined,
): string;
