/**
 * Metrics counted in plain numbers on the request and event paths and handed to prom-client when
 * `/metrics` is scraped. prom-client validates every value and hashes the label object on each
 * `inc` or `observe`, too much for a path every request and event takes: here those are plain
 * additions.
 *
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** A label-free counter whose increments are plain additions until a scrape reads it. */
export interface ScrapedCounter {
  add(value: number): void;
}

/** A label-free {@link ScrapedCounter}. */
export function scrapedCounter(name: string, help: string, registers: Registry[]): ScrapedCounter {
  let pending = 0;
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.inc(pending);
      pending = 0;
    },
  });
  return {
    add: (value) => {
      pending += value;
    },
  };
}

/** A counter or gauge with one or two labels, changed by `add(first, second, delta)`. */
export interface ScrapedTally {
  /** Adds `delta` (negative for a gauge going down) to the series of these label values. */
  add(first: string, second: string, delta: number): void;
}

interface TallyEntry {
  labels: Record<string, string>;
  delta: number;
}

/** Configuration of {@link scrapedTally}. */
export interface ScrapedTallyConfig {
  kind: 'counter' | 'gauge';
  name: string;
  help: string;
  /** One or two label names; with one, `add`'s `second` is ignored. */
  labelNames: readonly [string] | readonly [string, string];
  registers: Registry[];
}

/**
 * A {@link ScrapedTally}. Every label set ever added stays a series (a gauge's goes back to 0), as
 * prom-client shows a series once it has been touched; label values are few (agents, outcomes,
 * formats), so the entries are too.
 */
export function scrapedTally(config: ScrapedTallyConfig): ScrapedTally {
  const [firstName, secondName] = config.labelNames;
  const entries = new Map<string, Map<string, TallyEntry>>();
  const flush = (metric: Counter | Gauge) => {
    for (const byFirst of entries.values()) {
      for (const entry of byFirst.values()) {
        metric.inc(entry.labels, entry.delta);
        entry.delta = 0;
      }
    }
  };
  const Metric = config.kind === 'counter' ? Counter : Gauge;
  new Metric({
    name: config.name,
    help: config.help,
    labelNames: config.labelNames,
    registers: config.registers,
    collect(this: Counter | Gauge) {
      flush(this);
    },
  });
  return {
    add(first, second, delta) {
      const key = secondName === undefined ? '' : second;
      let byFirst = entries.get(first);
      if (!byFirst) entries.set(first, (byFirst = new Map()));
      let entry = byFirst.get(key);
      if (!entry) {
        entry = { labels: secondName === undefined ? { [firstName]: first } : { [firstName]: first, [secondName]: second }, delta: 0 };
        byFirst.set(key, entry);
      }
      entry.delta += delta;
    },
  };
}

/** A histogram with one label whose observations are kept until a scrape (or 1,024 of them). */
export interface ScrapedHistogram {
  observe(label: string, value: number): void;
}

/** Most observations held between scrapes, so a gateway nobody scrapes holds bounded memory. */
const MAX_PENDING_OBSERVATIONS = 1024;

/** A {@link ScrapedHistogram}. */
export function scrapedHistogram(config: { name: string; help: string; labelName: string; buckets: number[]; registers: Registry[] }): ScrapedHistogram {
  const pending = new Map<string, number[]>();
  let count = 0;
  const histogram = new Histogram({
    name: config.name,
    help: config.help,
    labelNames: [config.labelName],
    buckets: config.buckets,
    registers: config.registers,
    collect() {
      flush();
    },
  });
  const flush = () => {
    for (const [label, values] of pending) {
      const labels = { [config.labelName]: label };
      for (const value of values) histogram.observe(labels, value);
      values.length = 0;
    }
    count = 0;
  };
  return {
    observe(label, value) {
      let values = pending.get(label);
      if (!values) pending.set(label, (values = []));
      values.push(value);
      if (++count >= MAX_PENDING_OBSERVATIONS) flush();
    },
  };
}
