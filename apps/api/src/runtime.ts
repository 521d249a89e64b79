/**
 * Wires config → store (migrated) → events bus → app. server.ts and startApi() both use it, so the
 * process a deployment runs and the one a test starts are assembled the same way.
 */
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { createMemoryCache, createNoCache, createRedisCache, type QueryCache } from './cache/query-cache.js';
import type { Config } from './config.js';
import { describeConfig } from './config.js';
import type { Detector } from './context.js';
import { createMemoryBus, createRedisBus, type EventBus } from './events/bus.js';
import { DatabaseUnavailableError } from './errors.js';
import { createLogger } from './logger.js';
import { createStore, type Store } from './store/create-store.js';
import { scheduleRetention, type RetentionSchedule } from './store/retention.js';
import {
  countCameras,
  EMBEDDED_STORE_MAX_CAMERAS,
  planEmbeddedStoreWarning,
} from './store/embedded-store-advice.js';

export interface Runtime {
  app: FastifyInstance;
  store: Store;
  bus: EventBus;
  logger: Logger;
  /** Closes the app (ending live streams, waiting for in-flight requests), then the bus and the store. */
  close(): Promise<void>;
}

/**
 * Migrates, waiting up to `waitMs` for an unreachable database: compose and orchestrators start the API
 * and PostgreSQL together, and crash-looping until PostgreSQL accepts connections helps nobody.
 */
export async function migrateWhenReachable(
  store: Pick<Store, 'migrate'>,
  waitMs: number,
  logger: { warn: (details: object, message: string) => void },
): Promise<number[]> {
  const deadline = Date.now() + waitMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await store.migrate();
    } catch (err) {
      if (!(err instanceof DatabaseUnavailableError) || Date.now() + delay > deadline) throw err;
      logger.warn({ retryInMs: delay, reason: err.message }, 'database not reachable yet; waiting');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export async function createRuntime(
  config: Config,
  opts: { detector?: Detector | undefined; logger?: Logger; clock?: () => Date } = {},
): Promise<Runtime> {
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  logger.info({ config: describeConfig(config) }, 'starting');
  const store = await createStore({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, logger });
  let bus: EventBus | undefined;
  let cache: QueryCache | undefined;
  let retention: RetentionSchedule | undefined;
  try {
    const applied = await migrateWhenReachable(store, config.DB_STARTUP_WAIT_MS, logger);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    if (store.kind === 'pglite') {
      const cameras = await countCameras(store.db);
      const warning = planEmbeddedStoreWarning(cameras);
      if (warning) logger.warn({ cameras, limit: EMBEDDED_STORE_MAX_CAMERAS }, warning);
    }
    // In the background: a first run on a store that has never been purged may take its whole budget.
    // Off (both 0, the default): nothing can be deleted, so nothing runs.
    if (config.RETENTION_RAW_DAYS > 0 || config.RETENTION_ROLLUP_DAYS > 0)
      retention = scheduleRetention(store.db, {
        settings: { rawDays: config.RETENTION_RAW_DAYS, rollupDays: config.RETENTION_ROLLUP_DAYS },
        intervalMs: config.RETENTION_INTERVAL_MS,
        holder: `${hostname()}:${process.pid}`,
        logger,
        ...(opts.clock ? { now: opts.clock } : {}),
      });
    bus = config.REDIS_URL ? await createRedisBus({ url: config.REDIS_URL, logger }) : createMemoryBus();
    const ttlMs = config.CACHE_TTL_MS;
    cache =
      ttlMs === 0
        ? createNoCache()
        : config.REDIS_URL
          ? await createRedisCache({ url: config.REDIS_URL, ttlMs, logger })
          : createMemoryCache({ ttlMs });
    const app = await buildApp({
      config,
      store,
      bus,
      cache,
      detector: opts.detector,
      logger,
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
    const closeBus = bus;
    const stopRetention = retention;
    const closeCache = cache;
    let closing: Promise<void> | undefined;
    return {
      app,
      store,
      bus,
      logger,
      close() {
        closing ??= (async () => {
          await app.close();
          await stopRetention?.stop();
          await closeBus.close();
          await closeCache.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await retention?.stop();
    await bus?.close();
    await cache?.close();
    await store.close();
    throw err;
  }
}
