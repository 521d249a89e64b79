/**
 * The per-camera analytics pipeline: detections in, crossing events and closed interval aggregates
 * out. Pure and deterministic: no I/O, no clock — time arrives with every frame — so the same frames
 * always give the same events with the same ids.
 *
 * One frame:
 *   1. the time since the previous frame is credited to the occupancy state seen at that frame;
 *   2. the tracker associates the detections (ByteTrack, Kalman);
 *   3. each matched track's bottom-centre is fed to every count line and, with a calibration, mapped
 *      to the ground for its speed;
 *   4. crossings of confirmed tracks become CrossingEvents (those of tentative tracks wait for
 *      confirmation and die with the track; with a calibration, a crossing also waits up to
 *      `speedWaitMs` for its track's speed to rest on `speedSettleMs` of samples). An event's `ts` is the frame that emits it;
 *   5. zone membership gives dwell per track and the occupied lane × class pairs;
 *   6. intervals that ended at or before this frame are closed and returned.
 */
import {
  VEHICLE_CLASSES,
  type Camera,
  type CountLine,
  type CrossingDirection,
  type CrossingEvent,
  type IntervalAggregate,
  type VehicleClass,
} from '@its/contracts';
import { createIntervalAggregator } from './aggregation.js';
import { deriveCrossingId } from './crossing-id.js';
import { VisionInputError } from './errors.js';
import { bottomCentre, type Box, type Point } from './geometry.js';
import { applyHomography, solveCalibration, type Homography } from './homography.js';
import { createLineTrackState, stepLineCounter, type LineTrackState } from './line-counter.js';
import { resolveAnalyticsOptions, type AnalyticsOptions } from './options.js';
import {
  addGroundSample,
  estimateGroundVelocity,
  estimateSpeedKmh,
  projectBoxToGround,
  type SpeedTrack,
} from './speed.js';
import { roundTo } from './statistics.js';
import { createTracker, type TrackState, type TrackView } from './tracker.js';
import { findOccupiedLaneClasses, findZonesContaining, stepDwell } from './zones.js';

/** One frame's detections; `tsMs` is the frame's capture time (ms since the Unix epoch, UTC). */
export interface FrameDetections {
  tsMs: number;
  detections: Array<{ class: VehicleClass; score: number; box: Box /* normalised 0..1 */ }>;
}

export type AnalyticsCamera = Pick<Camera, 'id' | 'lines' | 'zones' | 'calibration'> & {
  /** Frame width / height; distances compared with thresholds use it. Default 16 / 9. */
  frameAspect?: number;
};

export interface TrackSnapshot {
  id: string;
  state: TrackState;
  class: VehicleClass;
  box: Box;
  bottomCentre: Point;
  /** Index, in the latest frame's detections, of the detection matched to this track (null: none). */
  detectionIndex: number | null;
  hits: number;
  ageFrames: number;
  framesSinceUpdate: number;
  /** Ground position (metres) of the bottom-centre at the last match; null without calibration. */
  ground: Point | null;
  speedKmh: number | null;
  /** Zones the track is in now, since when, and for how long so far. */
  zones: Array<{ zoneId: string; enteredAtMs: number; dwellMs: number }>;
}

export interface FrameResult {
  crossings: CrossingEvent[];
  closed: IntervalAggregate[];
}

export interface CameraAnalytics {
  processFrame(f: FrameDetections): FrameResult;
  /** Close and return every interval ending at or before nowMs (Infinity: all, e.g. at shutdown). */
  flush(nowMs: number): IntervalAggregate[];
  /** The open intervals as they stand, closing nothing (the worker sends them as partial figures). */
  snapshot(): IntervalAggregate[];
  /** Confirmed tracks matched in the latest frame. */
  readonly tracksAlive: number;
  /** Every track the tracker holds: tentative, confirmed and lost. */
  readonly tracks: ReadonlyArray<TrackSnapshot>;
}

interface PendingCrossing {
  line: CountLine;
  direction: CrossingDirection;
  countIndex: number;
  /** When the line counter saw it. */
  seenAtMs: number;
}

