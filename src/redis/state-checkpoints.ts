/**
 * Checkpoints of a run's folded state in Redis, so a read of the state (`GET /api/runs/:id`, the
 * resume of the AG-UI and AI SDK formats) costs the events since a checkpoint, not the whole log.
 *
 * The producing process folds each batch it appends (a {@link RunFold}: O(1) per event) and, once
 * at least `everyEvents` events and at least as many bytes of event JSON as the last checkpoint
 * took have been appended since it, writes a checkpoint in the same pipeline as the append (and
 * always with the terminal event, so an ended run keeps its final state). The byte rule keeps the
 * checkpoints' writes within the size of the log itself however large the state grows; a reader
 * then parses at most about `everyEvents` events, or as many bytes of events as the checkpoint.
 *
 * A few checkpoints are kept per run, spaced geometrically: numbering them 1, 2, 3… as written,
 * the newest two whose number is a multiple of 1, of 4 and of 16 (at most six, usually fewer). A
 * reader folds from the newest checkpoint at or before the seq it asks for, so a resume from a
 * cursor `d` events behind the tail folds at most about 8·d events (or two intervals): in
 * proportion to the `d` events its stream then sends, for a cursor up to 16 intervals behind. With no
 * checkpoint at or before the seq (a short run, an older cursor), the store folds its log instead.
 *
 * @module
 */
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import { RunFold } from '../reducer/run-fold.js';
import type { RunState } from '../protocol/run-state.js';
import { stateLimits } from '../store/state-limits.js';
import type { StoredEvent } from '../store/store.js';
import { parseEntry } from './parse-entry.js';
import { type RunKeys, entryId } from './redis-keys.js';

/** The state folded within the memory store's default limits (16 MiB per run), as the snapshots are. */
export const STATE_LIMITS = stateLimits(16 * 1024 * 1024);
/** Events read per `XRANGE` while folding after a checkpoint. */
const PAGE = 1000;
/** Checkpoints kept: per level L below this, the newest two whose number is a multiple of 4^L. */
const LEVELS = 3;

/**
 * Stores a checkpoint. KEYS: meta, events, state. ARGV: seq, JSON `{ seq, state }` (`''`: none,
 * only the TTL), the JSON of event `seq` as appended, then the seqs of the checkpoints to keep.
 * Written only if the log holds that very event (the append in the same pipeline may have been
 * refused, or another writer's event taken the seq); an ended run's checkpoints get its TTL.
 */
const SET_STATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] ~= '' then
  local stored = redis.call('XRANGE', KEYS[2], '0-' .. ARGV[1], '0-' .. ARGV[1])
  if #stored == 1 and stored[1][2][2] == ARGV[3] then
    redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
    local keep = {}
    for i = 4, #ARGV do keep[ARGV[i]] = true end
    keep[ARGV[1]] = true
    for _, field in ipairs(redis.call('HKEYS', KEYS[3])) do
      if not keep[field] then redis.call('HDEL', KEYS[3], field) end
    end
  end
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
return 1
`;

/** The newest checkpoint at or before ARGV[1] (`+`: the newest). KEYS: state. Returns `{ seq, json }` or nil. */
const READ_STATE = `
local best, bestField = -1, nil
local limit = ARGV[1] == '+' and math.huge or tonumber(ARGV[1])
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  local seq = tonumber(field)
  if seq and seq <= limit and seq > best then best, bestField = seq, field end
