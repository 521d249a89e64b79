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
    // lru-cache serves an entry while its age is at most the TTL (the FIFO cache stopped at exactly it).
    now += 101;
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

  it('evicts the least recently used entry, not the first stored', async () => {
    const cache = createMemoryCache({ ttlMs: 60_000, maxEntries: 2 });
    await cache.fetch('a', async () => 'a');
    await cache.fetch('b', async () => 'b');
    expect((await cache.fetch('a', async () => 'a2')).hit).toBe(true); // a is now the most recent
    await cache.fetch('c', async () => 'c'); // evicts b, the least recently used
    expect(await cache.fetch('a', async () => 'a3')).toEqual({ value: 'a', hit: true });
    expect(await cache.fetch('b', async () => 'b2')).toEqual({ value: 'b2', hit: false });
  });

  it('concurrent misses of one key after a write share one computation', async () => {
    const cache = createMemoryCache({ ttlMs: 60_000 });
    await cache.fetch('k', async () => 'before');
    await cache.invalidate();
    let computed = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const compute = async () => {
      computed++;
      await gate; // the query is still running while the other requests arrive
      return 'after';
    };
    const burst = Array.from({ length: 20 }, () => cache.fetch('k', compute));
    release();
    const answers = await Promise.all(burst);
    expect(computed).toBe(1);
    expect(answers.map((a) => a.value)).toEqual(Array(20).fill('after'));
    expect(answers.filter((a) => !a.hit)).toHaveLength(1); // only the request that ran the query
  });

  it('a request after a write does not join a computation that started before it', async () => {
    const cache = createMemoryCache({ ttlMs: 60_000 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const before = cache.fetch('k', async () => {
      await gate;
      return 'computed before the write';
    });
    await cache.invalidate();
    const after = cache.fetch('k', async () => 'computed after the write');
    release();
    expect((await before).value).toBe('computed before the write');
    expect(await after).toEqual({ value: 'computed after the write', hit: false });
    expect(await cache.fetch('k', async () => 'again')).toEqual({
      value: 'computed after the write',
      hit: true,
    });
  });

  it('a failed computation is handed to every waiter and not stored', async () => {
    const cache = createMemoryCache({ ttlMs: 60_000 });
    let calls = 0;
    const failing = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('database unavailable');
    };
    const results = await Promise.allSettled([cache.fetch('k', failing), cache.fetch('k', failing)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    expect(await cache.fetch('k', async () => 'ok')).toEqual({ value: 'ok', hit: false });
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
