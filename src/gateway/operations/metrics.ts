/**
 * Prometheus metrics of a gateway (`GET /metrics`), with prom-client: runs by state and outcome,
 * open streams, events and bytes sent, resumes, slow-consumer waits, snapshots sent to subscribers
 * that fell behind the log, subscribers dropped and why, producers aborted and why, errors agents
 * threw while stopping, and the event loop's delay.
 *
 * @module
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RunEndInfo, RunInfo } from '../../runner/runner.js';
import { type ScrapedCounter, type ScrapedHistogram, type ScrapedTally, scrapedCounter, scrapedHistogram, scrapedTally } from './scraped-metrics.js';

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
  /**
   * The gateway dropped the subscriber (`reason`: `stalled`, it read nothing for the stall timeout);
   * `transport` defaults to `sse`.
   */
  dropped(reason: 'stalled', transport?: string): void;
  closed(format: string, transport?: string): void;
}

/** Tells `observer` of the snapshots in a batch (a reader behind the retained events gets one first). */
export function countSnapshots(batch: readonly { readonly type: string }[], observer: StreamObserver): void {
  for (let index = 0; index < batch.length; index++) if ((batch[index] as { type: string }).type === 'run.snapshot') observer.snapshot();
}

/** The metrics of one gateway, in their own registry. */
export class GatewayMetrics implements StreamObserver {
  readonly registry = new Registry();
  readonly #runsStarted: ScrapedTally;
  readonly #runsEnded: ScrapedTally;
  readonly #aborted: Counter<'reason'>;
  readonly #runDuration: ScrapedHistogram;
  readonly #streams: ScrapedTally;
  readonly #events: ScrapedCounter;
  readonly #bytes: ScrapedCounter;
  readonly #resumes: Counter;
  readonly #waits: Counter;
  readonly #snapshots: Counter;
  readonly #loopDelay: Histogram;
  readonly #refused: Counter<'code'>;
  readonly #dropped: Counter<'reason' | 'transport'>;
  readonly #cleanupErrors: Counter;
  readonly #storeFaults: Counter<'operation'>;
  readonly #loop: ReturnType<typeof monitorEventLoopDelay>;
  readonly #sampler: ReturnType<typeof setInterval>;

  constructor(liveRuns: () => number) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'agentwire_' });
    // Per-run and per-stream series are counted in plain numbers, handed to prom-client when scraped.
    this.#runsStarted = scrapedTally({ kind: 'counter', name: 'agentwire_runs_started_total', help: 'Runs started', labelNames: ['agent'], registers });
    this.#runsEnded = scrapedTally({
      kind: 'counter',
      name: 'agentwire_runs_ended_total',
      help: 'Runs ended, by outcome',
      labelNames: ['agent', 'outcome'],
      registers,
    });
    new Gauge({
      name: 'agentwire_runs_running',
      help: 'Runs this gateway is driving',
      registers,
      collect() {
        this.set(liveRuns());
      },
    });
    this.#aborted = new Counter({ name: 'agentwire_producers_aborted_total', help: 'Agents whose signal was aborted, by reason', labelNames: ['reason'], registers });
    this.#runDuration = scrapedHistogram({
      name: 'agentwire_run_duration_seconds',
      help: 'Run durations',
      labelName: 'outcome',
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800],
      registers,
    });
    this.#streams = scrapedTally({ kind: 'gauge', name: 'agentwire_streams_open', help: 'Open event streams', labelNames: ['transport', 'format'], registers });
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
    this.#dropped = new Counter({
      name: 'agentwire_subscribers_dropped_total',
      help: 'Subscribers the gateway dropped, by reason (stalled: read nothing for the stall timeout) and transport',
      labelNames: ['reason', 'transport'],
      registers,
    });
    this.#cleanupErrors = new Counter({
      name: 'agentwire_agent_cleanup_errors_total',
      help: "Errors an agent's finally threw after its run was stopped",
      registers,
    });
    this.#storeFaults = new Counter({
      name: 'agentwire_store_errors_total',
      help: 'Failures the run store met and retried (follow, lease, write, ...), by operation',
      labelNames: ['operation'],
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
    this.#runsStarted.add(run.agent, '', 1);
  }

  /** Counts an ended run, its duration, and why it was aborted if it was. */
  runEnded(run: RunEndInfo): void {
    this.#runsEnded.add(run.agent, run.outcome, 1);
    this.#runDuration.observe(run.outcome, run.durationMs / 1000);
    if (run.abortSource && run.abortSource !== 'failure') this.#aborted.inc({ reason: run.abortSource });
  }

  opened(format: string, resumed: boolean, transport = 'sse'): void {
    this.#streams.add(transport, format, 1);
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

  dropped(reason: 'stalled', transport = 'sse'): void {
    this.#dropped.inc({ reason, transport });
  }

  /** Counts an error thrown by an agent's `finally` after its run was stopped. */
  agentCleanupError(): void {
    this.#cleanupErrors.inc();
  }

  closed(format: string, transport = 'sse'): void {
    this.#streams.add(transport, format, -1);
  }

  /** Counts a request refused with `code` (limits, auth). */
  refused(code: string): void {
    this.#refused.inc({ code });
  }

  /** Counts a failure the run store met (see `RunStore.onFault`). */
  storeFault(operation: string): void {
    this.#storeFaults.inc({ operation });
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
