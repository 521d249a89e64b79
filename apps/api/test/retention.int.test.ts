/**
 * Retention on both stores (PGlite in memory, a real PostgreSQL): migration 6 on a store with data,
 * purging raw minutes while the hourly and daily answers for their days stay identical, late and
 * far-off writes, two replicas at once, and a run that fails half-way.
 */
import { randomUUID } from 'node:crypto';
import { startPostgres, type PostgresServer } from '@its/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/db.js';
import { MIGRATIONS, runMigrations } from '../src/db/migrations.js';
import { createPgDb } from '../src/db/pg-db.js';
import { createPgliteDb } from '../src/db/pglite-db.js';
import type { AggregateFilter } from '../src/store/aggregate-query.js';
import { createRepository } from '../src/store/repository.js';
import { runRetention } from '../src/store/retention.js';
import { newCamera } from './fixtures.js';

const NOW = new Date('2026-12-07T12:30:00.000Z');
// Minutes from 2026-12-02 00:00 to 2026-12-07 12:00; with rawDays 2 the horizon is 2026-12-05 00:00.
const FIRST = '2026-12-02T00:00:00Z';
const LAST = '2026-12-07T12:00:00Z';
const HORIZON = '2026-12-05T00:00:00.000Z';
const SETTINGS = { rawDays: 2, rollupDays: 4 };

/** Two series per camera, every minute; values vary with the minute so sums are not trivially equal. */
async function seedMinutes(db: Db, cameras: readonly string[], from = FIRST, to = LAST): Promise<void> {
  await db.query(
    `INSERT INTO interval_aggregates (camera_id, interval_start, lane, class, volume, occupancy_pct, mean_speed_kmh, p85_speed_kmh)
     SELECT c, t, l, k, (extract(minute FROM t)::int + length(l)) % 7, (extract(minute FROM t)::int % 13) * 1.37,
       CASE WHEN extract(minute FROM t)::int % 5 = 0 THEN NULL ELSE 30 + extract(minute FROM t)::int % 17 END,
       CASE WHEN extract(minute FROM t)::int % 5 = 0 THEN NULL ELSE 40 + extract(minute FROM t)::int % 19 END
     FROM unnest($1::uuid[]) AS c,
       generate_series($2::timestamptz, $3::timestamptz, interval '1 minute') AS t,
       (VALUES ('nb-1', 'car'), ('sb-12', 'truck')) AS s(l, k)`,
    [cameras, from, to],
  );
  await db.query(
    `INSERT INTO interval_contributions (camera_id, interval_start, lane, class, session_id, volume, occupancy_pct)
     SELECT camera_id, interval_start, lane, class, '00000000-0000-0000-0000-000000000000', volume, occupancy_pct
     FROM interval_aggregates WHERE interval_start >= $1 AND interval_start <= $2`,
    [from, to],
  );
}

async function createCameras(db: Db, n: number): Promise<string[]> {
  const repo = createRepository(db);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    await repo.createCamera(id, newCamera({ name: `cam ${i}` }), NOW);
    ids.push(id);
  }
  return ids;
}

