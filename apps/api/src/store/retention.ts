/**
 * Retention of interval data: raw minutes (interval_aggregates and their per-session
 * interval_contributions) are kept RETENTION_RAW_DAYS, hourly rollups RETENTION_ROLLUP_DAYS; 0 keeps
 * either forever. planRetention (pure) says where each horizon should be; runRetention moves the
 * horizons in the store_retention row and deletes what lies before them, one API replica at a time.
 *
 * Purging minutes keeps their hours' rollups, which answer hourly and daily queries for those days
 * afterwards (store/aggregate-query.ts reads whole hours from the rollup): the rollup triggers ignore
 * changed minutes before store_retention.raw_kept_from (migration 6), and the horizon is committed
 * before any minute behind it is deleted. What is lost with the minutes: 1m and 15m buckets before the
 * horizon (empty answers), and the edge hours an hourly or daily query cuts with a from or to that is
 * not on the hour (read from minutes only). Minutes are deleted an hour at a time, so a fleet's day
 * (≈ 5.8 M minutes at 1 000 cameras) never sits in one transaction.
 */
import type { Db, Queryable } from '../db/db.js';

export interface RetentionSettings {
  /** Days of raw minutes kept, counted back from the start of today (UTC); 0 keeps them forever. */
  rawDays: number;
  /** Days of hourly rollups kept, likewise; 0 keeps them forever. */
  rollupDays: number;
}

export interface RetentionHorizons {
  /** Raw minutes before this are deleted; null: kept forever. */
  rawKeptFrom: Date | null;
  /** Rollup hours before this are deleted; null: kept forever. */
  rollupsKeptFrom: Date | null;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * Pure: the horizons for `now`. A horizon never moves back (raising a setting cannot bring back what is
 * gone, and the rollup triggers must keep ignoring purged hours), so the stored one wins when later.
 */
export function planRetention(
  settings: RetentionSettings,
  now: Date,
  stored: RetentionHorizons,
): RetentionHorizons {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const horizon = (days: number, current: Date | null): Date | null => {
    const planned = days > 0 ? new Date(today - days * DAY_MS) : null;
    if (!current) return planned;
    if (!planned) return current;
    return planned > current ? planned : current;
  };
  return {
    rawKeptFrom: horizon(settings.rawDays, stored.rawKeptFrom),
    rollupsKeptFrom: horizon(settings.rollupDays, stored.rollupsKeptFrom),
  };
}

export type RetentionTable = 'interval_aggregates' | 'interval_contributions' | 'interval_rollups_hourly';

export interface RetentionReport {
  /** done: nothing left before the horizons; incomplete: the time budget ran out (the next run goes on); skipped: another replica holds the lease. */
  status: 'done' | 'incomplete' | 'skipped';
  reason?: string;
  rawKeptFrom: string | null;
  rollupsKeptFrom: string | null;
  deleted: Record<RetentionTable, number>;
  ms: number;
}

export interface RetentionRunOptions {
  settings: RetentionSettings;
  /** Who runs (host and process): the lease's holder. */
  holder: string;
  now?: () => Date;
  /** 60 s: a run stops after the batch that passes it; the next run continues. */
  budgetMs?: number;
  /** 10 minutes: a replica that dies mid-run holds the lease no longer than this. */
  leaseMs?: number;
}

interface StoredRow {
  raw_kept_from: Date | string | null;
  rollups_kept_from: Date | string | null;
}

const toDate = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));
const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * Deletes one slice — from the table's oldest row before `before`, up to `stepMs` later — and says how
 * many rows went; 0 when nothing is left. The oldest row is one probe of the time index.
 */
async function deleteOldestSlice(
  db: Db,
  table: RetentionTable,
  column: 'interval_start' | 'hour_start',
  before: Date,
  stepMs: number,
): Promise<number> {
  return db.transaction(async (tx) => {
    const oldest = await tx.query<{ t: Date | string | null }>(
      `SELECT min(${column}) AS t FROM ${table} WHERE ${column} < $1::timestamptz`,
      [before],
    );
    const t = oldest.rows[0]?.t;
    if (t === null || t === undefined) return 0;
    const from = Math.floor(new Date(t).getTime() / stepMs) * stepMs;
    const to = new Date(Math.min(from + stepMs, before.getTime()));
    const res = await tx.query(
      `DELETE FROM ${table} WHERE ${column} >= $1::timestamptz AND ${column} < $2::timestamptz`,
      [new Date(from), to],
    );
    return res.rowCount;
  });
}

/**
 * Moves the horizons forward, then deletes what lies before them; one replica at a time (a lease in
 * store_retention: a second replica that starts meanwhile reports `skipped`).
 */
