/**
 * What a process's follower loop knows of one followed run: the highest `seq` read, and a small
 * window of recent events that every local subscriber of the run reads from, so 1,000 browsers on
 * one run cost one Redis read per batch, not 1,000.
 *
 * @module
 */
import { isTerminalType } from '../protocol/events.js';
import type { StoredEvent } from '../store/store.js';

/** Events kept per followed run for local subscribers; a subscriber further behind reads Redis. */
const WINDOW = 2048;

/** One followed run. */
export class RunWatch {
  readonly runId: string;
  /** The run's event stream key. */
  readonly key: string;
  /** Highest `seq` the loop has read. */
  lastSeq: number;
  /** The window: contiguous events ending at `lastSeq`. */
  recent: StoredEvent[] = [];
  /** True once the terminal event was read. */
  ended = false;
  refs = 0;
  readonly #waiters = new Set<() => void>();

  constructor(runId: string, key: string, lastSeq: number) {
    this.runId = runId;
    this.key = key;
    this.lastSeq = lastSeq;
  }

  /** `seq` of the window's first event (`lastSeq + 1` when the window is empty). */
  get recentStart(): number {
    return this.recent[0]?.seq ?? this.lastSeq + 1;
  }

  /** Events after `after` from the window, or `undefined` when `after` is outside it. */
  slice(after: number, max: number, maxBytes: number): StoredEvent[] | undefined {
    const start = after - this.recentStart + 1;
    if (start < 0 || after >= this.lastSeq) return undefined;
    const end = Math.min(this.recent.length, start + max);
    let bytes = 0;
    for (let index = start; index < end; index++) {
      bytes += (this.recent[index] as StoredEvent).json.length;
      if (bytes > maxBytes && index > start) return this.recent.slice(start, index);
    }
    return this.recent.slice(start, end);
  }

  /** Resolves at the next push, a release or `signal`'s abort. */
  next(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  push(events: readonly StoredEvent[]): void {
    for (const stored of events) {
      if (stored.seq <= this.lastSeq) continue;
      // A gap means Redis trimmed entries the loop had not read yet: restart the window there.
      if (stored.seq !== this.lastSeq + 1) this.recent = [];
      this.recent.push(stored);
      this.lastSeq = stored.seq;
      if (isTerminalType(stored.type)) this.ended = true;
    }
    if (this.recent.length > WINDOW * 2) this.recent = this.recent.slice(-WINDOW);
  }

  wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
