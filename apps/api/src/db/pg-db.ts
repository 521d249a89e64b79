import pg from 'pg';
import type { Logger } from 'pino';
import { DatabaseUnavailableError } from '../errors.js';
import { isConnectionError, type Db, type Queryable, type QueryResult } from './db.js';

export interface PgDbOptions {
  url: string;
  logger?: Pick<Logger, 'warn' | 'error'>;
  /** 10: enough for a 2-core API; PostgreSQL's default max_connections is 100. */
  max?: number;
  /** 3 s: fail fast so a request answers 503 instead of hanging while the database is down. */
  connectionTimeoutMillis?: number;
}

function wrap(err: unknown): unknown {
  return isConnectionError(err) ? new DatabaseUnavailableError(err) : err;
}

async function runQuery<R>(
  client: pg.Pool | pg.PoolClient,
  sql: string,
  params?: readonly unknown[],
): Promise<QueryResult<R>> {
  try {
    const res = await client.query(sql, params as unknown[] | undefined);
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
  } catch (err) {
    throw wrap(err);
  }
}

/** PostgreSQL through a pg Pool. The pool reconnects on its own once the server is back. */
export function createPgDb(opts: PgDbOptions): Db {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 3000,
    idleTimeoutMillis: 30_000,
    // A statement may never hold a request (or a shutdown) hostage.
    statement_timeout: 30_000,
  });
  // An idle client whose server went away emits 'error' on the pool; unhandled, it would crash the
  // process. The pool already discards that client, so logging is all there is to do.
  pool.on('error', (err) =>
    opts.logger?.warn({ err: { message: err.message } }, 'idle database client failed'),
  );
  return {
    kind: 'postgres',
    query: (sql, params) => runQuery(pool, sql, params),
    async transaction(fn) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw wrap(err);
      }
      // A client that fails mid-transaction must not be returned to the pool.
      let broken: Error | undefined;
      const onError = (err: Error) => {
        broken = err;
      };
      client.on('error', onError);
      const tx: Queryable = { query: (sql, params) => runQuery(client, sql, params) };
      try {
        await tx.query('BEGIN');
        const result = await fn(tx);
        await tx.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => {
          broken ??= e;
        });
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => pool.end(),
  };
}