interface TrackAux {
  lines: Map<string, LineTrackState>;
  speed: SpeedTrack;
  speedKmh: number | null;
  ground: Point | null;
  dwell: Map<string, number>;
  pending: PendingCrossing[];
}

export function createCameraAnalytics(
  camera: AnalyticsCamera,
  options: Partial<AnalyticsOptions> = {},
): CameraAnalytics {
  const opts = resolveAnalyticsOptions(options);
  const frameAspect = camera.frameAspect ?? 16 / 9;
  if (!(Number.isFinite(frameAspect) && frameAspect > 0)) {
    throw new VisionInputError('camera.frameAspect', `must be a positive number, got ${frameAspect}`);
  }
  const maps =
    camera.calibration === null ? null : solveCalibration(camera.calibration, 'camera.calibration');
  const imageToGround: Homography | null = maps?.imageToGround ?? null;
  const aux = new Map<number, TrackAux>();
  /**
   * Where a lost track's vehicle is now if it kept its ground velocity: its last measured box moved
   * along the ground and rescaled for the new depth. In the image a vehicle driving away slows down
   * and one approaching speeds up, so the Kalman filter's constant image velocity drifts off during
   * a long gap; on the ground the motion is straight and steady.
   */
  // Within one frame the tracker asks about the same lost track once per detection: fit once.
  const predictions = new Map<number, ReturnType<typeof predictOnGround>>();
  const groundPrediction = (trackId: number, last: Box, lostForMs: number) => {
    if (!predictions.has(trackId)) predictions.set(trackId, predictOnGround(trackId, last, lostForMs));
    return predictions.get(trackId)!;
  };
  const predictOnGround = (trackId: number, last: Box, lostForMs: number) => {
    const a = aux.get(trackId);
    if (maps === null || !a) return null;
    const v = estimateGroundVelocity(a.speed, opts);
    const g0 = projectBoxToGround(maps.imageToGround, last);
    if (v === null || g0 === null) return null;
    const g1 = { x: g0.point.x + (v.vx * lostForMs) / 1000, y: g0.point.y + (v.vy * lostForMs) / 1000 };
    return { g0, g1, speed: Math.hypot(v.vx, v.vy) };
  };
  const predictLost = (trackId: number, last: Box, lostForMs: number): Box | null => {
    const p = groundPrediction(trackId, last, lostForMs);
    if (maps === null || p === null) return null;
    const { g0, g1 } = p;
    const p1 = applyHomography(maps.groundToImage, g1);
    const widthAt = (g: Point) => {
      const l = applyHomography(maps.groundToImage, { x: g.x - 0.5, y: g.y });
      const r = applyHomography(maps.groundToImage, { x: g.x + 0.5, y: g.y });
      return l && r ? Math.hypot(r.x - l.x, r.y - l.y) : null;
    };
    const w0 = widthAt(g0.point);
    const w1 = widthAt(g1);
    if (p1 === null || !w0 || !w1) return null;
    const k = w1 / w0;
    return { x: p1.x - (last.w * k) / 2, y: p1.y - last.h * k, w: last.w * k, h: last.h * k };
  };
  /**
   * A lost track may only be re-found by a detection whose ground point lies where the vehicle can
   * be: within the detection's own ground error (3σ), plus 2 m, plus 30 % of the distance it was
   * expected to cover, plus what 3 m/s² of braking or acceleration adds. Without it, a track that
   * coasted for a second could jump to a false positive or a neighbour and count its crossings.
   */
  const isPlausibleLost = (trackId: number, last: Box, detection: Box, lostForMs: number): boolean => {
    const p = groundPrediction(trackId, last, lostForMs);
    const d = maps === null ? null : projectBoxToGround(maps.imageToGround, detection);
    if (p === null || d === null) return true;
    const t = lostForMs / 1000;
    const allowed = 3 * d.sigma + 2 + 0.3 * p.speed * t + 1.5 * t * t;
    return Math.hypot(d.point.x - p.g1.x, d.point.y - p.g1.y) <= allowed;
  };
  const tracker = createTracker({
    highScore: opts.highScore,
    lowScore: opts.lowScore,
    newTrackScore: opts.newTrackScore,
    matchIou: opts.matchIou,
    lowMatchIou: opts.lowMatchIou,
    tentativeMatchIou: opts.tentativeMatchIou,
    minHits: opts.minHits,
    maxAge: opts.maxAge,
    tentativeMaxMisses: opts.tentativeMaxMisses,
    lostBufferPerFrame: opts.lostBufferPerFrame,
    maxLostBuffer: opts.maxLostBuffer,
    maxHeightRatio: opts.maxHeightRatio,
    predictLost,
    isPlausibleLost,
    kalman: {
      measurement: opts.kalmanMeasurementNoise,
      acceleration: opts.kalmanAccelerationNoise,
      initialVelocity: opts.kalmanInitialVelocityNoise,
    },
  });
  const aggregator = createIntervalAggregator({ cameraId: camera.id, maxFrameGapMs: opts.maxFrameGapMs });
  const lineOptions = {
    hysteresis: opts.hysteresis,
    confirmFrames: opts.confirmFrames,
    recountCooldownMs: opts.recountCooldownMs,
    frameAspect,
  };
  let lastTs: number | null = null;
  let lastOccupied: Array<{ lane: string; class: VehicleClass }> = [];
  let views: TrackView[] = [];

  const emit = (t: TrackView, a: TrackAux, p: PendingCrossing, tsMs: number, out: CrossingEvent[]) => {
    const speed = a.speedKmh === null ? null : roundTo(a.speedKmh, 2);
    out.push({
      id: deriveCrossingId({
        cameraId: camera.id,
        trackId: t.id,
        trackBornAtMs: t.bornAtMs,
        lineId: p.line.id,
        direction: p.direction,
        countIndex: p.countIndex,
      }),
      cameraId: camera.id,
      lineId: p.line.id,
      lane: p.line.lane,
      class: t.class,
      direction: p.direction,
      ts: new Date(tsMs).toISOString(),
      speedKmh: speed,
      trackId: String(t.id),
    });
    aggregator.addCrossing(tsMs, p.line.lane, t.class, speed);
  };

  return {
    processFrame(f) {
      checkFrame(f, lastTs);
      const ts = f.tsMs;
      if (lastTs !== null) aggregator.observe(lastTs, ts, lastOccupied);
      lastTs = ts;

      predictions.clear();
      const step = tracker.update(f.detections, ts);
      const crossings: CrossingEvent[] = [];
      for (const r of step.removed) {
        const a = aux.get(r.id);
        // A confirmed track that dies still owes the crossings that were waiting for a speed.
        if (a && r.state !== 'tentative') for (const p of a.pending) emit(r, a, p, ts, crossings);
        aux.delete(r.id);
      }
      views = step.tracks;

      for (const t of views) {
        let a = aux.get(t.id);
        if (!a) {
          a = {
            lines: new Map(),
            speed: { samples: [] },
            speedKmh: null,
            ground: null,
            dwell: new Map(),
            pending: [],
          };
          aux.set(t.id, a);
        }
        if (t.matched) {
          const point = bottomCentre(t.box);
          if (imageToGround !== null && t.detection !== null) {
            // Speed uses the measured box, not the Kalman estimate: the filter's constant image
            // velocity lags a vehicle whose image motion speeds up or slows down with perspective
            // (a steady 2 % bias on clean scenes), and the least-squares fit already smooths jitter.
            const g = projectBoxToGround(imageToGround, t.detection.box);
            if (g !== null) {
              a.ground = g.point;
              a.speed = addGroundSample(
                a.speed,
                { tMs: ts, x: g.point.x, y: g.point.y, sigma: g.sigma },
                opts,
              );
              a.speedKmh = estimateSpeedKmh(a.speed, opts);
            }
          }
          for (const line of camera.lines) {
            const s = stepLineCounter(
              a.lines.get(line.id) ?? createLineTrackState(),
              point,
              ts,
              line,
              lineOptions,
            );
            a.lines.set(line.id, s.state);
            if (s.crossing) a.pending.push({ line, ...s.crossing, seenAtMs: ts });
          }
        }
        if (t.state !== 'tentative' && a.pending.length > 0) {
          // A crossing waits for its track's confirmation and, for up to speedWaitMs, for a settled
          // speed: a track born or re-found just before the line has too few ground samples yet.
          const samples = a.speed.samples;
          const span = samples.length > 0 ? samples[samples.length - 1]!.tMs - samples[0]!.tMs : 0;
          const settled = a.speedKmh !== null && span >= Math.min(opts.speedSettleMs, opts.speedWindowMs);
          const ready = a.pending.filter(
            (p) => imageToGround === null || settled || ts - p.seenAtMs >= opts.speedWaitMs,
          );
          for (const p of ready) emit(t, a, p, ts, crossings);
          a.pending = a.pending.filter((p) => !ready.includes(p));
        }
        const present = t.state !== 'tentative' && t.framesSinceUpdate <= opts.zoneCoastFrames;
        a.dwell = stepDwell(a.dwell, present ? findZonesContaining(t.box, camera.zones) : [], ts).state;
      }
      lastOccupied = findOccupiedLaneClasses(
        views.filter((t) => t.state !== 'tentative' && t.framesSinceUpdate <= opts.zoneCoastFrames),
        camera.zones,
      );
      return { crossings, closed: aggregator.closeUntil(ts) };
    },
    flush(nowMs) {
      if (typeof nowMs !== 'number' || Number.isNaN(nowMs)) {
        throw new VisionInputError('nowMs', `must be a number of ms since the epoch, got ${String(nowMs)}`);
      }
      return aggregator.closeUntil(nowMs);
    },
    snapshot: () => aggregator.snapshot(),
    get tracksAlive() {
      return views.filter((t) => t.state === 'confirmed').length;
    },
    get tracks() {
      return views.map((t): TrackSnapshot => {
        const a = aux.get(t.id);
        return {
          id: String(t.id),
          state: t.state,
          class: t.class,
          box: t.box,
          bottomCentre: bottomCentre(t.box),
          detectionIndex: t.detectionIndex,
          hits: t.hits,
          ageFrames: t.ageFrames,
          framesSinceUpdate: t.framesSinceUpdate,
          ground: a?.ground ?? null,
          speedKmh: a?.speedKmh ?? null,
          zones: [...(a?.dwell ?? new Map<string, number>())].map(([zoneId, since]) => ({
            zoneId,
            enteredAtMs: since,
            dwellMs: (lastTs ?? since) - since,
          })),
        };
      });
    },
  };
}

