/**
 * The row limit of aggregate queries (AGGREGATE_MAX_ROWS), decided before the query runs. An answer has
 * at most buckets × groups rows, and a caller asking for minute buckets of every camera × lane × class
 * over days would otherwise have the database build, and the API parse and serialise, close to a
 * million rows on the event loop while /health waits. Groups are bounded from the request where that is
 * possible (a camera count, the six classes); lanes are free text, so when the request's bound is
 * unknown or too high, the groups present in the range are counted from the hourly rollup, which holds
 * one row per series and hour — a sixtieth of the minutes the query itself would read.
 */
import { BUCKETS, BUCKET_SECONDS, VEHICLE_CLASSES, type Bucket } from '@its/contracts';
import type { Queryable } from '../db/db.js';
import { countBuckets, MAX_BUCKETS, type AggregateFilter } from './aggregate-query.js';

type GroupFilter = Pick<AggregateFilter, 'cameraId' | 'lane' | 'class' | 'groupBy'>;
type RangeFilter = Pick<AggregateFilter, 'from' | 'to' | 'bucket' | 'groupBy'> &
  Partial<Pick<AggregateFilter, 'cameraId' | 'lane' | 'class'>>;

/**
 * Pure: the most groups `groupBy` can produce whatever the data, or undefined when the request alone
 * cannot tell (grouping by lane without a lane filter). `cameras` is needed only when grouping by camera
 * without a cameraId filter (pass anything otherwise; see needsCameraCount).
 */
export function planGroupBound(f: GroupFilter, cameras: number): number | undefined {
  let groups = 1;
  for (const d of f.groupBy) {
    if (d === 'camera') groups *= f.cameraId ? 1 : cameras;
    else if (d === 'class') groups *= f.class ? 1 : VEHICLE_CLASSES.length;
    else if (!f.lane) return undefined;
  }
  return groups;
}

export const needsCameraCount = (f: GroupFilter) => f.groupBy.includes('camera') && !f.cameraId;

export type RowVerdict = { ok: true; rows: number } | { ok: false; rows: number; message: string };

/** `30000` s → `8 h 20 min`. */
function describeSpan(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const parts = [d ? `${d} d` : '', h ? `${h} h` : '', m ? `${m} min` : ''].filter(Boolean);
  return parts.length ? parts.join(' ') : `${seconds} s`;
}

/**
 * Pure: whether buckets × `groups` rows fit in `maxRows`, and when not, a message naming the
 * parameters, the limit and the ways to narrow the query that would fit.
 */
export function assessAggregateRows(f: RangeFilter, groups: number, maxRows: number): RowVerdict {
  const buckets = countBuckets(f.from, f.to, f.bucket);
  const rows = buckets * groups;
  if (rows <= maxRows) return { ok: true, rows };
  const grouped = f.groupBy.length ? ` by ${f.groupBy.join(', ')}` : '';
  const ways: string[] = [];
  const larger = BUCKETS.slice(BUCKETS.indexOf(f.bucket) + 1).find(
    (b: Bucket) => countBuckets(f.from, f.to, b) * groups <= maxRows,
  );
  if (larger)
    ways.push(`a larger bucket (bucket=${larger}: ${countBuckets(f.from, f.to, larger) * groups} rows)`);
  const fitting = Math.floor(maxRows / groups);
  if (fitting >= 1) {
    ways.push(
      `a shorter range (at most ${fitting} buckets of ${f.bucket}, ${describeSpan(fitting * BUCKET_SECONDS[f.bucket])}, between from and to)`,
    );
  }
  if (f.groupBy.length) ways.push('fewer groupBy keys');
  const filters = (
    [
      ['camera', 'cameraId', f.cameraId],
      ['lane', 'lane', f.lane],
      ['class', 'class', f.class],
    ] as const
  )
    .filter(([dim, , value]) => f.groupBy.includes(dim) && !value)
    .map(([, name]) => name);
  if (filters.length) ways.push(`a ${filters.join(' or ')} filter`);
  return {
    ok: false,
    rows,
    message:
      `querystring: bucket=${f.bucket} from ${f.from} to ${f.to} is ${buckets} buckets × ${groups} groups${grouped}` +
      ` = ${rows} rows, above the limit of ${maxRows} rows per query (AGGREGATE_MAX_ROWS); narrow it: ${ways.join(', ')}`,
  };
}

/**
 * Pure: SQL counting the distinct groups with data in the range's hours, from the hourly rollup (a
 * superset of the range's groups, so buckets × this count bounds the answer).
 */
export function planAggregateGroupCount(f: RangeFilter): { sql: string; params: unknown[] } {
  const hourMs = 3_600_000;
  const params: unknown[] = [
    new Date(Math.floor(new Date(f.from).getTime() / hourMs) * hourMs).toISOString(),
    f.to,
  ];
  const where = ['hour_start >= $1::timestamptz', 'hour_start < $2::timestamptz'];
  const add = (column: string, value: string | undefined, cast: string) => {
    if (value === undefined) return;
    params.push(value);
    where.push(`${column} = $${params.length}::${cast}`);
  };
  add('camera_id', f.cameraId, 'uuid');
  add('lane', f.lane, 'text');
  add('class', f.class, 'text');
  const columns = f.groupBy.map((d) => ({ camera: 'camera_id', lane: 'lane', class: 'class' })[d]);
  return {
    sql: `SELECT count(*)::int AS groups FROM (
  SELECT DISTINCT ${columns.join(', ')} FROM interval_rollups_hourly WHERE ${where.join(' AND ')}
) AS g`,
    params,
  };
}

/**
 * Whether the query could answer more than `maxRows` rows (assessAggregateRows' verdict). Costs
 * nothing when the request bounds its groups within the limit; otherwise a camera count and at most one
 * count over the rollup. A range of more than MAX_BUCKETS buckets passes here: the query planner refuses
 * it with its own message.
 */
export async function checkAggregateRowLimit(
  db: Queryable,
  f: RangeFilter,
  maxRows: number,
): Promise<RowVerdict> {
  const buckets = countBuckets(f.from, f.to, f.bucket);
  if (buckets > MAX_BUCKETS) return { ok: true, rows: buckets };
  const cameras = needsCameraCount(f)
    ? (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cameras')).rows[0]!.n
    : 0;
  const bound = planGroupBound(f, cameras);
  if (bound !== undefined) {
    const verdict = assessAggregateRows(f, bound, maxRows);
    // Without groupBy there is one group whatever the data: nothing to count.
    if (verdict.ok || f.groupBy.length === 0) return verdict;
  }
  const { sql, params } = planAggregateGroupCount(f);
  const groups = (await db.query<{ groups: number }>(sql, params)).rows[0]!.groups;
  return assessAggregateRows(f, groups, maxRows);
}
