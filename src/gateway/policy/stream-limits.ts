/**
 * Counting open streams per principal, per gateway and per run, and refusing one more (429) at a
 * limit.
 *
 * @module
 */
import { AgentwireError } from '../../protocol/errors.js';

/** Stream limits. Each is a positive integer. */
export interface StreamLimitOptions {
  maxStreams: number;
  maxStreamsPerPrincipal: number;
  maxSubscribersPerRun: number;
}

/** Live counts of open streams. */
export class StreamLimits {
  readonly #options: StreamLimitOptions;
  readonly #byPrincipal = new Map<string, number>();
  readonly #byRun = new Map<string, number>();
  #total = 0;
  /** Open streams acquired before their run started (start-and-stream: always a run of this gateway). */
  #unbound = 0;
  /** Woken at each release (see {@link settled}). */
  readonly #onRelease = new Set<() => void>();

  constructor(options: StreamLimitOptions) {
    this.#options = options;
  }

  /** Open streams in total. */
  get open(): number {
    return this.#total;
  }

  /**
   * Counts one more stream of `principal` on `runId`, or throws 429 (`AW_TOO_MANY_STREAMS`,
   * `AW_TOO_MANY_SUBSCRIBERS`). Returns the release function (idempotent). `runId` undefined: the
   * stream of a run not started yet, checked before it starts so a refusal starts nothing; it
   * counts against the gateway's and the principal's limits, not the run's (it is its first).
   */
  acquire(principal: string | undefined, runId: string | undefined): () => void {
    const key = principal ?? '';
    const mine = this.#byPrincipal.get(key) ?? 0;
    const onRun = runId === undefined ? 0 : (this.#byRun.get(runId) ?? 0);
    if (this.#total >= this.#options.maxStreams) {
      throw new AgentwireError('AW_TOO_MANY_STREAMS', `this gateway holds its maximum of ${this.#options.maxStreams} streams; retry shortly`);
    }
    if (principal !== undefined && mine >= this.#options.maxStreamsPerPrincipal) {
      throw new AgentwireError('AW_TOO_MANY_STREAMS', `you have ${mine} open streams, the maximum; close one first`);
    }
    if (onRun >= this.#options.maxSubscribersPerRun) {
      throw new AgentwireError('AW_TOO_MANY_SUBSCRIBERS', `run ${runId} has its maximum of ${this.#options.maxSubscribersPerRun} subscribers`);
    }
    this.#total++;
    this.#byPrincipal.set(key, mine + 1);
    if (runId !== undefined) this.#byRun.set(runId, onRun + 1);
    else this.#unbound++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      decrement(this.#byPrincipal, key);
      if (runId !== undefined) decrement(this.#byRun, runId);
      else this.#unbound--;
      for (const wake of [...this.#onRelease]) wake();
    };
  }

  /**
   * Resolves once every open stream follows a run for which `stays` is true (the rest have closed,
   * streams that started their own run among them), or after `waitMs`. `stays` is asked once per run.
   */
  async settled(stays: (runId: string) => Promise<boolean>, waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    const staying = new Set<string>();
    for (;;) {
      const unknown = [...this.#byRun.keys()].filter((runId) => !staying.has(runId));
      const answers = await Promise.all(unknown.map(async (runId) => [runId, await stays(runId)] as const));
      for (const [runId, stay] of answers) if (stay) staying.add(runId);
      const left = deadline - Date.now();
      if ((this.#unbound === 0 && [...this.#byRun.keys()].every((runId) => staying.has(runId))) || left <= 0) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let wake: (() => void) | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        this.#onRelease.add(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      if (wake) this.#onRelease.delete(wake);
    }
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const next = (map.get(key) ?? 1) - 1;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}
