/**
 * The hourly rollup against the raw minutes, on whichever store runs them (repository-cases.ts runs
 * these on PGlite and on PostgreSQL): the same queries through both paths must give the same buckets,
 * after re-sent minutes, late minutes for hours already rolled up, edges cut by from/to and the current
 * hour; ingestion keeps the rollup equal to a recomputation from the minutes, even under concurrent
 * batches; a failing rollup update stores nothing.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { IntervalAggregate, VehicleClass } from '@its/contracts';
import type { AggregateFilter } from '../src/store/aggregate-query.js';
import { planRollupHours } from '../src/store/aggregate-query.js';
import { createRepository, type Repository } from '../src/store/repository.js';
import { storeFromDb, type Store } from '../src/store/create-store.js';
import type { Db } from '../src/db/db.js';
import { MIGRATIONS, runMigrations } from '../src/db/migrations.js';
import { aggregate, at, newCamera } from './fixtures.js';

export interface RollupCtx {
  store: Store;
  /** A new, empty database of the same kind (no migrations applied), closed by the caller. */
  openEmptyDb(): Promise<Db>;
}
interface RollupCase {
  name: string;
  run(ctx: RollupCtx): Promise<void>;
}

const NOW = new Date('2025-03-01T12:00:00.000Z');

function repos(store: Store): { raw: Repository; rollup: Repository } {
  return {
    raw: createRepository(store.db, { aggregateSource: 'raw' }),
    rollup: createRepository(store.db, { aggregateSource: 'rollup' }),
  };
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Sparse minutes for 2 cameras × 2 lanes × 2 classes from 07:00 to 11:59 (at(-60) … at(239)), about
 * half of the minutes stored; some with zero volume, some without speeds, occupancies with fractions.
 */
function sparseMinutes(cameras: readonly string[], seed: number): IntervalAggregate[] {
  const next = random(seed);
  const out: IntervalAggregate[] = [];
  for (const cameraId of cameras) {
    for (const lane of ['nb-1', 'sb-1']) {
      for (const cls of ['car', 'truck'] as VehicleClass[]) {
        for (let m = -60; m < 240; m++) {
          if (next() < 0.5) continue;
          const volume = Math.floor(next() * 30) * (next() < 0.15 ? 0 : 1);
          const noSpeed = volume === 0 || next() < 0.1;
          out.push(
            aggregate(cameraId, {
              intervalStart: at(m),
              lane,
              class: cls,
              volume,
              occupancyPct: Math.round(next() * 10_000) / 100,
              meanSpeedKmh: noSpeed ? null : Math.round(next() * 8000) / 100,
              p85SpeedKmh: noSpeed || next() < 0.1 ? null : Math.round(next() * 9000) / 100,
            }),
          );
        }
      }
    }
  }
  return out;
}

/**
 * Rollup rows that differ from a recomputation of the stored minutes, or exist on one side only (sums
 * rounded to 6 decimals: the two add the same floats in different orders).
 */
async function rollupDrift(store: Store): Promise<unknown[]> {
  const sums = `minutes, last_minute, volume, round(occupancy_sum::numeric, 6) AS occupancy_sum,
    round(mean_speed_kmh_sum::numeric, 6) AS mean_speed_kmh_sum, mean_speed_kmh_volume,
    round(p85_speed_kmh_sum::numeric, 6) AS p85_speed_kmh_sum, p85_speed_kmh_volume`;
  const res = await store.db.query(
    `WITH expected AS (
       SELECT camera_id, hour_start, lane, class, ${sums} FROM (
         SELECT camera_id, date_bin('1 hour', interval_start, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS hour_start,
           lane, class, count(*)::int AS minutes, max(interval_start) AS last_minute, sum(volume)::int AS volume,
           sum(occupancy_pct) AS occupancy_sum,
           sum(mean_speed_kmh * volume) AS mean_speed_kmh_sum,
           (sum(volume) FILTER (WHERE mean_speed_kmh IS NOT NULL))::int AS mean_speed_kmh_volume,
           sum(p85_speed_kmh * volume) AS p85_speed_kmh_sum,
           (sum(volume) FILTER (WHERE p85_speed_kmh IS NOT NULL))::int AS p85_speed_kmh_volume
         FROM interval_aggregates GROUP BY 1, 2, 3, 4) e
     ), actual AS (
       SELECT camera_id, hour_start, lane, class, ${sums} FROM interval_rollups_hourly
     )
     (SELECT 'missing or different in the rollup' AS problem, * FROM (SELECT * FROM expected EXCEPT SELECT * FROM actual) x)
     UNION ALL
     (SELECT 'not in the minutes' AS problem, * FROM (SELECT * FROM actual EXCEPT SELECT * FROM expected) y)`,
  );
  return res.rows;
}

/** Each query answered raw and from the rollup; the two must be equal (and some must be non-empty). */
async function expectSameAnswers(store: Store, queries: readonly AggregateFilter[]): Promise<number> {
  const { raw, rollup } = repos(store);
  let buckets = 0;
  for (const q of queries) {
    const fromMinutes = await raw.queryAggregates(q);
    const fromRollup = await rollup.queryAggregates(q);
    expect({ query: q, buckets: fromRollup }).toEqual({ query: q, buckets: fromMinutes });
    buckets += fromRollup.length;
  }
  return buckets;
}

/** Totals for ranges cut at whole hours, inside hours and minutes, open ends, one camera; raw vs rollup. */
async function expectSameTotals(store: Store, cameras: readonly string[]): Promise<number> {
  const { raw, rollup } = repos(store);
  const ranges: { cameraId?: string; from?: string; to?: string }[] = [
    {},
    { from: at(-60), to: at(240) },
    { from: at(0), to: at(180) },
    { from: '2025-03-01T08:17:30.000Z', to: '2025-03-01T10:45:10.000Z' },
    { from: at(10), to: at(50) },
    { from: at(-600), to: at(-300) },
    { from: at(30) },
    { to: at(150) },
    ...[at(220), at(237), '2025-03-01T11:59:30.000Z'].map((to) => ({ from: at(-60), to })),
    ...cameras.flatMap((cameraId) => [{ cameraId }, { cameraId, from: at(10), to: at(237) }]),
  ];
  let intervals = 0;
  for (const q of ranges) {
    const fromMinutes = await raw.totals(q);
    expect({ query: q, totals: await rollup.totals(q) }).toEqual({ query: q, totals: fromMinutes });
    intervals += fromMinutes.intervals;
  }
  return intervals;
}

function queryTable(cameras: readonly string[], now: Date): AggregateFilter[] {
  const [a] = cameras;
  const base = { now, groupBy: [] as AggregateFilter['groupBy'] };
  const out: AggregateFilter[] = [];
  const groupings: AggregateFilter['groupBy'][] = [[], ['class'], ['lane'], ['camera', 'lane', 'class']];
  for (const groupBy of groupings) {
    // Whole hours, then edges cut inside an hour and inside a minute, for hours and for a day.
    out.push({ ...base, groupBy, bucket: '1h', from: at(-60), to: at(240) });
    out.push({
      ...base,
      groupBy,
      bucket: '1h',
      from: '2025-03-01T08:17:30.000Z',
      to: '2025-03-01T10:45:10.000Z',
    });
    out.push({
      ...base,
      groupBy,
      bucket: '1d',
      from: '2025-03-01T00:00:00.000Z',
      to: '2025-03-02T00:00:00.000Z',
    });
    out.push({ ...base, groupBy, bucket: '1d', from: at(30), to: at(150) });
  }
  out.push({ ...base, bucket: '1h', from: at(-60), to: at(240), cameraId: a });
  out.push({ ...base, bucket: '1h', from: at(-60), to: at(240), lane: 'sb-1', class: 'truck' });
  out.push({ ...base, bucket: '1d', from: at(0), to: at(180), cameraId: a, groupBy: ['lane'] });
  // `to` inside the last hour: some series have minutes at or after it (read raw), some not (rollup).
  for (const to of [at(220), at(237), '2025-03-01T11:59:30.000Z']) {
    out.push({ ...base, bucket: '1h', from: at(-60), to, groupBy: ['camera', 'lane', 'class'] });
    out.push({ ...base, bucket: '1d', from: at(-60), to, groupBy: ['class'] });
  }
  // An hour bucket narrower than an hour, and a range before the data: nothing to roll up or to find.
  out.push({ ...base, bucket: '1h', from: at(10), to: at(50), groupBy: ['class'] });
  out.push({ ...base, bucket: '1h', from: at(-600), to: at(-300) });
  return out;
}

export const ROLLUP_CASES: RollupCase[] = [
  {
    name: 'rollup: the migration backfills the minutes stored before it, and queries agree with them',
    async run({ openEmptyDb }) {
      const db = await openEmptyDb();
      try {
        // The schema of the release before the rollup, with minutes written by that release.
        expect(
          await runMigrations(
            db,
            MIGRATIONS.filter((m) => m.version < 3),
          ),
        ).toEqual([1, 2]);
        const cameras = [randomUUID(), randomUUID()];
        for (const id of cameras) {
          await db.query(
            `INSERT INTO cameras (id, name, stream_url, lat, lon, geometry, created_at, updated_at)
             VALUES ($1, 'cam', 'rtsp://127.0.0.1/cam', 1, 2, '{}'::jsonb, $2, $2)`,
            [id, NOW],
          );
        }
        const minutes = sparseMinutes(cameras, 3);
        await db.query(
          `INSERT INTO interval_aggregates (camera_id, interval_start, lane, class, volume, occupancy_pct, mean_speed_kmh, p85_speed_kmh)
           SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::int[], $6::float8[], $7::float8[], $8::float8[])`,
          [
            minutes.map((m) => m.cameraId),
            minutes.map((m) => m.intervalStart),
            minutes.map((m) => m.lane),
            minutes.map((m) => m.class),
            minutes.map((m) => m.volume),
            minutes.map((m) => m.occupancyPct),
            minutes.map((m) => m.meanSpeedKmh),
            minutes.map((m) => m.p85SpeedKmh),
          ],
        );
        expect(await runMigrations(db)).toContain(3);
        const store = storeFromDb(db);
        const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM interval_rollups_hourly');
        // 2 cameras × 2 lanes × 2 classes × 5 hours, every one with some stored minute.
        expect(rows.rows[0]!.n).toBe(40);
        expect(await rollupDrift(store)).toEqual([]);
        expect(await expectSameAnswers(store, queryTable(cameras, NOW))).toBeGreaterThan(50);
      } finally {
        await db.close();
      }
    },
  },
  {
    name: 'rollup: 1h and 1d buckets equal the raw minutes’ after re-sent minutes, late minutes and cut edges, past and current hour',
    async run({ store }) {
      const cameras = [randomUUID(), randomUUID()];
      for (const [i, id] of cameras.entries()) {
        await store.repo.createCamera(id, newCamera({ name: `cam ${i}` }), new Date(NOW.getTime() + i));
      }
      const minutes = sparseMinutes(cameras, 7);
      // Ingested in batches of about 250, as a worker's flushes would arrive.
      for (let i = 0; i < minutes.length; i += 250) {
        await store.repo.upsertAggregates(minutes.slice(i, i + 250), NOW);
      }
      expect(await rollupDrift(store)).toEqual([]);
      const queries = [
        ...queryTable(cameras, NOW),
        ...queryTable(cameras, new Date('2025-03-01T10:40:30.000Z')),
      ];
      // The table must exercise the rollup (whole past hours) and the raw edges, not only one of them.
      expect(queries.filter((q) => planRollupHours(q)).length).toBeGreaterThan(10);
      expect(await expectSameAnswers(store, queries)).toBeGreaterThan(50);

      // Re-sent minutes with new values replace the old ones in hours already rolled up; minutes that
      // were missing arrive late for those hours; both in one batch and in the next.
      const next = random(11);
      const resent = minutes
        .filter(() => next() < 0.2)
        .map((m) => ({ ...m, volume: m.volume + 3, occupancyPct: 100 - m.occupancyPct, meanSpeedKmh: 42.5 }));
      const stored = new Set(minutes.map((m) => `${m.cameraId}|${m.intervalStart}|${m.lane}|${m.class}`));
      const late = sparseMinutes(cameras, 99).filter(
        (m) => !stored.has(`${m.cameraId}|${m.intervalStart}|${m.lane}|${m.class}`) && next() < 0.1,
      );
      expect(resent.length).toBeGreaterThan(50);
      expect(late.length).toBeGreaterThan(10);
      const res = await store.repo.upsertAggregates([...resent.slice(0, 100), ...late], NOW);
      expect(res.accepted).toBe(late.length);
      await store.repo.upsertAggregates(resent.slice(100), NOW);
      expect(await rollupDrift(store)).toEqual([]);
      expect(await expectSameAnswers(store, queries)).toBeGreaterThan(50);
    },
  },
  {
    name: 'rollup: a re-sent minute replaces its hour’s sums and a late minute adds to them (worked example)',
    async run({ store }) {
      const cam = randomUUID();
      await store.repo.createCamera(cam, newCamera(), NOW);
      const { rollup } = repos(store);
      const hourly = () =>
        rollup.queryAggregates({ from: at(0), to: at(60), bucket: '1h', groupBy: [], now: NOW });
      await store.repo.upsertAggregates(
        [
          aggregate(cam, {
            intervalStart: at(0),
            volume: 10,
            occupancyPct: 30,
            meanSpeedKmh: 40,
            p85SpeedKmh: 50,
          }),
          aggregate(cam, {
            intervalStart: at(1),
            volume: 30,
            occupancyPct: 60,
            meanSpeedKmh: 60,
            p85SpeedKmh: 70,
          }),
        ],
        NOW,
      );
      // (30 + 60) / 60 minutes = 1.5; speeds (40·10 + 60·30) / 40 = 55 and 65.
      expect(await hourly()).toEqual([
        { start: at(0), volume: 40, occupancyPct: 1.5, meanSpeedKmh: 55, p85SpeedKmh: 65 },
      ]);
      // Minute 1 again, now 10 vehicles at 0 % and no speed: replaces, never adds.
      await store.repo.upsertAggregates(
        [
          aggregate(cam, {
            intervalStart: at(1),
            volume: 10,
            occupancyPct: 0,
            meanSpeedKmh: null,
            p85SpeedKmh: null,
          }),
        ],
        NOW,
      );
      expect(await hourly()).toEqual([
        { start: at(0), volume: 20, occupancyPct: 0.5, meanSpeedKmh: 40, p85SpeedKmh: 50 },
      ]);
      // Minute 59 arrives late, after the hour was rolled up.
      await store.repo.upsertAggregates(
        [
          aggregate(cam, {
            intervalStart: at(59),
            volume: 10,
            occupancyPct: 90,
            meanSpeedKmh: 70,
            p85SpeedKmh: 80,
          }),
        ],
        NOW,
      );
      expect(await hourly()).toEqual([
        { start: at(0), volume: 30, occupancyPct: 2, meanSpeedKmh: 55, p85SpeedKmh: 65 },
      ]);
      const row = await store.db.query<{ minutes: number; volume: number; last_minute: Date | string }>(
        'SELECT minutes, volume, last_minute FROM interval_rollups_hourly WHERE camera_id = $1',
        [cam],
      );
      expect(row.rows.map((r) => [r.minutes, r.volume, new Date(r.last_minute).toISOString()])).toEqual([
        [3, 30, at(59)],
      ]);
    },
  },
  {
    name: 'rollup: hours are answered from the rollup table; an edge hour cut by from, and the series of the hour cut by to with a minute at or after to, from the minutes',
    async run({ store }) {
      const cam = randomUUID();
      await store.repo.createCamera(cam, newCamera(), NOW);
      await store.repo.upsertAggregates(
        [
          ...[0, 30, 60, 90, 120, 150].map((m) => aggregate(cam, { intervalStart: at(m), volume: 10 })),
          aggregate(cam, { intervalStart: at(175), volume: 10 }), // 10:55
          aggregate(cam, { intervalStart: at(130), lane: 'sb-1', volume: 5 }), // 10:10
        ],
        NOW,
      );
      // Mark the rollup rows (never done in production) so their use shows in the answers.
      await store.db.query('UPDATE interval_rollups_hourly SET volume = volume + 1000');
      const { raw, rollup } = repos(store);
      const volumes = async (repo: Repository, q: Omit<AggregateFilter, 'groupBy'>) =>
        (await repo.queryAggregates({ ...q, groupBy: [] })).map((b) => b.volume);
      const whole = { from: at(0), to: at(180), bucket: '1h' as const, now: NOW };
      expect(await volumes(raw, whole)).toEqual([20, 20, 35]);
      expect(await volumes(rollup, whole)).toEqual([1020, 1020, 2035]);
      // 08:00 is cut by from (only minute 30 is in range): raw. 10:00 is cut by to at 10:50: nb-1 has
      // minute 10:55 at or after to, so its minutes 10:00 and 10:30 are read raw; sb-1's only minute,
      // 10:10, is before to, so its rollup row answers.
      const cut = { from: at(10), to: at(170), bucket: '1h' as const, now: NOW };
      expect(await volumes(raw, cut)).toEqual([10, 20, 25]);
      expect(await volumes(rollup, cut)).toEqual([10, 1020, 1025]);
      // To at 10:58: every stored minute of 10:00 is before it, the whole hour from the rollup.
      expect(await volumes(rollup, { ...cut, to: at(178) })).toEqual([10, 1020, 2035]);
      // The current hour is read from the rollup like any other: it is written with its minutes.
      const current = { ...whole, now: new Date('2025-03-01T10:40:00.000Z') };
      expect(await volumes(rollup, current)).toEqual([1020, 1020, 2035]);
      // A day bucket adds up both sources; 15-minute buckets never read the rollup.
      expect(await volumes(rollup, { ...cut, bucket: '1d' })).toEqual([2055]);
      expect(await volumes(rollup, { ...whole, bucket: '15m' })).toEqual([10, 10, 10, 10, 15, 10, 10]);
    },
  },
  {
    name: 'rollup: totals from the rollup (whole hours) and the minutes (edges) equal the raw minutes’, after re-sent and late minutes and a deleted camera',
    async run({ store }) {
      const cameras = [randomUUID(), randomUUID(), randomUUID()];
      for (const [i, id] of cameras.entries()) {
        await store.repo.createCamera(id, newCamera({ name: `cam ${i}` }), new Date(NOW.getTime() + i));
      }
      const minutes = sparseMinutes(cameras, 21);
      for (let i = 0; i < minutes.length; i += 250) {
        await store.repo.upsertAggregates(minutes.slice(i, i + 250), NOW);
      }
      expect(await expectSameTotals(store, cameras)).toBeGreaterThan(1000);
      // Re-sent minutes with new volumes, and late minutes for hours already rolled up.
      const next = random(23);
      const stored = new Set(minutes.map((m) => `${m.cameraId}|${m.intervalStart}|${m.lane}|${m.class}`));
      const late = sparseMinutes(cameras, 57).filter(
        (m) => !stored.has(`${m.cameraId}|${m.intervalStart}|${m.lane}|${m.class}`) && next() < 0.1,
      );
      const resent = minutes.filter(() => next() < 0.2).map((m) => ({ ...m, volume: m.volume + 7 }));
      expect(late.length).toBeGreaterThan(10);
      await store.repo.upsertAggregates([...resent, ...late], NOW);
      const before = await store.repo.totals({});
      expect(await expectSameTotals(store, cameras)).toBeGreaterThan(1000);
      // A deleted camera takes its minutes and its rollup rows with it.
      expect(await store.repo.deleteCamera(cameras[1]!)).toBe(true);
      const after = await store.repo.totals({});
      expect(after.intervals).toBeLessThan(before.intervals);
      expect(await expectSameTotals(store, cameras)).toBeGreaterThan(500);
      // Whole hours really come from the rollup: marked rows show in its answer, not in the raw one.
      await store.db.query(
        'UPDATE interval_rollups_hourly SET volume = volume + 1000, minutes = minutes + 1',
      );
      const { raw, rollup } = repos(store);
      const q = { from: at(0), to: at(180) };
      const rows = await store.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM interval_rollups_hourly WHERE hour_start >= $1 AND hour_start < $2`,
        [q.from, q.to],
      );
      const [fromMinutes, fromRollup] = [await raw.totals(q), await rollup.totals(q)];
      expect(fromRollup.volume - fromMinutes.volume).toBe(1000 * rows.rows[0]!.n);
      expect(fromRollup.intervals - fromMinutes.intervals).toBe(rows.rows[0]!.n);
    },
  },
  {
    name: 'rollup: kept for writers that know nothing of it (the previous release during a rollout, plain SQL): insert, upsert, delete',
    async run({ store }) {
      const cam = randomUUID();
      const other = randomUUID();
      await store.repo.createCamera(cam, newCamera(), NOW);
      await store.repo.createCamera(other, newCamera(), NOW);
      // What release N-1's ingestion sends: the upsert without any rollup statement.
      const upsert = (cameraId: string, minute: number, volume: number, occupancy: number) =>
        store.db.query(
          `INSERT INTO interval_aggregates (camera_id, interval_start, lane, class, volume, occupancy_pct, mean_speed_kmh, p85_speed_kmh)
           VALUES ($1, $2, 'nb-1', 'car', $3, $4, 50, 60)
           ON CONFLICT (camera_id, interval_start, lane, class) DO UPDATE SET volume = EXCLUDED.volume, occupancy_pct = EXCLUDED.occupancy_pct`,
          [cameraId, at(minute), volume, occupancy],
        );
      await upsert(cam, 0, 10, 30);
      await upsert(cam, 5, 20, 60);
      await upsert(cam, 70, 5, 10);
      await upsert(other, 1, 1, 1);
      await upsert(cam, 5, 2, 6); // re-sent: replaces
      expect(await rollupDrift(store)).toEqual([]);
      const { rollup } = repos(store);
      const ask = () =>
        rollup.queryAggregates({
          from: at(0),
          to: at(120),
          bucket: '1h',
          groupBy: ['camera'],
          cameraId: cam,
          now: NOW,
        });
      expect((await ask()).map((b) => [b.volume, b.occupancyPct])).toEqual([
        [12, 0.6],
        [5, 0.167],
      ]);
      // A deleted minute leaves its hour; an hour left without minutes leaves the rollup.
      await store.db.query('DELETE FROM interval_aggregates WHERE camera_id = $1 AND interval_start = $2', [
        cam,
        at(0),
      ]);
      await store.db.query('DELETE FROM interval_aggregates WHERE camera_id = $1 AND interval_start = $2', [
        cam,
        at(70),
      ]);
      expect(await rollupDrift(store)).toEqual([]);
      expect((await ask()).map((b) => [b.start, b.volume])).toEqual([[at(0), 2]]);
      // Deleting a camera takes its minutes and its rollup rows, not the other camera's.
      await store.repo.deleteCamera(cam);
      expect(await rollupDrift(store)).toEqual([]);
      const left = await store.db.query<{ camera_id: string }>(
        'SELECT camera_id FROM interval_rollups_hourly',
      );
      expect(left.rows.map((r) => r.camera_id)).toEqual([other]);
    },
  },
  {
    name: 'rollup: concurrent batches writing different minutes of the same hours all end up in the rollup',
    async run({ store }) {
      const cam = randomUUID();
      await store.repo.createCamera(cam, newCamera(), NOW);
      // Four writers, each its own minutes of the same two hours and series (disjoint, so no minute
      // row lock serialises them): each must see the others' committed minutes when it recomputes.
      const batches = [0, 1, 2, 3].map((w) =>
        Array.from({ length: 30 }, (_, i) =>
          aggregate(cam, { intervalStart: at(i * 4 + w), volume: w + 1, occupancyPct: 10 * (w + 1) }),
        ),
      );
      for (let round = 0; round < 3; round++) {
        await Promise.all(batches.map((b) => store.repo.upsertAggregates(b, NOW)));
        expect(await rollupDrift(store)).toEqual([]);
      }
      const { rollup } = repos(store);
      const hourly = await rollup.queryAggregates({
        from: at(0),
        to: at(120),
        bucket: '1h',
        groupBy: [],
        now: NOW,
      });
      // 15 minutes of each writer per hour: volume 15 × (1 + 2 + 3 + 4) = 150.
      expect(hourly.map((b) => b.volume)).toEqual([150, 150]);
    },
  },
  {
    name: 'rollup: concurrent batches mixing new and re-sent minutes of the same hours do not deadlock',
    async run({ store }) {
      const cam = randomUUID();
      await store.repo.createCamera(cam, newCamera(), NOW);
      // An upsert fires the insert trigger, then the update trigger, each locking its own hours: A's
      // new minute is in hour 09 and its re-sent one in 08, B's the other way round. Unless ingestion
      // locks all its hours first, in one order, A holds 09 and waits for 08 while B holds 08 and
      // waits for 09 — PostgreSQL aborts one of them.
      const mixedRounds = async () => {
        for (let round = 0; round < 8; round++) {
          const [old0, old1, new0, new1] = [round * 2, 60 + round * 2, round * 2 + 1, 61 + round * 2];
          await store.repo.upsertAggregates(
            [aggregate(cam, { intervalStart: at(old0) }), aggregate(cam, { intervalStart: at(old1) })],
            NOW,
          );
          const results = await Promise.allSettled([
            store.repo.upsertAggregates(
              [
                aggregate(cam, { intervalStart: at(old0), volume: 1 }),
                aggregate(cam, { intervalStart: at(new1) }),
              ],
              NOW,
            ),
            store.repo.upsertAggregates(
              [
                aggregate(cam, { intervalStart: at(old1), volume: 1 }),
                aggregate(cam, { intervalStart: at(new0) }),
              ],
              NOW,
            ),
          ]);
          expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual([
            'ok',
            'ok',
          ]);
        }
      };
      // A pause after every write to the rollup widens the window between the two triggers, so the
      // interleaving happens every round instead of by chance (PGlite runs one transaction at a time).
      const pause = store.kind === 'postgres';
      if (pause) {
        await store.db.query(`CREATE FUNCTION rollup_test_pause() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN PERFORM pg_sleep(0.05); RETURN NULL; END $$`);
        await store.db.query(`CREATE TRIGGER rollup_test_pause AFTER INSERT ON interval_rollups_hourly
          FOR EACH STATEMENT EXECUTE FUNCTION rollup_test_pause()`);
      }
      try {
        await mixedRounds();
      } finally {
        if (pause) {
          await store.db.query('DROP TRIGGER rollup_test_pause ON interval_rollups_hourly');
          await store.db.query('DROP FUNCTION rollup_test_pause()');
        }
      }
      expect(await rollupDrift(store)).toEqual([]);
    },
  },
  {
    name: 'rollup: an ingestion whose rollup update fails stores neither the minutes nor the rollup (one transaction)',
    async run({ store }) {
      const cam = randomUUID();
      await store.repo.createCamera(cam, newCamera(), NOW);
      await store.repo.upsertAggregates([aggregate(cam, { intervalStart: at(0), volume: 10 })], NOW);
      const snapshot = async () => ({
        minutes: (
          await store.db.query(
            'SELECT interval_start, lane, volume, occupancy_pct FROM interval_aggregates ORDER BY 1, 2',
          )
        ).rows,
        rollup: (await store.db.query('SELECT * FROM interval_rollups_hourly ORDER BY hour_start, lane'))
          .rows,
      });
      const before = await snapshot();
      expect(before.rollup).toHaveLength(1);
      // A constraint only the rollup breaks: the minutes themselves are valid. It is dropped again
      // below, so the other cases on this store never see it.
      await store.db.query(
        'ALTER TABLE interval_rollups_hourly ADD CONSTRAINT rollup_fault_test CHECK (volume < 100)',
      );
      try {
        const err = await store.repo
          .upsertAggregates(
            [
              aggregate(cam, { intervalStart: at(0), volume: 50 }), // replaces minute 0 …
              aggregate(cam, { intervalStart: at(1), volume: 60 }), // … and the hour's sum reaches 110
              aggregate(cam, { intervalStart: at(90), lane: 'sb-1', volume: 1 }), // another hour, fine alone
            ],
            NOW,
          )
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message).toMatch(/rollup_fault_test/);
      } finally {
        await store.db.query('ALTER TABLE interval_rollups_hourly DROP CONSTRAINT rollup_fault_test');
      }
      expect(await snapshot()).toEqual(before);
      // The store still takes the same batch once the constraint is gone.
      await store.repo.upsertAggregates([aggregate(cam, { intervalStart: at(1), volume: 60 })], NOW);
      expect(await rollupDrift(store)).toEqual([]);
    },
  },
];
