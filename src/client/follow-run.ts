/**
 * The reconnecting core shared by {@link subscribe} and {@link startRun}: reads a run's event
 * stream, resumes after drops with `Last-Event-ID`, de-duplicates by `seq`, stops for good after a
 * terminal event, a 204 or a 404.
 *
 * @module
 */
import type { AgentEvent } from '../protocol/events.js';
import { isTerminalType } from '../protocol/events.js';
import { backoffDelay, sleep } from './backoff.js';
import { resolveBaseUrl } from './base-url.js';
import { causeText } from './cause-text.js';
import { readSse } from './read-sse.js';
import { type ConnectOptions, type ConnectionStatus, RunStreamError, type Transport, errorFromResponse } from './types.js';

/** Defaults of {@link ConnectOptions}. */
export const CLIENT_DEFAULTS = Object.freeze({
  heartbeatMs: 15_000,
  fallbackAfterMs: 5_000,
  /** Seconds a long-poll may wait on the server. */
  pollWaitSeconds: 25,
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxAttempts: Number.POSITIVE_INFINITY,
});

/** The first connection, already opened by the caller (a streamed start). */
export interface FirstConnection {
  response: Response;
  /** Aborts that response's request. */
  abort: () => void;
}

/** What {@link followRun} needs besides the options. */
export interface FollowRunInput {
  /** The run id, when known; a streamed start learns it from a header or `run.started`. */
  runId: string | undefined;
  /** Resume after this `seq`. */
  after: number;
  /** A streamed start's response, read before any reconnect. */
  first?: FirstConnection;
  /** Called with each run id learned (once). */
  onRunId?: (runId: string) => void;
}

/** Overload and server errors pass; a missing run or a bad request will not get better. */
function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/**
 * Yields the run's events in `seq` order, each exactly once, across any number of reconnects.
 * Throws a {@link RunStreamError} when it gives up (404, another 4xx, too many attempts, a start
 * that died before its run id was known).
 */
export async function* followRun(input: FollowRunInput, options: ConnectOptions): AsyncGenerator<AgentEvent> {
  for await (const batch of followRunBatches(input, options)) yield* batch;
}

