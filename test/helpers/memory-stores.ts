/**
 * MemoryStores for unit tests that are closed after each test, so no store's timers outlive the
 * test that opened it.
 */
import { afterEach } from 'vitest';
import { MemoryStore, type MemoryStoreOptions } from '../../src/store/memory-store.js';

/**
 * Registers an `afterEach` that closes every store made since the last test, and returns the
 * factory that makes them. Call it once, at the top level of a test file (or in a `describe`).
 */
export function closingMemoryStores(): (options?: MemoryStoreOptions) => MemoryStore {
  const stores: MemoryStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });
  return (options = {}) => {
    const store = new MemoryStore(options);
    stores.push(store);
    return store;
  };
}
