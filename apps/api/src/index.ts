/**
 * @its/api — the ITS Camera AI HTTP API. Stable entry points (see README.md):
 * buildApp, loadConfig, createStore, startApi, createApiKey and the types they use.
 */
export { buildApp, toErrorBody } from './app.js';
export { loadConfig, describeConfig, redactUrl, ConfigSchema, type Config } from './config.js';
export type { AppDeps, Detector } from './context.js';
export { createStore, storeFromDb, type Store, type StoreOptions } from './store/create-store.js';
export { createRepository, type Repository } from './store/repository.js';
export type { Db, Queryable, PoolStats } from './db/db.js';
export { createPgDb } from './db/pg-db.js';
export { createPgliteDb } from './db/pglite-db.js';
export { MIGRATIONS, LATEST_MIGRATION, runMigrations } from './db/migrations.js';
export { createMemoryBus, createRedisBus, type EventBus } from './events/bus.js';
export { createApiKey } from './auth/api-keys.js';
export { createRuntime, type Runtime } from './runtime.js';
export { startApi, type StartApiOptions, type RunningApi } from './start-api.js';
export { ApiError, ConfigError, DatabaseUnavailableError } from './errors.js';
