/**
 * A short-lived cache for read queries (aggregates, latest counts, totals): dashboards poll the same
 * few queries from many screens. Every committed write invalidates it, so the next read after a write
 * sees it; the TTL bounds memory and, without Redis, how stale another instance's view can be.
 * Concurrent misses of one query share one computation, so the burst of dashboard reads that follows
 * every ingestion runs each query once. In-process by default (least recently used entries evicted
 * first); in Redis when REDIS_URL is set, so instances share entries and one instance's write
 * invalidates everyone's. A cache failure is a miss, never a failed request.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';

export interface QueryCache {
  readonly kind: 'memory' | 'redis' | 'off';
  /**
   * The cached value for `key`, or `compute()`'s (then stored); `hit` is false only for the request
   * whose `compute` ran. A result computed across a write is never served to a request that arrives
   * after the write (Redis: stored under the old generation; in-process: the write empties the cache).
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

/**
 * In-process: a least-recently-used cache (lru-cache) of at most `maxEntries` answers, each kept for
 * `ttlMs`. Concurrent misses of one key share one computation (lru-cache's `fetch`): a burst of
 * dashboards asking the same query right after a write runs it once, not once per request. Keys carry a
 * generation that `invalidate` bumps (and the cache is emptied): a computation still running across a
 * write is handed to the requests waiting for it but never served again (dropped, or stored under the
 * old generation), and a request that arrives after the write starts a fresh computation.
 */
export function createMemoryCache(opts: {
  ttlMs: number;
  /** 1000: answers are small JSON documents; the dashboards' distinct queries are far fewer. */
  maxEntries?: number;
  now?: () => number;
}): QueryCache {
  // Boxed, since lru-cache treats an undefined value as "no value".
  type Box = { value: unknown };
  type Compute = () => Promise<unknown>;
  const entries = new LRUCache<string, Box, Compute>({
    max: opts.maxEntries ?? 1000,
    ttl: opts.ttlMs,
    // An injected clock is read on every check (lru-cache otherwise reuses a reading for 1 ms).
    ...(opts.now ? { perf: { now: opts.now }, ttlResolution: 0 } : {}),
    // Emptied or evicted while computing: still answer the requests that wait for it (not stored).
    ignoreFetchAbort: true,
    fetchMethod: async (_key, _stale, { context: compute }) => ({ value: await compute() }),
  });
  let generation = 0;
  return {
    kind: 'memory',
    async fetch<T>(key: string, compute: () => Promise<T>) {
      const status: LRUCache.Status<string, Box, Compute> = {};
      const box = await entries.fetch(`${generation}:${key}`, { context: compute, status });
      // Only the request that dispatched the computation ran the query; a joiner is served like a hit.
      return { value: box!.value as T, hit: !status.fetchDispatched };
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
  const inflight = new Map<string, Promise<unknown>>();
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
      if (k === undefined) return { value: await compute(), hit: false };
      // Concurrent misses of one key in this instance share one computation; the key carries the
      // generation, so a request after a write never joins a computation that started before it.
      const running = inflight.get(k);
      if (running) return { value: (await running) as T, hit: true };
      const stored = k;
      const computing = (async () => {
        const value = await compute();
        await redis.set(stored, JSON.stringify(value), 'PX', opts.ttlMs).catch(warn);
        return value;
      })();
      inflight.set(stored, computing);
      try {
        return { value: await computing, hit: false };
      } finally {
        inflight.delete(stored);
      }
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
