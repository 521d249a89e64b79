/**
 * Pure planning of the aggregate query: filters, bucket and grouping in, SQL and parameters out.
 * Bucketing happens in SQL (date_bin), so only the buckets cross the wire from the database.
 *
 * Per bucket (and group):
 *   volume        = Σ volume
 *   occupancyPct  = mean of the intervals' occupancy
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

export function planAggregateQuery(f: AggregateFilter): { sql: string; params: unknown[] } {
  const buckets = countBuckets(f.from, f.to, f.bucket);
  if (buckets > MAX_BUCKETS) {
    throw badRequest(
      `querystring/bucket: ${buckets} buckets of ${f.bucket} between from and to exceed ${MAX_BUCKETS}; use a larger bucket or a shorter range`,
    );
  }
  const params: unknown[] = [`${BUCKET_SECONDS[f.bucket]} seconds`, f.from, f.to];
  const where = ['interval_start >= $2::timestamptz', 'interval_start < $3::timestamptz'];
  const add = (column: string, value: unknown, cast: string) => {
    params.push(value);
    where.push(`${column} = $${params.length}::${cast}`);
  };
  if (f.cameraId) add('camera_id', f.cameraId, 'uuid');
  if (f.lane) add('lane', f.lane, 'text');
  if (f.class) add('class', f.class, 'text');
  const dims = f.groupBy.map((d) => COLUMN[d]);
  const select = [
    `date_bin($1::interval, interval_start, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket_start`,
    ...dims,
  ];
  const weighted = (col: string) =>
    `(sum(${col} * volume) FILTER (WHERE ${col} IS NOT NULL) / NULLIF(sum(volume) FILTER (WHERE ${col} IS NOT NULL), 0))::float8`;
  const sql = `SELECT ${select.join(', ')},
    sum(volume)::float8 AS volume,
    avg(occupancy_pct)::float8 AS occupancy_pct,
    ${weighted('mean_speed_kmh')} AS mean_speed_kmh,
    ${weighted('p85_speed_kmh')} AS p85_speed_kmh
  FROM interval_aggregates
  WHERE ${where.join(' AND ')}
  GROUP BY ${['1', ...dims].join(', ')}
  ORDER BY ${['1', ...dims].join(', ')}`;
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
