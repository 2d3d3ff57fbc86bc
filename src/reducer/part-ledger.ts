/**
 * {@link PartLedger}: what a bounded {@link RunFold} keeps of one kind of part (steps, tool calls or
 * `data` names), oldest first, each with an estimate of its JSON size, so the fold knows when the
 * kind passed its share and which parts are oldest. Each operation costs O(1) amortised.
 *
 * Browser-safe: no `node:*` import.
 *
 * @module
 */

/** Ids with a cost, in the order they were last added (see the module comment). */
export class PartLedger {
  /** Most total cost kept: past it, the fold drops the oldest parts. */
  readonly max: number;
  /** Ids in the order added; an entry is live while `#entries` maps its id to its position. */
  #order: string[] = [];
  #head = 0;
  /** Made at the first add: a bounded fold has a ledger per kind, and most runs use one or two kinds. */
  #entries: Map<string, { cost: number; at: number }> | undefined;
  #total = 0;
  /** The id added last and its entry, while it is kept: a part added again and again (a data name) costs no lookup. */
  #newestId: string | undefined = undefined;
  #newestEntry: { cost: number; at: number } | undefined = undefined;

  constructor(max: number) {
    this.max = max;
  }

  /** Sum of the costs of the parts kept. */
  get total(): number {
    return this.#total;
  }

  /** Number of parts kept. */
  get size(): number {
    return this.#entries?.size ?? 0;
  }

  /** The id added last, while it is kept. */
  get newest(): string | undefined {
    const id = this.#order.at(-1);
    return id !== undefined && this.#entries?.get(id)?.at === this.#order.length - 1 ? id : undefined;
  }

  /** The cost recorded for `id`, or `undefined` when it is not kept. */
  cost(id: string): number | undefined {
    return this.#entries?.get(id)?.cost;
  }

  /** Records `id` as the newest part, with `cost` (a part added again moves to the newest place). */
  add(id: string, cost: number): void {
    const newest = this.#newestEntry;
    if (newest !== undefined && id === this.#newestId) {
      // Already the newest (a data name set again and again): changed in place.
      this.#total += cost - newest.cost;
      newest.cost = cost;
      return;
    }
    this.delete(id);
    const entries = (this.#entries ??= new Map());
    const entry = { cost, at: this.#order.length };
    entries.set(id, entry);
    this.#order.push(id);
    this.#newestId = id;
    this.#newestEntry = entry;
    this.#total += cost;
    // Parts added again leave stale entries behind: rebuilt once they are most of the order.
    if (this.#order.length > 2 * entries.size + 64) this.#compact();
  }

  /** Changes the cost of a kept part, keeping its place (nothing when it is not kept). */
  update(id: string, cost: number): void {
    const entry = this.#entries?.get(id);
    if (!entry) return;
    this.#total += cost - entry.cost;
    entry.cost = cost;
  }

  /** Forgets `id` (nothing when it is not kept). */
  delete(id: string): void {
    const entry = this.#entries?.get(id);
    if (!entry) return;
    this.#entries?.delete(id);
    this.#total -= entry.cost;
    if (entry === this.#newestEntry) {
      this.#newestId = undefined;
      this.#newestEntry = undefined;
    }
  }

  /** The kept ids, oldest first (a snapshot of them: the caller may delete while it goes). */
  oldest(): string[] {
    this.#compact();
    return this.#order.slice(this.#head);
  }

  /** Drops the stale entries at the head, and rebuilds the order once most of it is stale. */
  #compact(): void {
    const order = this.#order;
    const entries = this.#entries;
    if (entries === undefined) return;
    while (this.#head < order.length && entries.get(order[this.#head] as string)?.at !== this.#head) this.#head++;
    if (order.length <= 2 * entries.size + 64) return;
    const live: string[] = [];
    for (let index = this.#head; index < order.length; index++) {
      const id = order[index] as string;
      const entry = entries.get(id);
      if (entry?.at === index) {
        entry.at = live.length;
        live.push(id);
      }
    }
    this.#order = live;
    this.#head = 0;
  }
}

/** Length of `value` as JSON (0 for what JSON cannot hold): how a part's size is estimated. */
export function jsonLength(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value === 'string') return value.length + 2;
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0;
  }
}
