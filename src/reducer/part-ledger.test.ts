import { afterEach, describe, expect, it, vi } from 'vitest';
import { PartLedger } from './part-ledger.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('PartLedger', () => {
  it('keeps the total, the newest and the order as parts are added again, deleted and re-added', () => {
    const ledger = new PartLedger(1_000);
    ledger.add('a', 10);
    ledger.add('b', 20);
    ledger.add('b', 25);
    expect([ledger.total, ledger.newest, ledger.oldest()]).toEqual([35, 'b', ['a', 'b']]);
    ledger.delete('b');
    expect([ledger.total, ledger.newest, ledger.size]).toEqual([10, undefined, 1]);
    ledger.add('b', 5);
    ledger.add('a', 1);
    ledger.add('a', 2);
    expect([ledger.total, ledger.newest, ledger.oldest(), ledger.cost('a')]).toEqual([7, 'a', ['b', 'a'], 2]);
  });

  it('looks nothing up to change the newest part again (a data name set at every event)', () => {
    const ledger = new PartLedger(1_000);
    ledger.add('b', 10);
    const get = vi.spyOn(Map.prototype, 'get');
    for (let index = 0; index < 100; index++) ledger.add('b', index);
    expect(get).not.toHaveBeenCalled();
    expect(ledger.total).toBe(99);
  });
});
