import { describe, expect, it } from 'vitest';
import { RunFollowers } from './run-followers.js';

describe('RunFollowers', () => {
  it('wakes every listener, each once, even when one stops listening while woken', () => {
    const followers = new RunFollowers();
    const woken: string[] = [];
    let stopFirst: () => void = () => {};
    stopFirst = followers.listen({
      wake: () => {
        woken.push('first');
        stopFirst();
      },
    });
    followers.listen({ wake: () => woken.push('second') });
    expect(followers.any).toBe(true);
    followers.wakeAll();
    expect(woken).toEqual(['first', 'second']);
    followers.wakeAll();
    expect(woken).toEqual(['first', 'second', 'second']);
  });

  it('has no listener before the first and after the last stops', () => {
    const followers = new RunFollowers();
    expect(followers.any).toBe(false);
    followers.wakeAll();
    const stop = followers.listen({ wake: () => {} });
    stop();
    stop();
    expect(followers.any).toBe(false);
  });
});

describe('RunFollowers with one listener, then more', () => {
  it('wakes a lone listener, then every listener once a second joins, and none after all left', () => {
    const followers = new RunFollowers();
    const woken: string[] = [];
    const stopA = followers.listen({ wake: () => woken.push('a') });
    followers.wakeAll();
    const stopB = followers.listen({ wake: () => woken.push('b') });
    followers.wakeAll();
    stopA();
    followers.wakeAll();
    stopB();
    expect(followers.any).toBe(false);
    followers.wakeAll();
    expect(woken).toEqual(['a', 'a', 'b', 'b']);
  });

  it('forgets a lone listener that stops, and takes a new one after', () => {
    const followers = new RunFollowers();
    const woken: string[] = [];
    const stop = followers.listen({ wake: () => woken.push('first') });
    stop();
    expect(followers.any).toBe(false);
    followers.listen({ wake: () => woken.push('second') });
    followers.wakeAll();
    expect(woken).toEqual(['second']);
  });
});
