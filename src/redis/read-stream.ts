/**
 * Reads a run stream after a `seq` in pages, so no single reply of a long run (100,000 events)
 * holds Redis or this process for long.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import type { StoredEvent } from '../store/store.js';
import { parseEntry } from './parse-entry.js';
import { entryId } from './redis-keys.js';

/** Entries per `XRANGE`. */
export const READ_PAGE = 1000;
/** Restarts of a read whose pages were split by a trim, before one unpaged `XRANGE` settles it. */
const RESTARTS = 3;

/**
 * Every entry of stream `key` after `after`, in order. The pages of one read are contiguous: when
 * the append script trims the stream between two pages (a long live run), the read starts over,
 * so the caller sees either the whole tail or a tail that starts after a trim (and so gets the
 * run's snapshot), never a hole in the middle.
 */
export async function readStream(redis: Redis, key: string, after: number, page = READ_PAGE): Promise<StoredEvent[]> {
  for (let attempt = 0; attempt < RESTARTS; attempt++) {
    const events: StoredEvent[] = [];
    let contiguous = true;
    for (;;) {
      const cursor = events.length === 0 ? after : (events[events.length - 1] as StoredEvent).seq;
      const entries = (await redis.call('XRANGE', key, entryId(cursor + 1), '+', 'COUNT', page)) as [string, string[]][];
      const batch = entries.map(parseEntry);
      if (events.length > 0 && batch.length > 0 && (batch[0] as StoredEvent).seq !== cursor + 1) {
        contiguous = false;
        break;
      }
      events.push(...batch);
      if (entries.length < page) break;
    }
    if (contiguous) return events;
  }
  return ((await redis.call('XRANGE', key, entryId(after + 1), '+')) as [string, string[]][]).map(parseEntry);
}
