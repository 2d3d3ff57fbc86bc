/**
 * The run store's own failures (see `RunStore.onFault`), told by the gateway: the first of each
 * episode and its recovery as log lines with their context, every occurrence counted in
 * `agentwire_store_errors_total{operation}`.
 *
 * @module
 */
import type { RunStore, StoreFault } from '../../store/store.js';
import type { Logger } from './logger.js';
import type { GatewayMetrics } from './metrics.js';

/** Listens to `store`'s faults; returns the function that stops. Without a logger or metrics, the store logs on its own. */
export function watchStoreFaults(store: RunStore, logger: Logger | undefined, metrics: GatewayMetrics | undefined): () => void {
  if (!store.onFault || (!logger && !metrics)) return () => {};
  return store.onFault((fault: StoreFault) => {
    if (fault.state === 'failing') metrics?.storeFault(fault.operation);
    if (fault.state === 'failing' && fault.occurrence !== 1) return;
    const fields = { event: `store.${fault.state}`, operation: fault.operation, runId: fault.runId, occurrences: fault.occurrence, err: fault.error };
    if (!logger) console.error(`[agentwire] store: ${fault.message}`, fault.error ?? '');
    else if (fault.state === 'recovered') logger.info(fields, `store: ${fault.message}`);
    else logger.error(fields, `store: ${fault.message}`);
  });
}
