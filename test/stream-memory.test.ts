/**
 * What one open SSE stream of a live run keeps on the server's heap, counted by
 * `bench/stream-memory.mjs` from heap snapshots of the built gateway before and after 50 paced
 * start-and-stream requests. The bounds pin what was cut, each with the count it had before:
 * Node's response head kept as a rope of ~32 string nodes (1 KB), a promise per request for
 * pipelining, a closure and a context per source of each linked signal, the Maps of the state's
 * part ledgers a run never uses, and the Node sink's closures.
 */
import { describe, expect, it } from 'vitest';
import { ROOT, requireBuild, run } from './helpers/process.js';

interface Row {
  key: string;
  count: number;
  bytes: number;
}

describe('the heap an open stream keeps', () => {
  it('holds no rope for the response head, and fewer closures, contexts and Maps than it did', async () => {
    requireBuild();
    const { code, stdout, stderr } = await run(
      process.execPath,
      [`${ROOT}bench/stream-memory.mjs`, '--server=agentwire', '--streams=50', '--events=3', '--rss=0', '--json'],
      { timeoutMs: 60_000 },
    );
    expect(code, stderr).toBe(0);
    const rows = (JSON.parse(stdout.trim().split('\n').at(-1) as string) as { snapshotRows: Row[] }).snapshotRows;
    const perStream = (key: string) => rows.find((row) => row.key === key)?.count ?? 0;
    // Each event's JSON and its JsonEvent are the log; everything below is per stream, whatever its length.
    expect(perStream('concatenated string')).toBeLessThan(4); // was 32
    expect(perStream('closure/')).toBeLessThan(40); // was 41
    expect(perStream('object/system / Context')).toBeLessThan(48); // was 50
    expect(perStream('object/Map')).toBeLessThan(4); // was 5
    expect(perStream('object/Promise')).toBeLessThan(14); // was 14
    // The Node adapter's sink is one object, not four closures (ready, end, destroy, write).
    expect(perStream('closure/ready')).toBeLessThan(0.5); // was 1
  }, 90_000);
});
