/**
 * A short-lived cache for read queries (aggregates, latest counts, totals): dashboards poll the same
 * few queries from many screens. Entries are keyed by a data generation that every committed write
 * bumps, so the next read after a write sees it; the TTL bounds memory and, without Redis, how stale
 * another instance's view can be. In-process by default; in Redis when REDIS_URL is set, so instances
 * share entries and one instance's write invalidates everyone's. A cache failure is a miss, never a
 * failed request.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface QueryCache {
  readonly kind: 'memory' | 'redis' | 'off';
  /**
   * The cached value for `key`, or `compute()`'s (then stored). The generation is read before
   * computing, so a result computed across a write is stored under the old generation and never served.
   */
  fetch<T>(key: string, compute: () => Promise<T>): Promise<{ value: T; hit: boolean }>;
  /** Called after every committed write: earlier entries stop being served. */
  invalidate(): Promise<void>;
  close(): Promise<void>;
}

export const cacheKey = (route: string, query: unknown) =>
  `${route}:${createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 32)}`;

export function createNoCache(): QueryCache {
  return {
    kind: 'off',
    fetch: async (_key, compute) => ({ value: await compute(), hit: false }),
    invalidate: async () => {},
    close: async () => {},
  };
}

export function createMemoryCache(opts: {
  ttlMs: number;
  maxEntries?: number;
  now?: () => number;
}): QueryCache {
  const now = opts.now ?? Date.now;
  const max = opts.maxEntries ?? 1000;
  let generation = 0;
  const entries = new Map<string, { value: unknown; expires: number }>();
  return {
    kind: 'memory',
    async fetch<T>(key: string, compute: () => Promise<T>) {
      const gen = generation;
      const k = `${gen}:${key}`;
      const hit = entries.get(k);
      if (hit && hit.expires > now()) return { value: hit.value as T, hit: true };
      entries.delete(k);
      const value = await compute();
      if (gen === generation) {
        // Maps iterate in insertion order: the first key is the oldest.
        if (entries.size >= max) entries.delete(entries.keys().next().value as string);
        entries.set(k, { value, expires: now() + opts.ttlMs });
      }
      return { value, hit: false };
    },
    async invalidate() {
      generation++;
      entries.clear();
    },
    async close() {
      entries.clear();
    },
  };
}

export async function createRedisCache(opts: {
  url: string;
  ttlMs: number;
  logger?: Pick<Logger, 'warn'>;
  prefix?: string;
}): Promise<QueryCache> {
  const prefix = opts.prefix ?? 'its:cache';
  const genKey = `${prefix}:generation`;
  const redis = new Redis(opts.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
  });
  redis.on('error', (err: Error) =>
    opts.logger?.warn({ err: { message: err.message } }, 'redis cache connection error'),
  );
  await redis.connect();
  const warn = (err: unknown) =>
    opts.logger?.warn(
      { err: { message: (err as Error).message } },
      'redis cache unavailable; serving uncached',
    );
  return {
    kind: 'redis',
    async fetch<T>(key: string, compute: () => Promise<T>) {
      let k: string | undefined;
      try {
        k = `${prefix}:${(await redis.get(genKey)) ?? '0'}:${key}`;
        const raw = await redis.get(k);
        if (raw !== null) return { value: JSON.parse(raw) as T, hit: true };
      } catch (err) {
        warn(err);
      }
      const value = await compute();
      if (k) await redis.set(k, JSON.stringify(value), 'PX', opts.ttlMs).catch(warn);
      return { value, hit: false };
    },
    async invalidate() {
      await redis.incr(genKey).catch(warn);
    },
    async close() {
      await redis.quit().catch(() => undefined);
      redis.disconnect();
    },
  };
}
