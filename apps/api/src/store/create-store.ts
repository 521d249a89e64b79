import type { Logger } from 'pino';
import type { Db } from '../db/db.js';
import { LATEST_MIGRATION, readSchemaVersion, runMigrations } from '../db/migrations.js';
import { createPgDb } from '../db/pg-db.js';
import { createPgliteDb } from '../db/pglite-db.js';
import { createRepository, type Repository } from './repository.js';

export interface Store {
  readonly kind: Db['kind'];
  readonly db: Db;
  readonly repo: Repository;
  /** Applies pending migrations; returns the versions applied. */
  migrate(): Promise<number[]>;
  /** The schema version the database is at, and the one this release needs. */
  schemaVersion(): Promise<{ current: number; required: number }>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** PostgreSQL when set; the embedded PGlite store under `dataDir` otherwise. */
  databaseUrl?: string | undefined;
  /** A directory, or `memory://` for a throw-away store (tests). */
  dataDir: string;
  logger?: Pick<Logger, 'warn' | 'error'>;
}

export function storeFromDb(db: Db): Store {
  return {
    kind: db.kind,
    db,
    repo: createRepository(db),
    migrate: () => runMigrations(db),
    schemaVersion: async () => ({ current: await readSchemaVersion(db), required: LATEST_MIGRATION }),
    close: () => db.close(),
  };
}

export async function createStore(opts: StoreOptions): Promise<Store> {
  const db = opts.databaseUrl
    ? createPgDb({ url: opts.databaseUrl, ...(opts.logger ? { logger: opts.logger } : {}) })
    : await createPgliteDb(opts.dataDir, opts.logger ? { logger: opts.logger } : {});
  return storeFromDb(db);
}
