/**
 * Pure planning of the aggregate query: filters, bucket, grouping and the time of the query in, SQL and
 * parameters out. Bucketing happens in SQL (date_bin), so only the buckets cross the wire from the
 * database. Hourly and daily buckets read their hours from the hourly rollup (sums per
 * camera × lane × class × hour, kept by ingestion) and only the edge hours cut by from or to from the
 * minutes (planRollupHours), in one query: UNION ALL of both sources, then the maths below, which sees
 * a rollup row as a series' sums over that hour's stored minutes — the sums the minutes would give.
 *
 * Per bucket (and group):
 *   volume        = Σ volume
 *   occupancyPct  = Σ occupancy over the stored minutes / countable minutes / series.
 *                   The worker stores a row only for minutes in which a lane × class saw something, so
 *                   a mean over the stored rows would make a sparse lane read as busy as its one busy
 *                   minute; every countable minute without a row counts as 0 % instead.
 *                   Countable minutes: the bucket's minutes whose start lies in [from, to) and that have
 *                   ended by `now` (the worker reports a minute only once it is over), so an edge bucket
 *                   cut by `from` or `to` uses only its minutes inside the range and the current bucket
 *                   only its elapsed minutes. A stored minute always counts (a worker clock ahead of
 *                   ours must not push occupancy past 100 %), and all groups of one bucket share the
 *                   count. Series: the distinct camera × lane × class present in the group's bucket,
 *                   so a group spanning several lanes or classes reports the mean over its series; a
 *                   series with no row at all in the bucket cannot be told from one that does not
 *                   exist and is not counted.
 *   meanSpeedKmh  = Σ(meanSpeed × volume) / Σ volume, over intervals that have a speed
 *   p85SpeedKmh   = Σ(p85 × volume) / Σ volume, over intervals that have a p85. A true 85th percentile
 *                   needs the individual speeds; the volume-weighted mean of the intervals' p85 is the
 *                   usual approximation for pre-aggregated data (exact when the intervals' speed
 *                   distributions are alike) and is documented as such in the contract.
 */
import { BUCKET_SECONDS, type AggregateBucket, type Bucket, type VehicleClass } from '@its/contracts';
import { badRequest } from '../errors.js';

export type GroupDimension = 'camera' | 'lane' | 'class';
const DIMENSIONS: readonly GroupDimension[] = ['camera', 'lane', 'class'];
const COLUMN: Record<GroupDimension, string> = { camera: 'camera_id', lane: 'lane', class: 'class' };

/** Above this many buckets a query is refused: ask for a larger bucket or a shorter range. */
export const MAX_BUCKETS = 10_000;

export interface AggregateFilter {
  cameraId?: string | undefined;
  lane?: string | undefined;
  class?: VehicleClass | undefined;
  from: string;
  to: string;
  bucket: Bucket;
  groupBy: readonly GroupDimension[];
  /** When the query is asked: minutes that have not ended by then are not counted for occupancy. */
  now: Date;
}

/** `"class,lane,class"` → `['lane', 'class']`: deduplicated, in a fixed order. */
export function parseGroupBy(value: string | undefined): GroupDimension[] {
  if (!value) return [];
  const asked = new Set(value.split(','));
  return DIMENSIONS.filter((d) => asked.has(d));
}

export function countBuckets(from: string, to: string, bucket: Bucket): number {
  const size = BUCKET_SECONDS[bucket] * 1000;
  const start = Math.floor(new Date(from).getTime() / size);
  const end = Math.ceil(new Date(to).getTime() / size);
  return Math.max(0, end - start);
}

const MINUTE_MS = 60_000;

/**
 * The minutes that may count towards a bucket's occupancy, as [first, end) of minute starts: a stored
 * interval is in the range when its (whole-minute) start lies in [from, to), i.e. in
 * [⌈from⌉, ⌈to⌉) in whole minutes; a minute has ended by `now` when its start is before ⌊now⌋.
 */
export function planCountableMinutes(from: string, to: string, now: Date): { first: string; end: string } {
  const ceil = (ms: number) => Math.ceil(ms / MINUTE_MS) * MINUTE_MS;
  const first = ceil(new Date(from).getTime());
  const end = Math.min(ceil(new Date(to).getTime()), Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS);
  return { first: new Date(first).toISOString(), end: new Date(end).toISOString() };
}

const HOUR_MS = 3_600_000;

/**
 * Where 1h and 1d buckets read the hourly rollup, or undefined when they cannot (other buckets; a range
 * inside one hour). `from`: the first hour that starts inside the range (⌈from⌉ to the hour); the
 * minutes before it, an edge hour cut by `from`, are read raw. From there on a rollup row (one series,
 * one hour) answers when all its stored minutes lie before `to`: every hour wholly inside the range, and
 * the hour cut by `to` (`tail` = ⌊to⌋ to the hour) for each series that has no minute at or after `to`.
 * The rest of the tail hour — the series with such a minute — is read raw. The current hour is no
 * exception: its rollup rows are written in the transaction that writes its minutes, so they are never
 * behind them.
 */
