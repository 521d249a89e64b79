import { describe, expect, it } from 'vitest';
import { cacheKey, createMemoryCache, createNoCache } from '../src/cache/query-cache.js';

describe('in-process query cache', () => {
  it('serves a stored value until it expires', async () => {
    let now = 1000;
    const cache = createMemoryCache({ ttlMs: 100, now: () => now });
    let computed = 0;
    const compute = async () => ++computed;
    expect(await cache.fetch('k', compute)).toEqual({ value: 1, hit: false });
    expect(await cache.fetch('k', compute)).toEqual({ value: 1, hit: true });
    now += 100;
    expect(await cache.fetch('k', compute)).toEqual({ value: 2, hit: false });
  });

  it('a write (invalidate) hides every earlier entry at once', async () => {
    const cache = createMemoryCache({ ttlMs: 60_000 });
    await cache.fetch('k', async () => 'old');
    await cache.invalidate();
    expect(await cache.fetch('k', async () => 'new')).toEqual({ value: 'new', hit: false });
  });

  it('never stores a result computed across a write', async () => {
    const cache = createMemoryCache({ ttlMs: 60_000 });
    const slow = cache.fetch('k', async () => {
      await cache.invalidate(); // a write commits while the query runs
      return 'computed before the write';
    });
    expect((await slow).value).toBe('computed before the write');
    expect(await cache.fetch('k', async () => 'fresh')).toEqual({ value: 'fresh', hit: false });
  });

  it('keeps at most maxEntries, evicting the oldest', async () => {
    const cache = createMemoryCache({ ttlMs: 60_000, maxEntries: 2 });
    for (const k of ['a', 'b', 'c']) await cache.fetch(k, async () => k);
    expect((await cache.fetch('a', async () => 'a2')).hit).toBe(false);
    expect((await cache.fetch('c', async () => 'c2')).hit).toBe(true);
  });

  it('keys differ by route and query; the disabled cache always computes', async () => {
    expect(cacheKey('/a', { x: 1 })).not.toBe(cacheKey('/a', { x: 2 }));
    expect(cacheKey('/a', { x: 1 })).not.toBe(cacheKey('/b', { x: 1 }));
    const off = createNoCache();
    await off.fetch('k', async () => 1);
    expect(await off.fetch('k', async () => 2)).toEqual({ value: 2, hit: false });
    await off.invalidate();
    await off.close();
  });
});
