/**
 * Each counting session's figures per minute (`interval_contributions`) and the stored minute
 * (`interval_aggregates`) that combines them. Used by ingestion (repository.ts) and by the lease store
 * when a lease ends (leases.ts): a session that ended without sending a minute's final figures (a
 * worker killed mid-minute) has its last partial figures counted from then on.
 */
import type { IntervalAggregate, VehicleClass } from '@its/contracts';
import type { Queryable } from '../db/db.js';
import { toIso } from './aggregate-query.js';

/**
 * Locks (inserting empty where missing) the rollup rows of the keys in $1..$4, in key order, before the
 * minutes are written. The triggers lock the same rows again, but per trigger: an upsert fires the
 * insert trigger (hours of its new minutes) and then the update trigger (hours of its re-sent ones),
 * so two batches could each hold an hour the other's second trigger waits for — a deadlock. Taking
 * them all up front, in one order, makes the second batch wait for the first instead; and a second
 * session's batch for the same minute waits here, so its recombination sees this one's figures.
 */
export const CLAIM_ROLLUPS = `INSERT INTO interval_rollups_hourly AS r (camera_id, hour_start, lane, class)
 SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[]) ORDER BY 1, 2, 3, 4
 ON CONFLICT (camera_id, hour_start, lane, class) DO UPDATE SET minutes = r.minutes`;

/**
 * Recomputes the minutes keyed by $1..$4 from their sessions' final figures (partial ones — a minute a
 * live session is still counting — are left out): volumes summed, occupancy weighted by each session's
 * observed time (a session without one observed the whole minute), mean and 85th-percentile speeds
 * weighted by the volume of the sessions that have one (the p85 of merged sessions is thus an
 * estimate; a single session's is exact). Returns the combined rows.
 */
const COMBINE_CONTRIBUTIONS = `INSERT INTO interval_aggregates AS a
   (camera_id, interval_start, lane, class, volume, occupancy_pct, mean_speed_kmh, p85_speed_kmh, updated_at)
 SELECT c.camera_id, c.interval_start, c.lane, c.class, sum(c.volume)::int,
   CASE WHEN count(*) = 1 THEN max(c.occupancy_pct)
        WHEN sum(coalesce(c.observed_ms, 60000)) > 0
        THEN round((sum(c.occupancy_pct * coalesce(c.observed_ms, 60000)) / sum(coalesce(c.observed_ms, 60000)))::numeric, 2)::float8
        ELSE 0 END,
   CASE WHEN count(*) = 1 THEN max(c.mean_speed_kmh)
        ELSE round((sum(c.mean_speed_kmh * c.volume) / nullif(sum(c.volume) FILTER (WHERE c.mean_speed_kmh IS NOT NULL), 0))::numeric, 2)::float8 END,
   CASE WHEN count(*) = 1 THEN max(c.p85_speed_kmh)
        ELSE round((sum(c.p85_speed_kmh * c.volume) / nullif(sum(c.volume) FILTER (WHERE c.p85_speed_kmh IS NOT NULL), 0))::numeric, 2)::float8 END,
   $5::timestamptz
 FROM interval_contributions c
 JOIN (SELECT DISTINCT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[])) AS k(camera_id, interval_start, lane, class)
   ON c.camera_id = k.camera_id AND c.interval_start = k.interval_start AND c.lane = k.lane AND c.class = k.class
 WHERE NOT c.partial
 GROUP BY c.camera_id, c.interval_start, c.lane, c.class
 ORDER BY 1, 2, 3, 4
 ON CONFLICT (camera_id, interval_start, lane, class) DO UPDATE SET
   volume = EXCLUDED.volume, occupancy_pct = EXCLUDED.occupancy_pct, mean_speed_kmh = EXCLUDED.mean_speed_kmh,
   p85_speed_kmh = EXCLUDED.p85_speed_kmh, updated_at = EXCLUDED.updated_at
 RETURNING camera_id, interval_start, lane, class, volume, occupancy_pct, mean_speed_kmh, p85_speed_kmh`;

interface CombinedRow {
  camera_id: string;
  interval_start: Date | string;
  lane: string;
  class: VehicleClass;
  volume: number;
  occupancy_pct: number;
  mean_speed_kmh: number | null;
  p85_speed_kmh: number | null;
}

