/**
 * The package's entries and the run-time names each exports, as users import them. A name added to
 * or dropped from an entry must be added here on purpose (types are checked by the packaging test).
 */

/** Each entry's specifier and its run-time exports, sorted. */
export const ENTRY_EXPORTS: Readonly<Record<string, readonly string[]>> = {
  agentwire: ['AgentError', 'AgentwireError', 'ERROR_CODES', 'defineAgent', 'isAgentwireError', 'sleep'],
  'agentwire/gateway': ['GATEWAY_DEFAULTS', 'MemoryStore', 'Runner', 'SSE_HEADERS', 'createGateway', 'demoAgents', 'listen', 'toStoredEvent'],
  'agentwire/sources': ['openaiAgent', 'sseBridgeAgent'],
  'agentwire/protocol': [
    'AI_SDK_DONE_FRAME', 'AI_SDK_STREAM_HEADERS', 'AgUiEncoder', 'AgentwireError', 'AiSdkEncoder', 'ERROR_CODES', 'EVENT_TYPES',
    'SSE_HEARTBEAT', 'TERMINAL_TYPES', 'agentYieldSchema', 'encodeSseComment', 'encodeSseDataFrames', 'encodeSseEvent',
    'encodeSseFrame', 'encodeSseRetry', 'errorBody', 'isAgentwireError', 'isTerminalType', 'parseCursor', 'startRunBodySchema',
    'validateAgentYield',
  ],
  'agentwire/reducer': ['RunFold', 'initialRunState', 'reduce', 'reduceAll'],
  'agentwire/client': [
    'CLIENT_DEFAULTS', 'RunStreamError', 'backoffDelay', 'cancelRun', 'createRunStore', 'defaultScheduler', 'initialRunState',
    'reduce', 'startRun', 'subscribe',
  ],
  'agentwire/react': [
    'Answer', 'BlockSplitter', 'COLLAPSE_DELAY_MS', 'ConnectionPill', 'CopyButton', 'FoldedText', 'RunHeader', 'RunView',
    'StatusIcon', 'StatusLine', 'Step', 'ToolCall', 'calmTail', 'escapeHtml', 'formatCount', 'formatDuration', 'formatValue',
    'highlightCode', 'isSafeHref', 'renderMarkdown', 'runIndicator', 'runToMarkdown', 'stepToMarkdown', 'summarizeInput',
    'useNow', 'useRun', 'useRunStore', 'useStartRun', 'useStepToggles', 'useStickToBottom',
  ],
  'agentwire/redis': ['LOG_LOST', 'PRODUCER_LOST', 'RedisStore', 'createRedisStore'],
};

/** The entries that need an optional peer dependency installed beside agentwire, and that peer. */
export const PEER_ENTRIES: Readonly<Record<string, string>> = { 'agentwire/react': 'react', 'agentwire/redis': 'ioredis' };

/** The entries that run only in Node: their `browser` condition is a stub that throws. */
export const NODE_ONLY_ENTRIES = ['agentwire/gateway', 'agentwire/sources', 'agentwire/redis'] as const;

/** The entries that run in browsers too: all the others. */
export const BROWSER_SAFE_ENTRIES = Object.keys(ENTRY_EXPORTS).filter((entry) => !(NODE_ONLY_ENTRIES as readonly string[]).includes(entry));

/** The message a Node-only entry's browser stub throws. */
export function browserStubMessage(entry: string): string {
  return `${entry} runs in Node, not in a browser: use agentwire/client in the browser`;
}

/**
 * A Node script that imports each of `entries` by its specifier and prints `{ [entry]: sortedNames }`
 * as JSON: run it where `agentwire` resolves (the repository itself, or a project that installed it).
 */
export function printEntryExports(entries: readonly string[] = Object.keys(ENTRY_EXPORTS)): string {
  return [
    `const entries = ${JSON.stringify(entries)};`,
    'const found = {};',
    'for (const entry of entries) found[entry] = Object.keys(await import(entry)).sort();',
    'console.log(JSON.stringify(found));',
  ].join('\n');
}