export function planRollupHours(
  f: Pick<AggregateFilter, 'from' | 'to' | 'bucket'>,
): { from: string; tail: string } | undefined {
  if (f.bucket !== '1h' && f.bucket !== '1d') return undefined;
  const to = new Date(f.to).getTime();
  const first = Math.ceil(new Date(f.from).getTime() / HOUR_MS) * HOUR_MS;
  if (!(first < to)) return undefined;
  const tail = Math.floor(to / HOUR_MS) * HOUR_MS;
  return { from: new Date(first).toISOString(), tail: new Date(tail).toISOString() };
}

export interface AggregatePlanOptions {
  /**
   * Default true: 1h and 1d buckets read `interval_rollups_hourly` where it answers (planRollupHours).
   * False reads every minute from `interval_aggregates`: the reference the rollup path is tested against.
   */
  rollup?: boolean;
}

/**
 * Per source row: the sums the bucket maths adds up (a raw minute is a rollup row of one minute). For
 * 1h and 1d buckets the float sums are added as numeric, exactly, so the answer does not depend on the
 * order of the additions: minutes summed per hour and then per bucket (rollup) or per bucket at once
 * (raw), or split across PostgreSQL's parallel workers, give the same bucket to the last digit — in
 * float8 they differ in the last bits, which flips a rounded answer now and then. 1m and 15m buckets
 * never mix the two sources and stay float8: the float → numeric conversion of every minute costs about
 * half again on a 10 000-minute scan.
 */
function rawColumns(exact: boolean): string {
  const sum = (expr: string) => (exact ? `(${expr})::numeric` : expr);
  return `interval_start, camera_id, lane, class, volume,
    ${sum('occupancy_pct')} AS occupancy_sum, interval_start AS last_minute,
    ${sum('mean_speed_kmh * volume')} AS mean_speed_kmh_sum,
    CASE WHEN mean_speed_kmh IS NOT NULL THEN volume END AS mean_speed_kmh_volume,
    ${sum('p85_speed_kmh * volume')} AS p85_speed_kmh_sum,
    CASE WHEN p85_speed_kmh IS NOT NULL THEN volume END AS p85_speed_kmh_volume`;
}
const ROLLUP_COLUMNS = `hour_start AS interval_start, camera_id, lane, class, volume,
    occupancy_sum, last_minute,
    mean_speed_kmh_sum, mean_speed_kmh_volume,
    p85_speed_kmh_sum, p85_speed_kmh_volume`;