const toIntervalAggregate = (r: CombinedRow): IntervalAggregate => ({
  cameraId: r.camera_id,
  intervalStart: toIso(r.interval_start),
  lane: r.lane,
  class: r.class,
  volume: Number(r.volume),
  occupancyPct: Number(r.occupancy_pct),
  meanSpeedKmh: r.mean_speed_kmh === null ? null : Number(r.mean_speed_kmh),
  p85SpeedKmh: r.p85_speed_kmh === null ? null : Number(r.p85_speed_kmh),
});

type MinuteKey = Pick<IntervalAggregate, 'cameraId' | 'intervalStart' | 'lane' | 'class'>;

const HOUR_MS = 3_600_000;

/**
 * The distinct camera × hour × lane × class keys the minutes fall into, sorted: concurrent writers
 * claim rollup rows in one order and cannot deadlock.
 */
export function planTouchedHours(rows: readonly MinuteKey[]): [string[], string[], string[], string[]] {
  const keys = new Map<string, [string, string, string, string]>();
  for (const a of rows) {
    const hour = new Date(Math.floor(new Date(a.intervalStart).getTime() / HOUR_MS) * HOUR_MS).toISOString();
    keys.set(JSON.stringify([a.cameraId, hour, a.lane, a.class]), [a.cameraId, hour, a.lane, a.class]);
  }
  const sorted = [...keys.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, k]) => k);
  return [sorted.map((k) => k[0]), sorted.map((k) => k[1]), sorted.map((k) => k[2]), sorted.map((k) => k[3])];
}

/** Recombines these minutes (their rollup rows must be claimed first: CLAIM_ROLLUPS). */
export async function combineContributions(
  q: Queryable,
  keys: readonly MinuteKey[],
  now: Date,
): Promise<IntervalAggregate[]> {
  if (keys.length === 0) return [];
  const res = await q.query<CombinedRow>(COMBINE_CONTRIBUTIONS, [
    keys.map((k) => k.cameraId),
    keys.map((k) => k.intervalStart),
    keys.map((k) => k.lane),
    keys.map((k) => k.class),
    now,
  ]);
  return res.rows.map(toIntervalAggregate);
}

/**
 * Leases that ended: their sessions will send nothing more for these cameras (or, if they were only
 * cut off, their final figures replace these later). Their partial figures become final now and the
 * minutes they touch are recombined. Returns the recombined minutes (to publish live).
 */
export async function finalizeEndedSessions(
  q: Queryable,
  ended: readonly { cameraId: string; epoch: number }[],
  now: Date,
): Promise<IntervalAggregate[]> {
  if (ended.length === 0) return [];
  const params = [ended.map((e) => e.cameraId), ended.map((e) => e.epoch)];
  const partial = await q.query<{
    camera_id: string;
    interval_start: Date | string;
    lane: string;
    class: VehicleClass;
  }>(
    `SELECT DISTINCT c.camera_id, c.interval_start, c.lane, c.class FROM interval_contributions c
     JOIN unnest($1::uuid[], $2::int[]) AS e(camera_id, epoch) ON c.camera_id = e.camera_id AND c.epoch = e.epoch
     WHERE c.partial`,
    params,
  );
  if (partial.rows.length === 0) return [];
  const keys = partial.rows.map((r) => ({
    cameraId: r.camera_id,
    intervalStart: toIso(r.interval_start),
    lane: r.lane,
    class: r.class,
  }));
  // The rollup rows first, like ingestion: a session's final batch arriving now (it was being
  // delivered as its worker stopped) holds them and then writes its contribution rows; taking the
  // contribution rows first here would deadlock with it. After the claim, that batch has committed
  // and its final figures are no longer partial, so they are left alone below.
  await q.query(CLAIM_ROLLUPS, planTouchedHours(keys));
  // Only the minutes selected (and claimed) above: a partial figure written since is for the next call.
  const promoted = await q.query<{ camera_id: string }>(
    `UPDATE interval_contributions c SET partial = false
     FROM unnest($1::uuid[], $2::int[]) AS e(camera_id, epoch),
       unnest($3::uuid[], $4::timestamptz[], $5::text[], $6::text[]) AS k(camera_id, interval_start, lane, class)
     WHERE c.camera_id = e.camera_id AND c.epoch = e.epoch AND c.partial
       AND c.camera_id = k.camera_id AND c.interval_start = k.interval_start AND c.lane = k.lane AND c.class = k.class
     RETURNING c.camera_id`,
    [
      ...params,
      keys.map((k) => k.cameraId),
      keys.map((k) => k.intervalStart),
      keys.map((k) => k.lane),
      keys.map((k) => k.class),
    ],
  );
  if (promoted.rows.length === 0) return [];
  return combineContributions(q, keys, now);
}
