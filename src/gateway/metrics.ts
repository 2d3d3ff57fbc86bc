/**
 * Prometheus metrics of a gateway (`GET /metrics`), with prom-client: runs by state and outcome,
 * open streams, events and bytes sent, resumes, slow-consumer waits, snapshots sent to subscribers
 * that fell behind the log, producers aborted and why, and the event loop's delay.
 *
 * @module
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RunEndInfo, RunInfo } from '../runner/runner.js';

/** What a stream reports while it runs. */
export interface StreamObserver {
  /** A stream opened (`transport` defaults to `sse`); `resumed` when it started after a cursor. */
  opened(format: string, resumed: boolean, transport?: string): void;
  /** `events` events (`bytes` bytes) were written. */
  wrote(events: number, bytes: number): void;
  /** The client's buffer was full: the stream waited for it to drain. */
  waited(): void;
  /** The client had fallen behind the log: it received a snapshot instead of evicted events. */
  snapshot(): void;
  closed(format: string, transport?: string): void;
}

/** The metrics of one gateway, in their own registry. */
export class GatewayMetrics implements StreamObserver {
  readonly registry = new Registry();
  readonly #runsStarted: Counter<'agent'>;
  readonly #runsEnded: Counter<'agent' | 'outcome'>;
  readonly #aborted: Counter<'reason'>;
  readonly #runDuration: Histogram<'outcome'>;
  readonly #streams: Gauge<'transport' | 'format'>;
  readonly #events: ScrapedCounter;
  readonly #bytes: ScrapedCounter;
  readonly #resumes: Counter;
  readonly #waits: Counter;
  readonly #snapshots: Counter;
  readonly #loopDelay: Histogram;
  readonly #refused: Counter<'code'>;
  readonly #loop: ReturnType<typeof monitorEventLoopDelay>;
  readonly #sampler: ReturnType<typeof setInterval>;

  constructor(liveRuns: () => number) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'agentwire_' });
    this.#runsStarted = new Counter({ name: 'agentwire_runs_started_total', help: 'Runs started', labelNames: ['agent'], registers });
    this.#runsEnded = new Counter({ name: 'agentwire_runs_ended_total', help: 'Runs ended, by outcome', labelNames: ['agent', 'outcome'], registers });
    new Gauge({
      name: 'agentwire_runs_running',
      help: 'Runs this gateway is driving',
      registers,
      collect() {
        this.set(liveRuns());
      },
    });
    this.#aborted = new Counter({ name: 'agentwire_producers_aborted_total', help: 'Agents whose signal was aborted, by reason', labelNames: ['reason'], registers });
    this.#runDuration = new Histogram({
      name: 'agentwire_run_duration_seconds',
      help: 'Run durations',
      labelNames: ['outcome'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800],
      registers,
    });
    this.#streams = new Gauge({ name: 'agentwire_streams_open', help: 'Open event streams', labelNames: ['transport', 'format'], registers });
    // Counted per write in plain numbers, handed to prom-client when scraped (see scrapedCounter).
    this.#events = scrapedCounter('agentwire_events_sent_total', 'Events written to streams', registers);
    this.#bytes = scrapedCounter('agentwire_bytes_sent_total', 'Bytes (UTF-16 code units) written to streams', registers);
    this.#resumes = new Counter({ name: 'agentwire_resumes_total', help: 'Streams opened after a cursor (reconnects and resumes)', registers });
    this.#waits = new Counter({ name: 'agentwire_slow_consumer_waits_total', help: "Times a stream waited for a client's full buffer to drain", registers });
    this.#snapshots = new Counter({
      name: 'agentwire_snapshots_sent_total',
      help: 'Snapshots sent to subscribers whose events had been evicted from the log (dropped events)',
      registers,
    });
    this.#loopDelay = new Histogram({
      name: 'agentwire_event_loop_delay_seconds',
      help: 'Worst event-loop delay in each second',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.#refused = new Counter({
      name: 'agentwire_requests_refused_total',
      help: 'Requests refused by a limit or a check (413, 429, 401, 403), by error code',
      labelNames: ['code'],
      registers,
    });
    this.#loop = monitorEventLoopDelay({ resolution: 10 });
    this.#loop.enable();
    this.#sampler = setInterval(() => {
      this.#loopDelay.observe(this.#loop.max / 1e9);
      this.#loop.reset();
    }, 1_000);
    this.#sampler.unref();
  }

  /** Counts a started run. */
  runStarted(run: RunInfo): void {
    this.#runsStarted.inc({ agent: run.agent });
  }

  /** Counts an ended run, its duration, and why it was aborted if it was. */
  runEnded(run: RunEndInfo): void {
    this.#runsEnded.inc({ agent: run.agent, outcome: run.outcome });
    this.#runDuration.observe({ outcome: run.outcome }, run.durationMs / 1000);
    if (run.abortSource && run.abortSource !== 'failure') this.#aborted.inc({ reason: run.abortSource });
  }

  opened(format: string, resumed: boolean, transport = 'sse'): void {
    this.#streams.inc({ transport, format });
    if (resumed) this.#resumes.inc();
  }

  wrote(events: number, bytes: number): void {
    this.#events.add(events);
    this.#bytes.add(bytes);
  }

  waited(): void {
    this.#waits.inc();
  }

  snapshot(): void {
    this.#snapshots.inc();
  }

  closed(format: string, transport = 'sse'): void {
    this.#streams.dec({ transport, format });
  }

  /** Counts a request refused with `code` (limits, auth). */
  refused(code: string): void {
    this.#refused.inc({ code });
  }

  /** The metrics in Prometheus text format. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The `content-type` of {@link text}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stops the samplers. */
  close(): void {
    clearInterval(this.#sampler);
    this.#loop.disable();
  }
}

/** A label-free counter whose increments are plain additions until a scrape reads it. */
interface ScrapedCounter {
  add(value: number): void;
}

/**
 * A {@link ScrapedCounter}: `Counter.inc` validates its value and hashes labels, a cost a per-write
 * counter would pay once per event per subscriber; this one pays it once per scrape.
 */
function scrapedCounter(name: string, help: string, registers: Registry[]): ScrapedCounter {
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
