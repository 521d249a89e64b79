/**
 * 60-second interval aggregates per camera × lane × class, aligned to whole UTC minutes.
 *
 *  - volume: crossings counted on the lane's lines during the interval (a crossing belongs to the
 *    interval containing its timestamp);
 *  - occupancyPct: the fraction of the OBSERVED time of the interval during which at least one track
 *    of the class was inside a zone of the lane. Time between two frames is attributed to the state
 *    seen at the earlier frame (sample and hold), split at minute boundaries; a gap between frames
 *    longer than `maxFrameGapMs` counts only up to that cap, so a stalled stream does not pass for
 *    an empty or a jammed road. Observed rather than wall time keeps the first, partial minute of a
 *    camera from being diluted;
 *  - meanSpeedKmh / p85SpeedKmh: over the speeds of the interval's crossings that have one (type-7
 *    percentile, see statistics.ts); null when none has;
 *  - observedMs: the observed time itself, so that the API can combine two sessions' figures for one
 *    minute (a worker restarted inside it) weighting each occupancy by what it saw.
 * An interval is emitted once, when a frame at or after its end arrives or on flush(nowMs) with
 * nowMs at or after its end; rows exist for lane × class pairs with any volume or occupancy.
 */
import type { IntervalAggregate, VehicleClass } from '@its/contracts';
import { laneClassKey } from './zones.js';
import { mean, percentile, roundTo } from './statistics.js';

export const INTERVAL_MS = 60_000;

export interface AggregatorOptions {
  cameraId: string;
  maxFrameGapMs: number;
}

interface Cell {
  lane: string;
  class: VehicleClass;
  volume: number;
  speeds: number[];
  occupiedMs: number;
}

interface Bucket {
  observedMs: number;
  cells: Map<string, Cell>;
}

export interface IntervalAggregator {
  /** Attribute the time from `fromMs` to `toMs` to the given occupied lane × class pairs. */
  observe(fromMs: number, toMs: number, occupied: ReadonlyArray<{ lane: string; class: VehicleClass }>): void;
  addCrossing(tsMs: number, lane: string, cls: VehicleClass, speedKmh: number | null): void;
  /** Emit and forget every interval that ends at or before `untilMs`, oldest first. */
  closeUntil(untilMs: number): IntervalAggregate[];
  /**
   * The intervals still open, as they stand now, oldest first; nothing is closed. A worker sends them
   * now and then as partial figures, so that a worker killed mid-minute loses only what it counted
   * since the last ones.
   */
  snapshot(): IntervalAggregate[];
}

export function alignToInterval(tsMs: number): number {
  return Math.floor(tsMs / INTERVAL_MS) * INTERVAL_MS;
}

export function createIntervalAggregator(options: AggregatorOptions): IntervalAggregator {
  const buckets = new Map<number, Bucket>();
  // Everything before this instant has been emitted; late contributions to it are dropped rather
  // than re-emitted as a smaller replacement row (ingestion upserts, so that would lose data).
  let closedUntil = -Infinity;

  const bucketAt = (start: number): Bucket => {
    let b = buckets.get(start);
    if (!b) {
      b = { observedMs: 0, cells: new Map() };
      buckets.set(start, b);
    }
    return b;
  };
  const cellOf = (b: Bucket, lane: string, cls: VehicleClass): Cell => {
    const key = laneClassKey(lane, cls);
    let c = b.cells.get(key);
    if (!c) {
      c = { lane, class: cls, volume: 0, speeds: [], occupiedMs: 0 };
      b.cells.set(key, c);
    }
    return c;
  };

  const rowsOf = (start: number, b: Bucket): IntervalAggregate[] => {
    const cells = [...b.cells.values()].sort((x, y) =>
      x.lane === y.lane ? x.class.localeCompare(y.class) : x.lane.localeCompare(y.lane),
    );
    const out: IntervalAggregate[] = [];
    for (const c of cells) {
      if (c.volume === 0 && c.occupiedMs === 0) continue;
      const m = mean(c.speeds);
      const p85 = percentile(c.speeds, 0.85);
      out.push({
        cameraId: options.cameraId,
        intervalStart: new Date(start).toISOString(),
        lane: c.lane,
        class: c.class,
        volume: c.volume,
        occupancyPct: b.observedMs > 0 ? Math.min(100, roundTo((100 * c.occupiedMs) / b.observedMs, 2)) : 0,
        meanSpeedKmh: m === null ? null : roundTo(m, 2),
        p85SpeedKmh: p85 === null ? null : roundTo(p85, 2),
        // The occupancy's denominator: the API weighs two sessions' occupancy of one minute by it.
        observedMs: Math.min(INTERVAL_MS, Math.round(b.observedMs)),
      });
    }
    return out;
  };

  return {
    observe(fromMs, toMs, occupied) {
      let from = Math.max(fromMs, closedUntil);
      const to = Math.min(toMs, fromMs + options.maxFrameGapMs);
      while (from < to) {
        const start = alignToInterval(from);
        const end = Math.min(to, start + INTERVAL_MS);
        const b = bucketAt(start);
        b.observedMs += end - from;
        for (const o of occupied) cellOf(b, o.lane, o.class).occupiedMs += end - from;
        from = end;
      }
    },
    addCrossing(tsMs, lane, cls, speedKmh) {
      if (tsMs < closedUntil) return;
      const c = cellOf(bucketAt(alignToInterval(tsMs)), lane, cls);
      c.volume += 1;
      if (speedKmh !== null) c.speeds.push(speedKmh);
    },
    closeUntil(untilMs) {
      const due = [...buckets.keys()].filter((s) => s + INTERVAL_MS <= untilMs).sort((a, b) => a - b);
      const out: IntervalAggregate[] = [];
      for (const start of due) {
        out.push(...rowsOf(start, buckets.get(start)!));
        buckets.delete(start);
        closedUntil = Math.max(closedUntil, start + INTERVAL_MS);
      }
      if (Number.isFinite(untilMs)) closedUntil = Math.max(closedUntil, alignToInterval(untilMs));
      return out;
    },
    snapshot() {
      return [...buckets.keys()].sort((a, b) => a - b).flatMap((start) => rowsOf(start, buckets.get(start)!));
    },
  };
}
