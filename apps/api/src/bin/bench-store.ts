/**
 * `npm run bench:store -- [--store postgres|embedded|both] [--cameras 1000] [--embedded-cameras 100]
 *   [--days 90] [--raw-days 2] [--runs 15] [--json]`
 *
 * The fleet query benchmark: seeds what the store keeps for a fleet — hourly rollups for every hour of
 * `--days`, raw minutes only for the last `--raw-days` (the rest is past any raw horizon we measure
 * against; RETENTION_RAW_DAYS would keep 35 days, which at 1 000 cameras is ≈ 200 M minutes, more than
 * this machine can seed in minutes) — then times the dashboard's queries through the repository (SQL
 * and mapping, no HTTP or cache): p50/p95 of `--runs` runs after 2 warm-ups, against the founding
 * 200 ms. Seeding is SQL (generate_series), triggers off, rollups computed the way migration 3 does.
 * Every camera has 2 lanes × 2 classes, one row each per minute (4 minutes-rows a camera a minute).
 * The embedded store is seeded with `--embedded-cameras` (it is meant for ≤ 20 cameras and seeds one
 * core's worth). A temporary directory holds both stores and is removed at the end.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPostgres, type PostgresServer } from '@its/testkit';
import type { Db, Queryable } from '../db/db.js';
import { runMigrations } from '../db/migrations.js';
import { createPgDb } from '../db/pg-db.js';
import { createPgliteDb } from '../db/pglite-db.js';
import type { AggregateFilter } from '../store/aggregate-query.js';
import { createRepository, type Repository } from '../store/repository.js';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'both' },
    cameras: { type: 'string', default: '1000' },
    'embedded-cameras': { type: 'string', default: '100' },
    days: { type: 'string', default: '90' },
    'raw-days': { type: 'string', default: '2' },
    runs: { type: 'string', default: '15' },
    json: { type: 'boolean', default: false },
  },
});
const DAYS = Number(args.days);
const RAW_DAYS = Number(args['raw-days']);
const RUNS = Number(args.runs);
if (
  !['postgres', 'embedded', 'both'].includes(args.store!) ||
  !(DAYS >= RAW_DAYS && RAW_DAYS >= 1) ||
  !(RUNS >= 1)
) {
  console.error(
    'usage: bench:store [--store postgres|embedded|both] [--cameras N] [--days D ≥ raw-days ≥ 1] [--runs N]',
  );
  process.exit(2);
}
const log = (msg: string) => (args.json ? process.stderr : process.stdout).write(`${msg}\n`);
const BUDGET_MS = 200;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

async function seed(
  db: Queryable,
  cameras: number,
  now: Date,
): Promise<{ seedMs: number; minutes: number; rollups: number }> {
  const t0 = Date.now();
  const end = new Date(Math.floor(now.getTime() / 60_000) * 60_000 - 60_000);
  // On the hour, so every older hour is wholly a rollup-only hour.
  const rawFrom = new Date(Math.ceil((end.getTime() - RAW_DAYS * DAY_MS) / HOUR_MS) * HOUR_MS);
  const first = new Date(Math.floor((end.getTime() - DAYS * DAY_MS) / HOUR_MS) * HOUR_MS);
  await db.query(
    `INSERT INTO cameras (id, name, stream_url, lat, lon, geometry, status_state, created_at, updated_at)
     SELECT gen_random_uuid(), 'cam ' || i, 'rtsp://127.0.0.1/cam' || i, 52, 13, '{"lines":[],"zones":[],"calibration":null}',
       'online', $2::timestamptz + i * interval '1 millisecond', $2::timestamptz
     FROM generate_series(1, $1::int) AS i`,
    [cameras, now],
  );
  await db.query('ALTER TABLE interval_aggregates DISABLE TRIGGER USER');
  // A weekday-shaped day: volume by hour of day, varied per camera and minute.
  const shape = `(1 + sin(pi() * extract(hour FROM t) / 24.0) * 2)`;
  await db.query(
    `INSERT INTO interval_aggregates (camera_id, interval_start, lane, class, volume, occupancy_pct, mean_speed_kmh, p85_speed_kmh)
     SELECT c.id, t, s.lane, s.class, (s.base * ${shape} + (hashtext(c.id::text) + extract(minute FROM t)::int) % 4)::int,
       least(100, s.base * ${shape} * 1.8), 35 + extract(minute FROM t)::int % 20, 45 + extract(minute FROM t)::int % 25
     FROM cameras c, generate_series($1::timestamptz, $2::timestamptz, interval '1 minute') AS t,
       (VALUES ('nb-1', 'car', 6), ('nb-1', 'truck', 1), ('sb-1', 'car', 5), ('sb-1', 'truck', 1)) AS s(lane, class, base)`,
    [rawFrom, end],
  );
  await db.query('ALTER TABLE interval_aggregates ENABLE TRIGGER USER');
  // Hours with minutes: migration 3's backfill. Older hours: what those minutes would have rolled up to.
  await db.query(
    `INSERT INTO interval_rollups_hourly (camera_id, hour_start, lane, class, minutes, last_minute, volume,
       occupancy_sum, mean_speed_kmh_sum, mean_speed_kmh_volume, p85_speed_kmh_sum, p85_speed_kmh_volume)
     SELECT camera_id, date_bin('1 hour', interval_start, TIMESTAMPTZ '1970-01-01 00:00:00+00'), lane, class,
       count(*), max(interval_start), sum(volume), sum(occupancy_pct::numeric),
       sum((mean_speed_kmh * volume)::numeric), sum(volume), sum((p85_speed_kmh * volume)::numeric), sum(volume)
     FROM interval_aggregates GROUP BY 1, 2, 3, 4`,
  );
  await db.query(
    `INSERT INTO interval_rollups_hourly (camera_id, hour_start, lane, class, minutes, last_minute, volume,
       occupancy_sum, mean_speed_kmh_sum, mean_speed_kmh_volume, p85_speed_kmh_sum, p85_speed_kmh_volume)
     SELECT c.id, t, s.lane, s.class, 60, t + interval '59 minutes', v, (s.base * ${shape} * 1.8 * 60)::numeric,
       (v * 44.5)::numeric, v, (v * 57)::numeric, v
     FROM cameras c, generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', interval '1 hour') AS t,
       (VALUES ('nb-1', 'car', 6), ('nb-1', 'truck', 1), ('sb-1', 'car', 5), ('sb-1', 'truck', 1)) AS s(lane, class, base),
       LATERAL (SELECT (60 * (s.base * ${shape} + 1.5))::int AS v) AS x`,
    [first, rawFrom],
  );
  await db.query('ANALYZE');
  const n = async (t: string) =>
    Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]!.n);
  return {
    seedMs: Date.now() - t0,
    minutes: await n('interval_aggregates'),
    rollups: await n('interval_rollups_hourly'),
  };
}

interface QueryCase {
  page: 'overview' | 'camera';
  name: string;
  run(repo: Repository): Promise<unknown>;
}

function cases(now: Date, camera: string): QueryCase[] {
  // The dashboard's windows (apps/web/src/client/lib/ranges.ts planWindow): aligned to the bucket, ending
  // at the end of the current bucket.
  const window = (durationMs: number, bucketMs: number) => {
    const to = Math.floor(now.getTime() / bucketMs) * bucketMs + bucketMs;
    return { from: new Date(to - durationMs).toISOString(), to: new Date(to).toISOString(), now };
  };
  const agg =
    (f: Omit<AggregateFilter, 'now' | 'from' | 'to'>, w: { from: string; to: string; now: Date }) =>
    (repo: Repository) =>
      repo.queryAggregates({ ...f, ...w });
  const m1 = 60_000;
  const day = window(DAY_MS, HOUR_MS);
  return [
    {
      page: 'overview',
      name: 'cameras list (limit 500)',
      run: (r) => r.listCameras({ limit: 500, offset: 0 }),
    },
    {
      page: 'overview',
      name: '24 h, 1h buckets, by camera (sparklines)',
      run: agg({ bucket: '1h', groupBy: ['camera'] }, day),
    },
    { page: 'overview', name: '24 h, 1h buckets, all cameras', run: agg({ bucket: '1h', groupBy: [] }, day) },
    {
      page: 'overview',
      name: '7 d, 1h buckets, all cameras',
      run: agg({ bucket: '1h', groupBy: [] }, window(7 * DAY_MS, HOUR_MS)),
    },
    {
      page: 'overview',
      name: '90 d, 1d buckets, all cameras',
      run: agg({ bucket: '1d', groupBy: [] }, window(90 * DAY_MS, DAY_MS)),
    },
    { page: 'overview', name: 'totals, last 24 h', run: (r) => r.totals({ from: day.from, to: day.to }) },
    { page: 'overview', name: 'latest counts, all cameras', run: (r) => r.latestCounts() },
    {
      page: 'camera',
      name: '1 h, 1m buckets, by lane × class (live seed)',
      run: agg({ cameraId: camera, bucket: '1m', groupBy: ['lane', 'class'] }, window(HOUR_MS, m1)),
    },
    {
      page: 'camera',
      name: '24 h, 1m buckets',
      run: agg({ cameraId: camera, bucket: '1m', groupBy: [] }, window(DAY_MS, m1)),
    },
    {
      page: 'camera',
      name: '24 h, 15m buckets, by class',
      run: agg({ cameraId: camera, bucket: '15m', groupBy: ['class'] }, window(DAY_MS, 15 * m1)),
    },
    {
      page: 'camera',
      name: '7 d, 1h buckets, by class',
      run: agg({ cameraId: camera, bucket: '1h', groupBy: ['class'] }, window(7 * DAY_MS, HOUR_MS)),
    },
    {
      page: 'camera',
      name: '90 d, 1d buckets, by class',
      run: agg({ cameraId: camera, bucket: '1d', groupBy: ['class'] }, window(90 * DAY_MS, DAY_MS)),
    },
    { page: 'camera', name: 'latest counts, one camera', run: (r) => r.latestCounts(camera) },
  ];
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function measure(db: Db, cameras: number) {
  const now = new Date();
  // One transaction, free of the pool's 30 s statement timeout: a fleet's day of minutes takes longer.
  const seeded = await db.transaction(async (tx) => {
    await tx.query('SET LOCAL statement_timeout = 0');
    return seed(tx, cameras, now);
  });
  log(
    `  seeded ${cameras} cameras × ${DAYS} d: ${seeded.minutes} minutes, ${seeded.rollups} rollup rows in ${(seeded.seedMs / 1000).toFixed(1)} s`,
  );
  const camera = (
    await db.query<{ id: string }>('SELECT id FROM cameras ORDER BY created_at LIMIT 1 OFFSET 7')
  ).rows[0]!.id;
  const repo = createRepository(db);
  const results = [];
  for (const c of cases(now, camera)) {
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < RUNS + 2; i++) {
      const t = performance.now();
      const out = await c.run(repo);
      if (i >= 2) times.push(performance.now() - t);
      rows = Array.isArray(out) ? out.length : 1;
    }
    times.sort((a, b) => a - b);
    const r = {
      page: c.page,
      query: c.name,
      rows,
      p50Ms: +percentile(times, 50).toFixed(1),
      p95Ms: +percentile(times, 95).toFixed(1),
    };
    results.push(r);
    log(
      `  ${r.p95Ms <= BUDGET_MS ? 'ok  ' : 'SLOW'} ${c.page.padEnd(8)} ${c.name.padEnd(48)} p50 ${String(r.p50Ms).padStart(7)} ms  p95 ${String(r.p95Ms).padStart(7)} ms  (${rows} rows)`,
    );
  }
  return { cameras, days: DAYS, rawDays: RAW_DAYS, ...seeded, results };
}

const dir = mkdtempSync(join(tmpdir(), 'its-bench-store-'));
let pg: PostgresServer | undefined;
const report: Record<string, unknown> = {
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  runs: RUNS,
};
try {
  if (args.store !== 'embedded') {
    log(`PostgreSQL (private server, ${process.env.PG_BIN_DIR ?? 'PG_BIN_DIR unset: the Debian default'}):`);
    pg = await startPostgres();
    const db = createPgDb({ url: pg.url });
    await runMigrations(db);
    report.postgres = await measure(db, Number(args.cameras));
    await db.close();
  }
  if (args.store !== 'postgres') {
    log('Embedded store (PGlite on disk):');
    const db = await createPgliteDb(join(dir, `pglite-${randomUUID()}`));
    await runMigrations(db);
    report.embedded = await measure(db, Number(args['embedded-cameras']));
    await db.close();
  }
} finally {
  await pg?.destroy();
  rmSync(dir, { recursive: true, force: true });
}
if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