export function planAggregateQuery(
  f: AggregateFilter,
  opts: AggregatePlanOptions = {},
): { sql: string; params: unknown[] } {
  const buckets = countBuckets(f.from, f.to, f.bucket);
  if (buckets > MAX_BUCKETS) {
    throw badRequest(
      `querystring/bucket: ${buckets} buckets of ${f.bucket} between from and to exceed ${MAX_BUCKETS}; use a larger bucket or a shorter range`,
    );
  }
  const minutes = planCountableMinutes(f.from, f.to, f.now);
  const params: unknown[] = [`${BUCKET_SECONDS[f.bucket]} seconds`, f.from, f.to, minutes.first, minutes.end];
  const filters: string[] = [];
  const add = (column: string, value: unknown, cast: string) => {
    params.push(value);
    filters.push(`${column} = $${params.length}::${cast}`);
  };
  if (f.cameraId) add('camera_id', f.cameraId, 'uuid');
  if (f.lane) add('lane', f.lane, 'text');
  if (f.class) add('class', f.class, 'text');
  const range = (column: string, from: string, to: string) => [
    `${column} >= ${from}::timestamptz`,
    `${column} < ${to}::timestamptz`,
    ...filters,
  ];
  const exact = f.bucket === '1h' || f.bucket === '1d';
  const raw = (from: string, to: string) =>
    `SELECT ${rawColumns(exact)}
  FROM interval_aggregates
  WHERE ${range('interval_start', from, to).join(' AND ')}`;
  const speedSums = (col: string) => `sum(${col}_sum) AS ${col}_sum, sum(${col}_volume) AS ${col}_volume`;
  const hours = opts.rollup === false ? undefined : planRollupHours(f);
  const perSeriesOf = (
    from: string,
  ) => `SELECT date_bin($1::interval, interval_start, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket_start,
    camera_id, lane, class,
    sum(volume) AS volume,
    sum(occupancy_sum) AS occupancy_sum,
    max(last_minute) AS last_minute,
    ${speedSums('mean_speed_kmh')},
    ${speedSums('p85_speed_kmh')}
  FROM ${from}
  GROUP BY 1, camera_id, lane, class`;
  let source: string;
  let perSeries = perSeriesOf('source');
  if (hours) {
    params.push(hours.from, hours.tail);
    const [hFrom, hTail] = [`$${params.length - 1}`, `$${params.length}`];
    // The raw minutes are read by index ranges (the head, the tail hour) rather than as the range
    // minus the rolled-up hours, so the minutes the rollup answers for are never read.
    const rollupRows = (columns: string) => `SELECT ${columns}
  FROM interval_rollups_hourly
  WHERE ${[...range('hour_start', hFrom, '$3'), 'last_minute < $3::timestamptz'].join(' AND ')}`;
    const rawEdges = `${raw('$2', hFrom)}
  UNION ALL
  ${raw(hTail, '$3')}
    AND (camera_id, lane, class) IN (
      SELECT camera_id, lane, class FROM interval_rollups_hourly
      WHERE ${['hour_start = ' + hTail + '::timestamptz', 'last_minute >= $3::timestamptz', ...filters].join(' AND ')})`;
    if (f.bucket === '1h') {
      // An hour bucket of one series is either one rollup row or raw minutes, never both: the head's
      // minutes lie before the first rolled-up hour, and a series read raw in the tail hour is one whose
      // rollup row there is left out. So a rollup row is already that series' sums for its bucket and
      // skips the per-series grouping, which at 1 000 cameras grouped 96 000 (24 h) to 672 000 (7 d)
      // rows of numeric sums, spilling to disk; only the raw edges are grouped per series.
      source = rawEdges;
      perSeries = `${perSeries}
  UNION ALL
  ${rollupRows(`hour_start AS bucket_start, camera_id, lane, class, volume::bigint AS volume, occupancy_sum, last_minute,
    mean_speed_kmh_sum, mean_speed_kmh_volume::bigint AS mean_speed_kmh_volume,
    p85_speed_kmh_sum, p85_speed_kmh_volume::bigint AS p85_speed_kmh_volume`)}`;
    } else {
      source = `${rollupRows(ROLLUP_COLUMNS)}
  UNION ALL
  ${rawEdges}`;
    }
  } else {
    source = raw('$2', '$3');
  }
  const dims = f.groupBy.map((d) => COLUMN[d]);
  const keys = ['bucket_start', ...dims].join(', ');
  // Sums per series first, then per group: counting a group's series as rows of the first step is
  // cheap, where count(DISTINCT (camera_id, lane, class)) sorted every interval (5× slower on PGlite
  // at 100 k intervals). sum() skips the NULL products of intervals without a speed; their volume is
  // NULL too (the CASE), so it is left out of the divisor.
  const speedMean = (col: string) => `(sum(${col}_sum) / NULLIF(sum(${col}_volume), 0))::float8 AS ${col}`;
  // Countable minutes run from the later of the bucket's start and the range's first minute to the
  // earlier of the bucket's end and the range's countable end, but at least to the bucket's last
  // stored minute (any group's), so the divisor is never zero and never leaves a stored minute out.
  const countable = `(extract(epoch FROM
      greatest(least(bucket_start + $1::interval, $5::timestamptz), max(last_minute) OVER (PARTITION BY bucket_start) + interval '1 minute')
      - greatest(bucket_start, $4::timestamptz)) / 60)::float8`;
  const sql = `WITH source AS (
  ${source}
), per_series AS (
  ${perSeries}
), grouped AS (
  SELECT ${keys},
    sum(volume)::float8 AS volume,
    sum(occupancy_sum)::float8 AS occupancy_sum,
    count(*)::float8 AS series,
    max(last_minute) AS last_minute,
    ${speedMean('mean_speed_kmh')},
    ${speedMean('p85_speed_kmh')}
  FROM per_series
  GROUP BY ${keys}
)
SELECT ${keys}, volume,
  occupancy_sum / series / ${countable} AS occupancy_pct,
  mean_speed_kmh, p85_speed_kmh
FROM grouped
ORDER BY ${keys}`;
  return { sql, params };
}

export interface AggregateRow {
  bucket_start: Date | string;
  camera_id?: string;
  lane?: string;
  class?: string;
  volume: number;
  occupancy_pct: number;
  mean_speed_kmh: number | null;
  p85_speed_kmh: number | null;
}

const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;
const roundOrNull = (v: number | null) => (v === null ? null : round(Number(v)));

export function toAggregateBucket(row: AggregateRow, groupBy: readonly GroupDimension[]): AggregateBucket {
  const out: AggregateBucket = {
    start: toIso(row.bucket_start),
    volume: Math.round(Number(row.volume)),
    occupancyPct: round(Number(row.occupancy_pct)),
    meanSpeedKmh: roundOrNull(row.mean_speed_kmh),
    p85SpeedKmh: roundOrNull(row.p85_speed_kmh),
  };
  if (groupBy.includes('camera')) out.cameraId = row.camera_id;
  if (groupBy.includes('lane')) out.lane = row.lane;
  if (groupBy.includes('class')) out.class = row.class as VehicleClass;
  return out;
}

export function toIso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
