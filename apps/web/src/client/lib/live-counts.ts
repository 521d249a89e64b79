/**
 * Live counts per lane × class over a rolling window, exact under retries.
 *
 * The API's 60-second aggregates are the truth; raw crossings fill the gap since the newest aggregate.
 * Aggregates are keyed by (interval, lane, class) so a re-sent aggregate replaces rather than adds —
 * the same idempotency rule as ingestion. Crossings are keyed by their id and only count while they are
 * newer than the watermark (end of the newest aggregated minute); once that minute's aggregate arrives
 * they are dropped, so nothing is counted twice. Pure: time is passed in.
 */
import type { AggregateBucket, CrossingEvent, IntervalAggregate, LiveEvent } from '@its/contracts';

const MINUTE_MS = 60_000;

export type LiveCounts = {
  cameraId: string;
  /** `${intervalStartMs}|${lane}|${class}` → volume */
  intervals: ReadonlyMap<string, number>;
  /** crossing id → event, only those at or after the watermark */
  pending: ReadonlyMap<string, CrossingEvent>;
  /** End (ms) of the newest aggregated minute; crossings before it are already in `intervals`. */
  watermarkMs: number;
};

const intervalKey = (startMs: number, lane: string, cls: string) => `${startMs}|${lane}|${cls}`;

/** Seeds from an aggregate query with bucket=1m and groupBy=lane,class. */
export function seedLiveCounts(cameraId: string, buckets: AggregateBucket[]): LiveCounts {
  const intervals = new Map<string, number>();
  let watermarkMs = 0;
  for (const b of buckets) {
    if (b.lane === undefined || b.class === undefined) continue;
    const t = Date.parse(b.start);
    intervals.set(intervalKey(t, b.lane, b.class), b.volume);
    watermarkMs = Math.max(watermarkMs, t + MINUTE_MS);
  }
  return { cameraId, intervals, pending: new Map(), watermarkMs };
}

/**
 * A fresh seed that keeps what the old state knew beyond it: crossings not yet aggregated (when the
 * seed is for the same camera) and events received while the seed was in flight.
 */
export function reseedLiveCounts(
  cameraId: string,
  buckets: AggregateBucket[],
  prev: LiveCounts | null,
  replay: LiveEvent[] = [],
): LiveCounts {
  let state = seedLiveCounts(cameraId, buckets);
  if (prev && prev.cameraId === cameraId) {
    for (const c of prev.pending.values()) state = applyLiveEvent(state, { type: 'crossing', data: c });
  }
  for (const ev of replay) state = applyLiveEvent(state, ev);
  return state;
}

/** Returns the same object when the event does not concern this camera or changes nothing. */
export function applyLiveEvent(state: LiveCounts, ev: LiveEvent): LiveCounts {
  if (ev.type === 'crossing') return addCrossing(state, ev.data);
  if (ev.type === 'aggregate') return addAggregate(state, ev.data);
  return state;
}

function addCrossing(state: LiveCounts, c: CrossingEvent): LiveCounts {
  if (c.cameraId !== state.cameraId) return state;
  if (Date.parse(c.ts) < state.watermarkMs || state.pending.has(c.id)) return state;
  const pending = new Map(state.pending);
  pending.set(c.id, c);
  return { ...state, pending };
}

function addAggregate(state: LiveCounts, a: IntervalAggregate): LiveCounts {
  if (a.cameraId !== state.cameraId) return state;
  const t = Date.parse(a.intervalStart);
  const intervals = new Map(state.intervals);
  intervals.set(intervalKey(t, a.lane, a.class), a.volume);
  const watermarkMs = Math.max(state.watermarkMs, t + MINUTE_MS);
  const pending = new Map([...state.pending].filter(([, c]) => Date.parse(c.ts) >= watermarkMs));
  return { ...state, intervals, pending, watermarkMs };
}

export type CountsSummary = {
  lanes: string[];
  classes: string[];
  /** `${lane}|${class}` → count */
  cells: Map<string, number>;
  laneTotals: Map<string, number>;
  classTotals: Map<string, number>;
  total: number;
};

/**
 * Counts inside [nowMs - windowMs, nowMs]. `knownLanes` (the camera's configured lanes) always get a
 * row, so a quiet lane reads 0 rather than disappearing.
 */
export function summarizeLiveCounts(
  state: LiveCounts,
  nowMs: number,
  windowMs: number,
  knownLanes: string[] = [],
  classOrder: readonly string[] = [],
): CountsSummary {
  const fromMs = nowMs - windowMs;
  const cells = new Map<string, number>();
  const add = (lane: string, cls: string, n: number) => {
    const k = `${lane}|${cls}`;
    cells.set(k, (cells.get(k) ?? 0) + n);
  };
  for (const [key, volume] of state.intervals) {
    const [startStr, lane, cls] = key.split('|') as [string, string, string];
    // An interval counts when it ends inside the window (the minute just finished is included).
    if (Number(startStr) + MINUTE_MS > fromMs) add(lane, cls, volume);
  }
  for (const c of state.pending.values()) if (Date.parse(c.ts) >= fromMs) add(c.lane, c.class, 1);

  const lanes = new Set(knownLanes);
  const classes = new Set<string>();
  const laneTotals = new Map<string, number>();
  const classTotals = new Map<string, number>();
  let total = 0;
  for (const [k, n] of cells) {
    const [lane, cls] = k.split('|') as [string, string];
    lanes.add(lane);
    classes.add(cls);
    laneTotals.set(lane, (laneTotals.get(lane) ?? 0) + n);
    classTotals.set(cls, (classTotals.get(cls) ?? 0) + n);
    total += n;
  }
  const rank = (c: string) => {
    const i = classOrder.indexOf(c);
    return i === -1 ? classOrder.length : i;
  };
  return {
    lanes: [...lanes].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })),
    classes: [...classes].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)),
    cells,
    laneTotals,
    classTotals,
    total,
  };
}
