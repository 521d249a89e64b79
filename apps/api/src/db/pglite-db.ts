import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { DatabaseUnavailableError, describeCause } from '../errors.js';
import { acquireDataDirLock, describeOwner, type DataDirLock } from './data-dir-lock.js';
import { isConnectionError, type Db, type Queryable, type QueryResult } from './db.js';
import { StoreUnreadableError } from './store-errors.js';

async function runQuery<R>(
  target: Pick<PGlite, 'query'>,
  sql: string,
  params?: readonly unknown[],
): Promise<QueryResult<R>> {
  try {
    const res = await target.query<R>(sql, params as unknown[] | undefined);
    return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
  } catch (err) {
    throw isConnectionError(err) ? new DatabaseUnavailableError(err) : err;
  }
}

/** What to do when PGlite cannot open a directory's files: the message a person acts on. */
export function unreadableStoreMessage(dataDir: string, cause: unknown): string {
  const stamp = new Date().toISOString().slice(0, 10);
  return (
    `DATA_DIR ${dataDir}: the embedded store cannot be opened (${describeCause(cause)}); its files are ` +
    `damaged (for example by two processes writing at once before the data-directory lock existed) or ` +
    `were written by an incompatible version. To recover: stop every process that uses the directory, ` +
    `move it aside (mv ${dataDir} ${dataDir}.broken-${stamp}) and start again, which creates an empty ` +
    `store, or restore the directory from a backup; or set DATABASE_URL to use PostgreSQL.`
  );
}

export interface PgliteDbOptions {
  /** Told when a lock left by a process that is gone is taken over. */
  logger?: { warn: (details: object, message: string) => void };
}

/**
 * The embedded store: PGlite (PostgreSQL compiled to WebAssembly) kept on disk under `dataDir`, or in
 * memory for `memory://`. One process may open a directory at a time (data-dir-lock.ts: a second
 * opener gets DataDirLockedError); queries run one after another. Files PGlite cannot open are a
 * StoreUnreadableError saying how to recover, not a WebAssembly stack.
 */
export async function createPgliteDb(dataDir: string, options: PgliteDbOptions = {}): Promise<Db> {
  let lock: DataDirLock | undefined;
  if (!dataDir.startsWith('memory://')) {
    mkdirSync(dataDir, { recursive: true });
    lock = acquireDataDirLock(dataDir, {
      onTakeOver: (previous, reason, lockPath) =>
        options.logger?.warn(
          { previousOwner: previous, lockPath },
          `took over the data directory's lock from ${describeOwner(previous)}: ${reason}`,
        ),
    });
  }
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dataDir);
  } catch (err) {
    if (!lock) throw err;
    lock.release();
    throw new StoreUnreadableError(unreadableStoreMessage(dataDir, err), { cause: err });
  }
  return {
    kind: 'pglite',
    query: (sql, params) => runQuery(pglite, sql, params),
    async transaction(fn) {
      try {
        return await pglite.transaction(async (tx) => {
          const q: Queryable = { query: (sql, params) => runQuery(tx, sql, params) };
          return fn(q);
        });
      } catch (err) {
        throw isConnectionError(err) ? new DatabaseUnavailableError(err) : err;
      }
    },
    // One connection, always "in use" from a pool's point of view.
    stats: () => ({ total: 1, idle: 1, waiting: 0 }),
    async close() {
      try {
        await pglite.close();
      } finally {
        lock?.release();
      }
    },
  };
}