end
if not bestField then return false end
return { best, redis.call('HGET', KEYS[1], bestField) }
`;

type CheckpointPipeline = ChainableCommander & {
  awSetState(...args: (string | number)[]): ChainableCommander;
  awReadState(key: string, at: string): ChainableCommander;
};

/** A checkpoint to write with an append. */
export interface Checkpoint {
  readonly seq: number;
  /** `JSON.stringify({ seq, state })`. */
  readonly json: string;
  /** The JSON of event `seq`, by which the script recognises the append it goes with. */
  readonly eventJson: string;
  /** The seqs of the checkpoints kept besides this one. */
  readonly keep: readonly number[];
}

/** What the producer keeps per run it appends to. */
interface Folding {
  readonly fold: RunFold;
  eventsSince: number;
  bytesSince: number;
  lastLength: number;
  /** Checkpoints written so far. */
  written: number;
  /** The seqs of the checkpoints kept, by number. */
  readonly kept: Map<number, number>;
}

/** How the last {@link StateCheckpoints.fold}-based read went, cumulated (for tests and metrics). */
export interface StateReadStats {
  /** `state()` calls answered. */
  calls: number;
  /** Redis round trips they took. */
  roundTrips: number;
  /** Stream entries they parsed. */
  parsedEvents: number;
  /** Calls answered by folding the log (no checkpoint at or before the seq asked). */
  fallbacks: number;
}

/** The producer's folds and checkpoint writes, and the reads of the checkpoints, of one store. */
export class StateCheckpoints {
  readonly #redis: Redis | Cluster;
  readonly #everyEvents: number;
  readonly #folding = new Map<string, Folding>();
  readonly stats: StateReadStats = { calls: 0, roundTrips: 0, parsedEvents: 0, fallbacks: 0 };

  /** @param redis the commands connection (a cluster's too: every key of a run is in one slot) */
  constructor(redis: Redis | Cluster, everyEvents: number) {
    this.#redis = redis;
    this.#everyEvents = everyEvents;
    redis.defineCommand('awSetState', { numberOfKeys: 3, lua: SET_STATE });
    redis.defineCommand('awReadState', { numberOfKeys: 1, lua: READ_STATE });
  }

  /**
   * Folds a batch about to be appended to `runId`, and returns the checkpoint to write with it when
   * one is due (always with a terminal event). A run not folded from its first event is not folded.
   */
  fold(runId: string, events: readonly StoredEvent[], terminal: boolean): Checkpoint | undefined {
    const first = events[0] as StoredEvent;
    let folding = this.#folding.get(runId);
    if (!folding || folding.fold.state.lastSeq !== first.seq - 1) {
      this.#folding.delete(runId);
      if (first.seq !== 1) return undefined;
      folding = { fold: new RunFold(undefined, STATE_LIMITS), eventsSince: 0, bytesSince: 0, lastLength: 0, written: 0, kept: new Map() };
      this.#folding.set(runId, folding);
    }
    for (const stored of events) {
      folding.fold.add(stored.event);
      folding.bytesSince += stored.json.length;
    }
    folding.eventsSince += events.length;
    if (!terminal && (folding.eventsSince < this.#everyEvents || folding.bytesSince < folding.lastLength)) return undefined;
    const last = events[events.length - 1] as StoredEvent;
    const json = JSON.stringify({ seq: last.seq, state: folding.fold.state });
    const number = ++folding.written;
    // Every number kept later is either kept now or written later: the set only ever gains the newest.
    const keep = new Set<number>();
    for (let level = 0; level < LEVELS; level++) {
      const newest = number - (number % 4 ** level);
      keep.add(newest).add(newest - 4 ** level);
    }
    folding.kept.set(number, last.seq);
    for (const kept of folding.kept.keys()) if (!keep.has(kept)) folding.kept.delete(kept);
    folding.eventsSince = 0;
    folding.bytesSince = 0;
    folding.lastLength = json.length;
    return { seq: last.seq, json, eventJson: last.json, keep: [...folding.kept.values()].filter((seq) => seq !== last.seq) };
  }

  /** The state `runId` was folded to, when this process folds it. */
  stateOf(runId: string): RunState | undefined {
    return this.#folding.get(runId)?.fold.state;
  }

  /** Forgets the fold of `runId` (it ended, or this process gave it up). */
  drop(runId: string): void {
    this.#folding.delete(runId);
  }

  /** Forgets every fold (the store closes). */
  clear(): void {
    this.#folding.clear();
  }

  /** Adds to `pipeline` the write of `checkpoint`, or with none the copy of the run's TTL onto its checkpoints. */
  queue(pipeline: ChainableCommander, keys: RunKeys, checkpoint: Checkpoint | undefined): void {
    const args: (string | number)[] = [keys.meta, keys.events, keys.state];
    if (checkpoint) args.push(checkpoint.seq, checkpoint.json, checkpoint.eventJson, ...checkpoint.keep);
    else args.push(0, '', '');
    (pipeline as CheckpointPipeline).awSetState(...args);
  }

  /**
   * Reads the run's record and the state after event `at` (or after its last event), folded from
   * the newest checkpoint at or before it and the events after it (one round trip, then one per
   * {@link PAGE} events). `state` is `undefined` when there is no such checkpoint or the events
   * after it are no longer in the stream (the caller then folds the log), or when the run is
   * unknown or `at` is past its last event.
   */
  async read(keys: RunKeys, at: number | undefined): Promise<{ meta: Record<string, string>; state: RunState | undefined }> {
    this.stats.calls++;
    const pipeline = this.#redis.pipeline().hgetall(keys.meta) as CheckpointPipeline;
    const results = await pipeline.awReadState(keys.state, at === undefined ? '+' : String(at)).exec();
    this.stats.roundTrips++;
    const [[metaError, meta], [baseError, base]] = results as [[Error | null, Record<string, string>], [Error | null, [number, string] | null]];
    if (metaError) throw metaError;
    const lastSeq = Number(meta.lastSeq);
    if (meta.id === undefined || (at !== undefined && at > lastSeq)) return { meta, state: undefined };
    if (baseError) throw baseError;
    if (!base) return { meta, state: this.#fallback() };
    const [seq, raw] = base;
    const target = at ?? Math.max(lastSeq, seq);
    // With `at`, event at + 1 is read too: it must still be retained (else the snapshot stands for it).
    const end = at === undefined ? target : Math.min(at + 1, lastSeq);
    const fold = new RunFold((JSON.parse(raw) as { state: RunState }).state, STATE_LIMITS);
    for (let from = seq + 1; from <= end; ) {
      const entries = (await this.#redis.call('XRANGE', keys.events, entryId(from), entryId(end), 'COUNT', PAGE)) as [string, string[]][];
      this.stats.roundTrips++;
      // Trimmed (or expired) under the checkpoint: it cannot be continued.
      if (entries.length === 0 || entries[0]?.[0] !== entryId(from)) return { meta, state: this.#fallback() };
      for (const entry of entries) {
        const stored = parseEntry(entry);
        this.stats.parsedEvents++;
        if (stored.seq <= target) fold.add(stored.event);
        from = stored.seq + 1;
      }
    }
    return { meta, state: fold.state };
  }

  #fallback(): undefined {
    this.stats.fallbacks++;
    return undefined;
  }
}