/** {@link followRun} in batches: the events of one network read at a time (never empty). */
export async function* followRunBatches(input: FollowRunInput, options: ConnectOptions): AsyncGenerator<AgentEvent[]> {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const random = options.random ?? Math.random;
  const heartbeatMs = options.heartbeatMs ?? CLIENT_DEFAULTS.heartbeatMs;
  const idleTimeoutMs = options.idleTimeoutMs ?? Math.round(heartbeatMs * 2.5);
  const maxDelayMs = options.retry?.maxDelayMs ?? CLIENT_DEFAULTS.maxDelayMs;
  const maxAttempts = options.retry?.maxAttempts ?? CLIENT_DEFAULTS.maxAttempts;
  let baseDelayMs = options.retry?.initialDelayMs ?? CLIENT_DEFAULTS.initialDelayMs;
  const signal = options.signal;

  let runId = input.runId;
  let lastSeq = input.after;
  let transport: Transport = options.transport === 'poll' ? 'poll' : 'sse';
  const auto = (options.transport ?? 'auto') === 'auto';
  const fallbackAfterMs = options.fallbackAfterMs ?? CLIENT_DEFAULTS.fallbackAfterMs;
  /** Set once a stream delivered bytes: from then on a silent stream is a drop, not a blocked transport. */
  let ssePasses = false;
  let attempt = 0;
  let first = input.first;
  let current: (() => void) | undefined;
  let lastStatus: ConnectionStatus | undefined;
  const report = (status: ConnectionStatus) => {
    lastStatus = status;
    options.onStatus?.(status);
  };
  const onAbort = () => current?.();
  signal?.addEventListener('abort', onAbort);
  const learn = (id: string | null | undefined) => {
    if (!id || runId !== undefined) return;
    runId = id;
    input.onRunId?.(id);
  };

  try {
    // Inside the try, so a bad baseUrl is reported as closed with its error like every other failure.
    const base = resolveBaseUrl(options.baseUrl);
    for (;;) {
      if (signal?.aborted) return;
      if (attempt === 0 && !first && lastStatus === undefined) report({ state: 'connecting' });
      if (transport === 'poll' && runId !== undefined && !first) {
        // Long-polling: one request per batch, each waiting on the server for the next events.
        const controller = new AbortController();
        current = () => controller.abort();
        let body: { events: AgentEvent[]; next: number; done: boolean };
        try {
          const response = await fetchImpl(`${base}/api/runs/${encodeURIComponent(runId)}/poll?after=${lastSeq}&wait=${CLIENT_DEFAULTS.pollWaitSeconds}`, {
            headers: { ...options.headers, accept: 'application/json' },
            signal: controller.signal,
            cache: 'no-store',
          });
          if (!response.ok) {
            const error = await errorFromResponse(response, 'the long-poll was refused');
            if (!isRetryableStatus(response.status)) throw error;
            attempt = await retryOrThrow(attempt, error);
            continue;
          }
          body = (await response.json()) as typeof body;
        } catch (error) {
          if (signal?.aborted) return;
          if (error instanceof RunStreamError) throw error;
          attempt = await retryOrThrow(attempt, error);
          continue;
        } finally {
          current = undefined;
        }
        if (lastStatus?.state !== 'open') report({ state: 'open', transport: 'poll' });
        attempt = 0;
        const batch = body.events.filter((event) => typeof event.seq === 'number' && event.seq > lastSeq);
        const terminal = batch.findIndex((event) => isTerminalType(event.type));
        const delivered = terminal === -1 ? batch : batch.slice(0, terminal + 1);
        if (delivered.length > 0) {
          lastSeq = (delivered.at(-1) as AgentEvent).seq;
          yield delivered;
        }
        if (body.done || terminal !== -1) {
          report({ state: 'closed', reason: 'ended' });
          return;
        }
        continue;
      }
      let response: Response;
      // auto: a stream that stays silent past fallbackAfterMs is blocked or buffered on the way.
      let silent = false;
      const watchFallback = auto && !ssePasses;
      const fallbackTimer = watchFallback
        ? setTimeout(() => {
            silent = true;
            current?.();
          }, fallbackAfterMs)
        : undefined;
      const passed = () => {
        ssePasses = true;
        clearTimeout(fallbackTimer);
      };
      if (first) {
        response = first.response;
        current = first.abort;
        first = undefined;
      } else {
        const controller = new AbortController();
        current = () => controller.abort();
        try {
          const headers: Record<string, string> = { ...options.headers, accept: 'text/event-stream' };
          if (lastSeq > 0) headers['last-event-id'] = String(lastSeq);
          response = await fetchImpl(`${base}/api/runs/${encodeURIComponent(runId as string)}/events`, {
            headers,
            signal: controller.signal,
            cache: 'no-store',
          });
        } catch (error) {
          clearTimeout(fallbackTimer);
          if (signal?.aborted) return;
          if (silent && runId !== undefined) {
            transport = 'poll';
            continue;
          }
          attempt = await retryOrThrow(attempt, error);
          continue;
        }
      }
      learn(response.headers.get('x-agentwire-run-id'));
      if (!response.ok || response.status === 204) clearTimeout(fallbackTimer);
      if (response.status === 204) {
        report({ state: 'closed', reason: 'ended' });
        return;
      }
      if (!response.ok) {
        const error = await errorFromResponse(response, 'the event stream was refused');
        if (!isRetryableStatus(response.status)) throw error;
        attempt = await retryOrThrow(attempt, error);
        continue;
      }
      if (!response.body) throw new RunStreamError('AW_CONNECTION_FAILED', 'the event stream response has no body');
      report({ state: 'open', transport: 'sse' });
      let failure: unknown = new RunStreamError('AW_CONNECTION_FAILED', 'the server ended the stream before the run ended');
      try {
        for await (const messages of readSse(response.body, idleTimeoutMs, { onRetry: (ms) => (baseDelayMs = ms), onBytes: passed })) {
          const batch: AgentEvent[] = [];
          let ended = false;
          for (const message of messages) {
            let event: AgentEvent;
            try {
              event = JSON.parse(message.data) as AgentEvent;
            } catch {
              continue;
            }
            if (typeof event.seq !== 'number') continue;
            if (event.type === 'run.started') learn(event.runId);
            // Dedup: a resumed stream may overlap what was already delivered (a snapshot too: it stands for events up to its seq).
            if (event.seq <= lastSeq) continue;
            lastSeq = event.seq;
            batch.push(event);
            if (isTerminalType(event.type)) {
              ended = true;
              break;
            }
          }
          if (batch.length > 0) {
            attempt = 0;
            yield batch;
          }
          if (ended) {
            report({ state: 'closed', reason: 'ended' });
            return;
          }
        }
      } catch (error) {
        failure = error;
      } finally {
        current = undefined;
        clearTimeout(fallbackTimer);
      }
      if (signal?.aborted) return;
      if (silent && runId !== undefined) {
        // Nothing passed the stream, so try long-polling, which gets through where streams do not.
        transport = 'poll';
        continue;
      }
      attempt = await retryOrThrow(attempt, failure);
    }
  } catch (error) {
    report({ state: 'closed', reason: 'error', error });
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    current?.();
    if (lastStatus?.state !== 'closed') report({ state: 'closed', reason: 'aborted' });
  }

  /** Waits before the next attempt, or throws when retrying is not allowed. Returns the attempt number. */
  async function retryOrThrow(previous: number, error: unknown): Promise<number> {
    if (runId === undefined) {
      throw new RunStreamError('AW_START_INTERRUPTED', `the start request failed before the run id was known (${causeText(error)}); the run was not retried (it may or may not have started)`, { cause: error });
    }
    const next = previous + 1;
    if (next > maxAttempts) {
      throw new RunStreamError('AW_CONNECTION_FAILED', `gave up after ${maxAttempts} reconnect attempts (${causeText(error)})`, { cause: error });
    }
    const delayMs = backoffDelay(next, baseDelayMs, maxDelayMs, random);
    report({ state: 'reconnecting', attempt: next, delayMs, error });
    await sleep(delayMs, signal);
    return next;
  }
}