const CLASSES = new Set<string>(VEHICLE_CLASSES);

/** Reject frames the pipeline cannot make sense of, naming the first bad field. */
function checkFrame(f: FrameDetections, lastTs: number | null): void {
  if (typeof f?.tsMs !== 'number' || !Number.isFinite(f.tsMs)) {
    throw new VisionInputError(
      'frame.tsMs',
      `must be a finite number of ms since the epoch, got ${String(f?.tsMs)}`,
    );
  }
  if (lastTs !== null && f.tsMs <= lastTs) {
    throw new VisionInputError(
      'frame.tsMs',
      `must increase from frame to frame: ${f.tsMs} follows ${lastTs}`,
    );
  }
  if (!Array.isArray(f.detections)) throw new VisionInputError('frame.detections', 'must be an array');
  f.detections.forEach((d, i) => {
    const path = `frame.detections[${i}]`;
    if (!CLASSES.has(d.class))
      throw new VisionInputError(`${path}.class`, `must be one of ${VEHICLE_CLASSES.join(', ')}`);
    if (!(d.score >= 0 && d.score <= 1))
      throw new VisionInputError(`${path}.score`, `must be within 0..1, got ${d.score}`);
    for (const k of ['x', 'y', 'w', 'h'] as const) {
      if (!Number.isFinite(d.box?.[k]))
        throw new VisionInputError(`${path}.box.${k}`, 'must be a finite number');
    }
  });
}
