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
    this.#checkStream(principal);
    if (runId !== undefined) this.#checkSubscriber(runId);
    const stream = this.#takeStream(principal);
    if (runId === undefined) {
      this.#unbound++;
      return once(() => {
        this.#unbound--;
        stream();
      });
    }
    const subscriber = this.#takeSubscriber(runId);
    return once(() => {
      subscriber();
      stream();
    });
  }

  /**
   * Counts one more stream of `principal` that follows no run (a WebSocket socket, whose
   * subscriptions count on their runs with {@link acquireSubscriber}), or throws 429
   * (`AW_TOO_MANY_STREAMS`). A shutdown does not wait for it. Returns the release function (idempotent).
   */
  acquireSlot(principal: string | undefined): () => void {
    this.#checkStream(principal);
    return once(this.#takeStream(principal));
  }

  /**
   * Counts one more subscriber of `runId` whose stream is counted by {@link acquireSlot}, or throws
   * 429 (`AW_TOO_MANY_SUBSCRIBERS`). Returns the release function (idempotent).
   */
  acquireSubscriber(runId: string): () => void {
    this.#checkSubscriber(runId);
    return once(this.#takeSubscriber(runId));
  }

  #checkStream(principal: string | undefined): void {
    if (this.#total >= this.#options.maxStreams) {
      throw new AgentwireError('AW_TOO_MANY_STREAMS', `this gateway holds its maximum of ${this.#options.maxStreams} streams; retry shortly`);
    }
    const mine = this.#byPrincipal.get(principal ?? '') ?? 0;
    if (principal !== undefined && mine >= this.#options.maxStreamsPerPrincipal) {
      throw new AgentwireError('AW_TOO_MANY_STREAMS', `you have ${mine} open streams, the maximum; close one first`);
    }
  }

  #checkSubscriber(runId: string): void {
    if ((this.#byRun.get(runId) ?? 0) >= this.#options.maxSubscribersPerRun) {
      throw new AgentwireError('AW_TOO_MANY_SUBSCRIBERS', `run ${runId} has its maximum of ${this.#options.maxSubscribersPerRun} subscribers`);
    }
  }

  #takeStream(principal: string | undefined): () => void {
    const key = principal ?? '';
    this.#total++;
    this.#byPrincipal.set(key, (this.#byPrincipal.get(key) ?? 0) + 1);
    return () => {
      this.#total--;
      decrement(this.#byPrincipal, key);
      for (const wake of [...this.#onRelease]) wake();
    };
  }

  #takeSubscriber(runId: string): () => void {
    this.#byRun.set(runId, (this.#byRun.get(runId) ?? 0) + 1);
    return () => {
      decrement(this.#byRun, runId);
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

/** `release`, callable many times, run once. */
function once(release: () => void): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    release();
  };
}

function decrement(map: Map<string, number>, key: string): void {
  const next = (map.get(key) ?? 1) - 1;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}
