import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@its/testkit';
import { createRedisCache, type QueryCache } from '../src/cache/query-cache.js';

let redis: RedisServer;
let cache: QueryCache;

beforeAll(async () => {
  redis = await startRedis();
  cache = await createRedisCache({ url: redis.url, ttlMs: 60_000, prefix: 'test:cache' });
});
afterAll(async () => {
  await cache?.close();
  await redis?.stop();
});

describe('Redis query cache', () => {
  it('concurrent misses of one key in one instance share one computation; a later write is honoured', async () => {
    await cache.invalidate();
    let computed = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const compute = async () => {
      computed++;
      await gate;
      return { volume: 42 };
    };
    const burst = Array.from({ length: 20 }, () => cache.fetch('q', compute));
    // Every request has read the generation and missed before the query finishes.
    await new Promise((r) => setTimeout(r, 100));
    release();
    const answers = await Promise.all(burst);
    expect(computed).toBe(1);
    expect(answers.every((a) => a.value.volume === 42)).toBe(true);
    expect(answers.filter((a) => !a.hit)).toHaveLength(1);
    expect(await cache.fetch('q', compute)).toEqual({ value: { volume: 42 }, hit: true });

    await cache.invalidate();
    expect(await cache.fetch('q', async () => ({ volume: 43 }))).toEqual({
      value: { volume: 43 },
      hit: false,
    });
  });
});
