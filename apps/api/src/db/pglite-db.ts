import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { DatabaseUnavailableError } from '../errors.js';
import { isConnectionError, type Db, type Queryable, type QueryResult } from './db.js';

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

/**
 * The embedded store: PGlite (PostgreSQL compiled to WebAssembly) kept on disk under `dataDir`, or in
 * memory for `memory://`. One process may open a directory at a time; queries run one after another.
 */
export async function createPgliteDb(dataDir: string): Promise<Db> {
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir);
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
    close: () => pglite.close(),
  };
}
