/**
 * Time ranges the operator can pick, and the bucket each maps to. Pure: the clock is passed in.
 * Bucket sizes keep every chart between 60 and 168 points, enough detail without crowding a phone.
 */
import { BUCKET_SECONDS, type AggregateBucket, type Bucket } from '@its/contracts';

export const RANGE_IDS = ['1h', '24h', '7d'] as const;
export type RangeId = (typeof RANGE_IDS)[number];

export type RangeSpec = { id: RangeId; label: string; short: string; durationMs: number; bucket: Bucket };

export const RANGES: Record<RangeId, RangeSpec> = {
  '1h': { id: '1h', label: 'Last hour', short: '1 h', durationMs: 3_600_000, bucket: '1m' },
  '24h': { id: '24h', label: 'Last 24 hours', short: '24 h', durationMs: 86_400_000, bucket: '15m' },
  '7d': { id: '7d', label: 'Last 7 days', short: '7 d', durationMs: 7 * 86_400_000, bucket: '1h' },
};

export function parseRangeId(value: string | null | undefined, fallback: RangeId = '24h'): RangeId {
  return (RANGE_IDS as readonly string[]).includes(value ?? '') ? (value as RangeId) : fallback;
}

export type RangeWindow = { from: string; to: string; bucket: Bucket; bucketMs: number; starts: number[] };

/**
 * The query window for a range: it ends at the end of the bucket that contains `nowMs` (so the
 * current, still-filling bucket is shown) and starts `durationMs` earlier, aligned to bucket edges.
 */
export function planRangeWindow(range: RangeId, nowMs: number): RangeWindow {
  const spec = RANGES[range];
  return planWindow(spec.durationMs, spec.bucket, nowMs);
}

export function planWindow(durationMs: number, bucket: Bucket, nowMs: number): RangeWindow {
  const bucketMs = BUCKET_SECONDS[bucket] * 1000;
  const toMs = Math.floor(nowMs / bucketMs) * bucketMs + bucketMs;
  const fromMs = toMs - durationMs;
  const starts: number[] = [];
  for (let t = fromMs; t < toMs; t += bucketMs) starts.push(t);
  return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), bucket, bucketMs, starts };
}

export type SeriesPoint = {
  start: number;
  volume: number;
  meanSpeedKmh: number | null;
  p85SpeedKmh: number | null;
  occupancyPct: number;
};

/** One point per bucket start, zero volume (and no speed) where the API returned nothing. */
export function fillSeries(buckets: AggregateBucket[], starts: number[]): SeriesPoint[] {
  const byStart = new Map<number, AggregateBucket>();
  for (const b of buckets) byStart.set(Date.parse(b.start), b);
  return starts.map((start) => {
    const b = byStart.get(start);
    return b
      ? {
          start,
          volume: b.volume,
          meanSpeedKmh: b.meanSpeedKmh,
          p85SpeedKmh: b.p85SpeedKmh,
          occupancyPct: b.occupancyPct,
        }
      : { start, volume: 0, meanSpeedKmh: null, p85SpeedKmh: null, occupancyPct: 0 };
  });
}

/** Volume per bucket start per key (class, lane or camera), for stacked bars and sparklines. */
export function pivotVolume(
  buckets: AggregateBucket[],
  starts: number[],
  keyOf: (b: AggregateBucket) => string | undefined,
): { keys: string[]; rows: { start: number; values: Record<string, number> }[] } {
  const keys = new Set<string>();
  const byStart = new Map<number, Record<string, number>>();
  for (const b of buckets) {
    const k = keyOf(b);
    if (k === undefined) continue;
    keys.add(k);
    const t = Date.parse(b.start);
    const row = byStart.get(t) ?? {};
    row[k] = (row[k] ?? 0) + b.volume;
    byStart.set(t, row);
  }
  return {
    keys: [...keys].sort(),
    rows: starts.map((start) => ({ start, values: byStart.get(start) ?? {} })),
  };
}

export type RangeSummary = {
  volume: number;
  meanSpeedKmh: number | null;
  p85SpeedKmh: number | null;
  occupancyPct: number | null;
};

/**
 * Totals over a range: volume summed, speeds volume-weighted, occupancy time-weighted over the whole
 * window. The API's bucket occupancy already counts a bucket's empty minutes as 0 %; here each bucket
 * weighs by the minutes of it that have ended by `nowMs` (the current bucket only by its elapsed
 * minutes), and a bucket the API did not return (no stored minute) counts as 0 % over its minutes —
 * averaging only the returned buckets would make a quiet range read as busy as its one busy bucket.
 */
export function summarizeSeries(
  buckets: AggregateBucket[],
  w: Pick<RangeWindow, 'starts' | 'bucketMs'>,
  nowMs: number,
): RangeSummary {
  let volume = 0;
  let speedW = 0;
  let speedSum = 0;
  let p85W = 0;
  let p85Sum = 0;
  let occSum = 0;
  const endedMs = Math.floor(nowMs / 60_000) * 60_000;
  const minutesOf = (startMs: number) => Math.min(w.bucketMs, Math.max(0, endedMs - startMs)) / 60_000;
  for (const b of buckets) {
    volume += b.volume;
    if (b.meanSpeedKmh !== null && b.volume > 0) {
      speedSum += b.meanSpeedKmh * b.volume;
      speedW += b.volume;
    }
    if (b.p85SpeedKmh !== null && b.volume > 0) {
      p85Sum += b.p85SpeedKmh * b.volume;
      p85W += b.volume;
    }
    occSum += b.occupancyPct * minutesOf(Date.parse(b.start));
  }
  const minutes = w.starts.reduce((sum, start) => sum + minutesOf(start), 0);
  return {
    volume,
    meanSpeedKmh: speedW > 0 ? speedSum / speedW : null,
    p85SpeedKmh: p85W > 0 ? p85Sum / p85W : null,
    occupancyPct: buckets.length > 0 && minutes > 0 ? occSum / minutes : null,
  };
}