const count = async (db: Db, sql: string, params: unknown[] = []) =>
  Number((await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${sql}`, params)).rows[0]?.n);

const rollups = async (db: Db) =>
  (
    await db.query(
      `SELECT camera_id, hour_start, lane, class, minutes, last_minute, volume, occupancy_sum::text,
         mean_speed_kmh_sum::text, mean_speed_kmh_volume, p85_speed_kmh_sum::text, p85_speed_kmh_volume
       FROM interval_rollups_hourly ORDER BY camera_id, hour_start, lane, class`,
    )
  ).rows;

/** The dashboard's shapes over the purged and the kept days. */
function queries(camera: string): AggregateFilter[] {
  const base = { from: '2026-12-03T00:00:00Z', to: '2026-12-07T00:00:00Z', now: NOW };
  return [
    { ...base, bucket: '1d', groupBy: [] },
    { ...base, bucket: '1d', groupBy: ['camera'] },
    { ...base, bucket: '1h', groupBy: ['lane', 'class'], cameraId: camera },
    { ...base, from: '2026-12-04T05:00:00Z', to: '2026-12-05T05:00:00Z', bucket: '1h', groupBy: ['camera'] },
  ];
}

interface Engine {
  name: string;
  /** A fresh, unmigrated database. */
  open(): Promise<Db>;
  /** A second client of the same database (another replica), where the engine has one. */
  connectAgain?(db: Db): Db;
  close(): Promise<void>;
}

let pg: PostgresServer | undefined;
const urls = new WeakMap<Db, string>();
const engines: Engine[] = [
  {
    name: 'PGlite',
    open: () => createPgliteDb('memory://'),
    close: async () => {},
  },
  {
    name: 'PostgreSQL',
    async open() {
      pg ??= await startPostgres();
      const admin = createPgDb({ url: pg.url });
      const name = `ret_${randomUUID().replaceAll('-', '')}`;
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.close();
      const url = new URL(pg.url);
      url.pathname = `/${name}`;
      const db = createPgDb({ url: url.toString() });
      urls.set(db, url.toString());
      return db;
    },
    connectAgain: (db) => createPgDb({ url: urls.get(db)! }),
    close: async () => {
      await pg?.destroy();
    },
  },
];

describe.each(engines)('retention on $name', (engine) => {
  const opened: Db[] = [];
  const open = async () => {
    const db = await engine.open();
    opened.push(db);
    return db;
  };
  afterAll(async () => {
    for (const db of opened) await db.close();
    await engine.close();
  });

  let db: Db;
  let cams: string[];
  beforeAll(async () => {
    db = await open();
    await runMigrations(db);
    cams = await createCameras(db, 2);
    await seedMinutes(db, cams);
  });

  it('migration 6 on a store with data keeps every minute and rollup as it was', async () => {
    const old = await open();
    await runMigrations(
      old,
      MIGRATIONS.filter((m) => m.version <= 5),
    );
    const ids = await createCameras(old, 2);
    await seedMinutes(old, ids, '2026-12-06T00:00:00Z', '2026-12-06T05:59:00Z');
    const before = await rollups(old);
    const minutes = await count(old, 'interval_aggregates');
    expect(before.length).toBe(2 * 2 * 6);
    expect(await runMigrations(old)).toEqual([6]);
    expect(await rollups(old)).toEqual(before);
    expect(await count(old, 'interval_aggregates')).toBe(minutes);
    // The triggers still keep the rollup: a re-sent minute with a new volume changes its hour.
    await old.query(
      `UPDATE interval_aggregates SET volume = volume + 100 WHERE interval_start = '2026-12-06T01:30:00Z'`,
    );
    const after = await rollups(old);
    const changed = after.filter((r, i) => r.volume !== before[i]!.volume);
    expect(changed).toHaveLength(4);
  });

  it('purges raw minutes before the horizon; hourly and daily answers for those days stay identical', async () => {
    const repo = createRepository(db);
    const answers = async () => Promise.all(queries(cams[0]!).map((q) => repo.queryAggregates(q)));
    const before = await answers();
    const rollupsBefore = await rollups(db);
    const minuteQuery: AggregateFilter = {
      from: '2026-12-03T10:00:00Z',
      to: '2026-12-03T11:00:00Z',
      bucket: '1m',
      groupBy: [],
      now: NOW,
    };
    expect(await repo.queryAggregates(minuteQuery)).toHaveLength(60);

    const report = await runRetention(db, { settings: SETTINGS, holder: 'test', now: () => NOW });
    expect(report.status).toBe('done');
    expect(report.rawKeptFrom).toBe(HORIZON);
    expect(report.rollupsKeptFrom).toBe('2026-12-03T00:00:00.000Z');
    // 3 days × 1440 minutes × 2 series × 2 cameras, in both raw tables.
    expect(report.deleted.interval_aggregates).toBe(3 * 1440 * 4);
    expect(report.deleted.interval_contributions).toBe(3 * 1440 * 4);
    expect(report.deleted.interval_rollups_hourly).toBe(24 * 4);
    expect(await count(db, 'interval_aggregates WHERE interval_start < $1', [HORIZON])).toBe(0);
    expect(await count(db, 'interval_contributions WHERE interval_start < $1', [HORIZON])).toBe(0);

    // The rollups of the purged minutes' hours are untouched; only those before the rollup horizon went.
    const kept = rollupsBefore.filter((r) => new Date(r.hour_start as string) >= new Date('2026-12-03'));
    expect(await rollups(db)).toEqual(kept);
    expect(await answers()).toEqual(before);
    // Minute buckets before the horizon have nothing left to answer from.
    expect(await repo.queryAggregates(minuteQuery)).toEqual([]);

    // A second run has nothing to do and moves nothing.
    const again = await runRetention(db, { settings: SETTINGS, holder: 'test', now: () => NOW });
    expect(again.deleted).toEqual({
      interval_aggregates: 0,
      interval_contributions: 0,
      interval_rollups_hourly: 0,
    });
    expect(await answers()).toEqual(before);
  });

  it('a late minute written into a purged hour leaves that hour’s rollup alone', async () => {
    const hour = '2026-12-04T10:00:00Z';
    const before = (await rollups(db)).filter((r) => +new Date(r.hour_start as string) === +new Date(hour));
    expect(before).toHaveLength(4);
    await db.query(
      `INSERT INTO interval_aggregates (camera_id, interval_start, lane, class, volume, occupancy_pct)
       VALUES ($1, '2026-12-04T10:07:00Z', 'nb-1', 'car', 9, 5)`,
      [cams[0]],
    );
    const after = (await rollups(db)).filter((r) => +new Date(r.hour_start as string) === +new Date(hour));
    expect(after).toEqual(before);
    // …and the next run removes it.
    const report = await runRetention(db, { settings: SETTINGS, holder: 'test', now: () => NOW });
    expect(report.deleted.interval_aggregates).toBe(1);
    expect(
      await rollups(db).then((r) => r.filter((x) => +new Date(x.hour_start as string) === +new Date(hour))),
    ).toEqual(before);
  });

  it('a minute far in the future is stored and rolled up like any other', async () => {
    await db.query(
      `INSERT INTO interval_aggregates (camera_id, interval_start, lane, class, volume, occupancy_pct)
       VALUES ($1, '2100-01-01T00:05:00Z', 'nb-1', 'car', 4, 2)`,
      [cams[1]],
    );
    const r = await db.query<{ volume: number; minutes: number }>(
      `SELECT volume, minutes FROM interval_rollups_hourly WHERE hour_start = '2100-01-01T00:00:00Z'`,
    );
    expect(r.rows).toEqual([{ volume: 4, minutes: 1 }]);
    await runRetention(db, { settings: SETTINGS, holder: 'test', now: () => NOW });
    expect(await count(db, `interval_aggregates WHERE interval_start = '2100-01-01T00:05:00Z'`)).toBe(1);
  });

  it('a run that fails half-way releases its lease; the next run completes and the rollups are intact', async () => {
    const fresh = await open();
    await runMigrations(fresh);
    const ids = await createCameras(fresh, 1);
    await seedMinutes(fresh, ids, '2026-12-03T00:00:00Z', '2026-12-05T23:59:00Z');
    const rollupsBefore = await rollups(fresh);
    // The database refuses the contributions' purge (a lost connection, a lock timeout…).
    const failing: Db = {
      ...fresh,
      query: (sql, params) => fresh.query(sql, params),
      transaction: (fn) =>
        fresh.transaction((tx) =>
          fn({
            query: (sql, params) => {
              if (/DELETE FROM interval_contributions/.test(sql)) throw new Error('connection lost');
              return tx.query(sql, params);
            },
          }),
        ),
    };
    await expect(
      runRetention(failing, { settings: { rawDays: 2, rollupDays: 0 }, holder: 'a', now: () => NOW }),
    ).rejects.toThrow('connection lost');
    expect(await count(fresh, 'interval_aggregates WHERE interval_start < $1', [HORIZON])).toBe(0);
    expect(await count(fresh, 'interval_contributions WHERE interval_start < $1', [HORIZON])).toBe(
      2 * 1440 * 2,
    );
    expect(await rollups(fresh)).toEqual(rollupsBefore);
    // Another replica is not locked out by the failed one.
    const report = await runRetention(fresh, {
      settings: { rawDays: 2, rollupDays: 0 },
      holder: 'b',
      now: () => NOW,
    });
    expect(report.status).toBe('done');
    expect(report.deleted.interval_contributions).toBe(2 * 1440 * 2);
    expect(await rollups(fresh)).toEqual(rollupsBefore);
  });

  it('two replicas at once: one applies retention, the other skips, nothing is deleted twice or lost', async () => {
    const fresh = await open();
    await runMigrations(fresh);
    const ids = await createCameras(fresh, 1);
    await seedMinutes(fresh, ids, '2026-12-03T00:00:00Z', '2026-12-05T23:59:00Z');
    const rollupsBefore = await rollups(fresh);
    // A replica that is mid-run holds the lease: this one skips and deletes nothing.
    await fresh.query(
      `UPDATE store_retention SET lease_holder = 'other', lease_until = now() + interval '1 minute'`,
    );
    const skipped = await runRetention(fresh, { settings: SETTINGS, holder: 'me', now: () => NOW });
    expect(skipped.status).toBe('skipped');
    expect(await count(fresh, 'interval_aggregates')).toBe(3 * 1440 * 2);
    // That replica died: once its lease has expired another one takes over.
    await fresh.query(`UPDATE store_retention SET lease_until = now() - interval '1 second'`);

    // Two replicas on their own connections (PostgreSQL) or one store's (PGlite), started together.
    const second = engine.connectAgain?.(fresh) ?? fresh;
    if (second !== fresh) opened.push(second);
    const reports = await Promise.all([
      runRetention(fresh, { settings: SETTINGS, holder: 'r1', now: () => NOW }),
      runRetention(second, { settings: SETTINGS, holder: 'r2', now: () => NOW }),
    ]);
    const deleted = reports.reduce((s, r) => s + r.deleted.interval_aggregates, 0);
    expect(deleted).toBe(2 * 1440 * 2);
    expect(reports.filter((r) => r.deleted.interval_aggregates > 0)).toHaveLength(1);
    expect(await count(fresh, 'interval_aggregates')).toBe(1440 * 2);
    expect(await rollups(fresh)).toEqual(rollupsBefore);
    const row = await fresh.query<{ lease_holder: string | null; last_result: { status: string } }>(
      'SELECT lease_holder, last_result FROM store_retention',
    );
    expect(row.rows[0]?.lease_holder).toBeNull();
    expect(['done', 'skipped']).toContain(row.rows[0]?.last_result.status);
  });
});