export async function runRetention(db: Db, opts: RetentionRunOptions): Promise<RetentionReport> {
  const now = opts.now ?? (() => new Date());
  const started = Date.now();
  const budgetMs = opts.budgetMs ?? 60_000;
  const deleted: Record<RetentionTable, number> = {
    interval_aggregates: 0,
    interval_contributions: 0,
    interval_rollups_hourly: 0,
  };
  // A conditional UPDATE is the lease: under READ COMMITTED a second replica's UPDATE waits for the
  // first's row lock, re-reads the row and finds the lease taken.
  const claimed = await db.query<StoredRow>(
    `UPDATE store_retention SET lease_holder = $1, lease_until = now() + $2::interval
     WHERE lease_until IS NULL OR lease_until < now() OR lease_holder = $1
     RETURNING nullif(raw_kept_from, '-infinity') AS raw_kept_from,
       nullif(rollups_kept_from, '-infinity') AS rollups_kept_from`,
    [opts.holder, `${Math.round((opts.leaseMs ?? 600_000) / 1000)} seconds`],
  );
  const stored = claimed.rows[0];
  if (!stored) {
    return {
      status: 'skipped',
      reason: 'another API replica is applying retention',
      rawKeptFrom: null,
      rollupsKeptFrom: null,
      deleted,
      ms: Date.now() - started,
    };
  }
  let report: RetentionReport | undefined;
  try {
    const horizons = planRetention(opts.settings, now(), {
      rawKeptFrom: toDate(stored.raw_kept_from),
      rollupsKeptFrom: toDate(stored.rollups_kept_from),
    });
    await db.transaction(async (tx: Queryable) => {
      // A barrier: every transaction whose rollup trigger has read the old horizon holds ACCESS SHARE
      // on store_retention until it ends, so this waits for them; any trigger after it reads the new
      // one. Without it, a late minute's trigger could read the old horizon, then recompute its hour
      // after the purge below removed the hour's other minutes.
      await tx.query('LOCK TABLE store_retention IN ACCESS EXCLUSIVE MODE');
      await tx.query(
        `UPDATE store_retention SET raw_kept_from = coalesce($1::timestamptz, raw_kept_from),
           rollups_kept_from = coalesce($2::timestamptz, rollups_kept_from)`,
        [horizons.rawKeptFrom, horizons.rollupsKeptFrom],
      );
    });
    const overBudget = () => Date.now() - started > budgetMs;
    let incomplete = false;
    const purge = async (
      table: RetentionTable,
      column: 'interval_start' | 'hour_start',
      before: Date | null,
      stepMs: number,
    ) => {
      if (!before || incomplete) return;
      for (;;) {
        const n = await deleteOldestSlice(db, table, column, before, stepMs);
        if (n === 0) return;
        deleted[table] += n;
        if (overBudget()) {
          incomplete = true;
          return;
        }
      }
    };
    await purge('interval_aggregates', 'interval_start', horizons.rawKeptFrom, HOUR_MS);
    await purge('interval_contributions', 'interval_start', horizons.rawKeptFrom, HOUR_MS);
    await purge('interval_rollups_hourly', 'hour_start', horizons.rollupsKeptFrom, DAY_MS);
    report = {
      status: incomplete ? 'incomplete' : 'done',
      ...(incomplete ? { reason: `stopped after its ${budgetMs} ms budget; the next run goes on` } : {}),
      rawKeptFrom: iso(horizons.rawKeptFrom),
      rollupsKeptFrom: iso(horizons.rollupsKeptFrom),
      deleted,
      ms: Date.now() - started,
    };
    return report;
  } finally {
    await db.query(
      `UPDATE store_retention SET lease_holder = NULL, lease_until = NULL,
         last_run_at = CASE WHEN $2::jsonb IS NULL THEN last_run_at ELSE now() END,
         last_result = coalesce($2::jsonb, last_result)
       WHERE lease_holder = $1`,
      [opts.holder, report ? JSON.stringify(report) : null],
    );
  }
}

export interface RetentionSchedule {
  /** Runs now (or joins the run in progress). */
  run(): Promise<RetentionReport | undefined>;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

export interface RetentionLogger {
  info(details: object, message: string): void;
  error(details: object, message: string): void;
}

/**
 * Runs retention now and then every `intervalMs` (0: only now). The timer is unref'd (it never keeps
 * the process up) and runs never overlap in one process; across replicas the lease decides.
 */
export function scheduleRetention(
  db: Db,
  opts: RetentionRunOptions & { intervalMs: number; logger: RetentionLogger },
): RetentionSchedule {
  let inFlight: Promise<RetentionReport | undefined> | undefined;
  let stopped = false;
  const run = () => {
    if (stopped) return Promise.resolve(undefined);
    inFlight ??= runRetention(db, opts)
      .then((report) => {
        const changed = Object.values(report.deleted).some((n) => n > 0);
        if (report.status !== 'skipped' && (changed || report.status === 'incomplete')) {
          opts.logger.info(
            { retention: report },
            `retention ${report.status}: deleted rows before the horizons`,
          );
        }
        return report;
      })
      .catch((err: unknown) => {
        opts.logger.error({ err }, 'retention failed; the next run tries again');
        return undefined;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  const timer = opts.intervalMs > 0 ? setInterval(() => void run(), opts.intervalMs) : undefined;
  timer?.unref();
  void run();
  return {
    run,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await inFlight;
    },
  };
}
