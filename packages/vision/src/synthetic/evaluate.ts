/**
 * Drive the analytics with a scene through the scripted detector and score the result against the
 * scene's ground truth.
 */
import type { CrossingEvent, IntervalAggregate, VehicleClass } from '@its/contracts';
import { createCameraAnalytics, type CameraAnalytics } from '../camera-analytics.js';
import type { AnalyticsOptions } from '../options.js';
import type { GroundTruthCrossing, Scene } from './scene.js';
import { createScriptedDetector } from './scripted-detector.js';

export interface SceneRun {
  crossings: CrossingEvent[];
  /** Crossing id → the ground-truth vehicle whose detections its track was following (0: none). */
  crossingVehicle: Map<string, number>;
  aggregates: IntervalAggregate[];
  analytics: CameraAnalytics;
  maxTracksAlive: number;
}

export function runScene(scene: Scene, options: Partial<AnalyticsOptions> = {}): SceneRun {
  const analytics = createCameraAnalytics(scene.camera, options);
  const detector = createScriptedDetector(scene.frames);
  const crossings: CrossingEvent[] = [];
  const aggregates: IntervalAggregate[] = [];
  const crossingVehicle = new Map<string, number>();
  // Per track, which vehicles' detections fed it in its last matched frames: a crossing belongs to
  // the majority (recent, because a track may legitimately have followed another vehicle long ago).
  const fedBy = new Map<string, number[]>();
  let maxTracksAlive = 0;
  let k = 0;
  for (const frame of detector.frames()) {
    const r = analytics.processFrame({ tsMs: frame.tsMs, detections: detector.detect(frame.tsMs) });
    const sources = scene.sources[k++] ?? [];
    for (const t of analytics.tracks) {
      if (t.detectionIndex === null) continue;
      const recent = [...(fedBy.get(t.id) ?? []), sources[t.detectionIndex] ?? 0].slice(-10);
      fedBy.set(t.id, recent);
    }
    for (const c of r.crossings) {
      const counts = new Map<number, number>();
      for (const v of fedBy.get(c.trackId ?? '') ?? []) if (v !== 0) counts.set(v, (counts.get(v) ?? 0) + 1);
      const best = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
      crossingVehicle.set(c.id, best?.[0] ?? 0);
    }
    crossings.push(...r.crossings);
    aggregates.push(...r.closed);
    maxTracksAlive = Math.max(maxTracksAlive, analytics.tracksAlive);
  }
  aggregates.push(...analytics.flush(Number.POSITIVE_INFINITY));
  return { crossings, crossingVehicle, aggregates, analytics, maxTracksAlive };
}

export interface CountCell {
  lineId: string;
  direction: 'forward' | 'reverse';
  class: VehicleClass;
  expected: number;
  counted: number;
}

export interface SpeedCheck {
  vehicleId: number;
  lineId: string;
  trueKmh: number;
  measuredKmh: number | null;
  /** |measured − true| / true; Infinity when no speed was measured. */
  relativeError: number;
}

export interface SceneScore {
  expected: number;
  counted: number;
  /** 1 − Σ|counted − expected| / Σ expected over line × direction cells (classes pooled). */
  countAccuracy: number;
  /** The same over line × direction × class cells: a wrong class costs twice. */
  classCountAccuracy: number;
  cells: CountCell[];
  /** One per ground-truth crossing matched to a counted one. */
  speeds: SpeedCheck[];
  /** Ground-truth crossings no counted crossing could be matched to. */
  unmatched: GroundTruthCrossing[];
  /** Counted crossings that match no true crossing of the vehicle their track followed. */
  extra: CrossingEvent[];
  maxSpeedError: number;
}

/**
 * Counts are compared cell by cell. For speeds, each true crossing is matched to a counted crossing
 * on the same line and direction whose track was following that vehicle's detections when it counted.
 */
export function scoreScene(scene: Scene, run: Pick<SceneRun, 'crossings' | 'crossingVehicle'>): SceneScore {
  const { crossings, crossingVehicle } = run;
  // Pair each true crossing with a counted one on the same line and direction whose track followed
  // that vehicle; unobservable true crossings and their partners then leave the scoring.
  const used = new Set<number>();
  const pairs: Array<{ truth: GroundTruthCrossing; counted: number | null }> = scene.crossings.map((t) => {
    const i = crossings.findIndex(
      (c, j) =>
        !used.has(j) &&
        c.lineId === t.lineId &&
        c.direction === t.direction &&
        crossingVehicle.get(c.id) === t.vehicleId,
    );
    if (i >= 0) used.add(i);
    return { truth: t, counted: i >= 0 ? i : null };
  });
  const ignored = new Set(
    pairs.filter((p) => !p.truth.observable && p.counted !== null).map((p) => p.counted!),
  );
  const truths = scene.crossings.filter((t) => t.observable);
  const counted = crossings.filter((_, i) => !ignored.has(i));

  const cellMap = new Map<string, CountCell>();
  const cell = (lineId: string, direction: 'forward' | 'reverse', cls: VehicleClass) => {
    const key = `${lineId}|${direction}|${cls}`;
    let c = cellMap.get(key);
    if (!c) {
      c = { lineId, direction, class: cls, expected: 0, counted: 0 };
      cellMap.set(key, c);
    }
    return c;
  };
  for (const t of truths) cell(t.lineId, t.direction, t.class).expected += 1;
  for (const c of counted) cell(c.lineId, c.direction, c.class).counted += 1;
  const cells = [...cellMap.values()].sort((a, b) =>
    `${a.lineId}|${a.direction}|${a.class}`.localeCompare(`${b.lineId}|${b.direction}|${b.class}`),
  );
  const pooled = new Map<string, { e: number; c: number }>();
  for (const c of cells) {
    const k = `${c.lineId}|${c.direction}`;
    const p = pooled.get(k) ?? { e: 0, c: 0 };
    p.e += c.expected;
    p.c += c.counted;
    pooled.set(k, p);
  }
  const expected = truths.length;
  const pooledError = [...pooled.values()].reduce((s, p) => s + Math.abs(p.c - p.e), 0);
  const classError = cells.reduce((s, c) => s + Math.abs(c.counted - c.expected), 0);

  const speeds: SpeedCheck[] = [];
  const unmatched: GroundTruthCrossing[] = [];
  for (const p of pairs) {
    if (!p.truth.observable) continue;
    if (p.counted === null) {
      unmatched.push(p.truth);
      continue;
    }
    const m = crossings[p.counted]!.speedKmh;
    speeds.push({
      vehicleId: p.truth.vehicleId,
      lineId: p.truth.lineId,
      trueKmh: p.truth.speedKmh,
      measuredKmh: m,
      relativeError: m === null ? Infinity : Math.abs(m - p.truth.speedKmh) / p.truth.speedKmh,
    });
  }
  const extra = crossings.filter((_, i) => !used.has(i));
  return {
    expected,
    counted: counted.length,
    countAccuracy: expected === 0 ? (counted.length === 0 ? 1 : 0) : 1 - pooledError / expected,
    classCountAccuracy: expected === 0 ? (counted.length === 0 ? 1 : 0) : 1 - classError / expected,
    cells,
    speeds,
    unmatched,
    extra,
    maxSpeedError: speeds.reduce((m, s) => Math.max(m, s.relativeError), 0),
  };
}
