/**
 * ByteTrack-style multi-object tracker (Zhang et al., 2022) on a SORT Kalman motion model.
 *
 * Per frame:
 *  1. every track is predicted forward by the real time since the previous frame;
 *  2. high-score detections are matched to confirmed tracks, tracked or lost, by IoU (optimal
 *     assignment, Hungarian);
 *  3. low-score detections — typically the same vehicles, half occluded or blurred — are matched to
 *     the confirmed tracks still unmatched, by a stricter IoU; this is what keeps a track alive through
 *     partial occlusion without letting low-score noise start tracks. Unlike the paper, lost tracks
 *     take part too: a vehicle that was missed once and then stays half hidden behind a nearer one
 *     only ever yields low-score boxes, and the paper's rule would lose it for good;
 *  4. tentative tracks are matched to the remaining high-score detections;
 *     Lost tracks are compared by buffered IoU (see expandBox), growing with the frames missed,
 *     and at the position `predictLost` gives when one is supplied;
 *  5. unmatched tentative tracks die after `tentativeMaxMisses` missed frames (ByteTrack: at once;
 *     a vehicle entering the frame close to the camera moves fast and flickers, and killing its
 *     tentative track on every miss delays confirmation until it has nearly reached the count line),
 *     unmatched confirmed tracks become lost and are kept for `maxAge` frames so that a vehicle
 *     hidden for a moment gets its old id back — unless their predicted box has left the image
 *     (less than half of it inside), which means the vehicle drove out of view;
 *  6. remaining detections scoring at least `newTrackScore` start tentative tracks, confirmed after
 *     `minHits` matches.
 * Track ids are consecutive integers from 1, in order of birth, so a replay gives the same ids.
 */
import { VEHICLE_CLASSES, type VehicleClass } from '@its/contracts';
import { iou, type Box } from './geometry.js';
import { assignWithGate } from './hungarian.js';
import { createBoxKalman, type BoxKalman, type KalmanNoise } from './kalman.js';
import type { AnalyticsOptions } from './options.js';

/** The tracker's tunables are the analytics options of the same names (documented in options.ts). */
export type TrackerTunables = Pick<
  AnalyticsOptions,
  | 'highScore'
  | 'lowScore'
  | 'newTrackScore'
  | 'matchIou'
  | 'lowMatchIou'
  | 'tentativeMatchIou'
  | 'minHits'
  | 'maxAge'
  | 'tentativeMaxMisses'
  | 'lostBufferPerFrame'
  | 'maxLostBuffer'
  | 'maxHeightRatio'
>;

export interface TrackerOptions extends TrackerTunables {
  /**
   * Optional better guess of where a lost track is now, from outside the image plane (the camera
   * analytics move it along the ground at its measured ground velocity). Null: use the Kalman box.
   */
  predictLost?: (trackId: number, lastMeasured: Box, lostForMs: number) => Box | null;
  /**
   * Optional veto on re-finding a lost track with a detection (the camera analytics reject ones
   * too far on the ground from where the vehicle can be after that long). Absent: all allowed.
   */
  isPlausibleLost?: (trackId: number, lastMeasured: Box, detection: Box, lostForMs: number) => boolean;
  kalman: KalmanNoise;
}

export interface TrackerDetection {
  class: VehicleClass;
  score: number;
  box: Box;
}

export type TrackState = 'tentative' | 'confirmed' | 'lost';

/** What the tracker says about one track after a frame. */
export interface TrackView {
  id: number;
  bornAtMs: number;
  state: TrackState;
  /** Kalman estimate: corrected when matched this frame, predicted otherwise. */
  box: Box;
  /** True when a detection was assigned to this track in this frame. */
  matched: boolean;
  /** The detection matched this frame, as measured (null when not matched). */
  detection: TrackerDetection | null;
  /** Its index in this frame's detection list (null when not matched). */
  detectionIndex: number | null;
  hits: number;
  framesSinceUpdate: number;
  ageFrames: number;
  /** Majority class over every detection matched so far. */
  class: VehicleClass;
}

export interface TrackerStep {
  /** Tracks alive after this frame (tentative, confirmed and lost). */
  tracks: TrackView[];
  /** Tracks that died in this frame: tentative ones that missed too often, lost ones older than maxAge. */
  removed: TrackView[];
}

export interface Tracker {
  update(detections: readonly TrackerDetection[], tsMs: number): TrackerStep;
}

interface Track {
  id: number;
  lastMeasured: Box;
  lastMeasuredMs: number;
  bornAtMs: number;
  kalman: BoxKalman;
  state: TrackState;
  hits: number;
  framesSinceUpdate: number;
  ageFrames: number;
  votes: Map<VehicleClass, { count: number; scoreSum: number }>;
  detection: TrackerDetection | null;
  detectionIndex: number | null;
}

export function createTracker(options: TrackerOptions): Tracker {
  let tracks: Track[] = [];
  let nextId = 1;
  let lastTs: number | null = null;
  let nowMs = 0;

  const view = (t: Track): TrackView => ({
    id: t.id,
    bornAtMs: t.bornAtMs,
    state: t.state,
    box: t.kalman.box(),
    matched: t.detection !== null,
    detection: t.detection,
    detectionIndex: t.detectionIndex,
    hits: t.hits,
    framesSinceUpdate: t.framesSinceUpdate,
    ageFrames: t.ageFrames,
    class: pickMajorityClass(t.votes),
  });

  const associate = (pool: Track[], dets: TrackerDetection[], minIou: number) => {
    if (pool.length === 0 || dets.length === 0) {
      return { matches: [] as Array<[Track, TrackerDetection]>, restTracks: pool, restDets: dets };
    }
    const cost = pool.map((t) => {
      const buffer = Math.min(options.maxLostBuffer, options.lostBufferPerFrame * t.framesSinceUpdate);
      const predicted =
        (t.framesSinceUpdate > 0 && options.predictLost?.(t.id, t.lastMeasured, nowMs - t.lastMeasuredMs)) ||
        t.kalman.box();
      return dets.map((d) => {
        // A box a lot taller or shorter than the track's is another vehicle, even when it overlaps
        // enough: typically a far vehicle seen through or beside a near one.
        const ratio = Math.max(d.box.h, predicted.h) / Math.max(1e-9, Math.min(d.box.h, predicted.h));
        if (ratio > options.maxHeightRatio) return Infinity;
        const lostFor = nowMs - t.lastMeasuredMs;
        if (
          t.framesSinceUpdate > 0 &&
          options.isPlausibleLost?.(t.id, t.lastMeasured, d.box, lostFor) === false
        ) {
          return Infinity;
        }
        return buffer > 0
          ? 1 - iou(expandBox(predicted, buffer), expandBox(d.box, buffer))
          : 1 - iou(predicted, d.box);
      });
    });
    const { matches, unmatchedRows, unmatchedCols } = assignWithGate(cost, 1 - minIou);
    return {
      matches: matches.map((m) => [pool[m.row]!, dets[m.col]!] as [Track, TrackerDetection]),
      restTracks: unmatchedRows.map((r) => pool[r]!),
      restDets: unmatchedCols.map((c) => dets[c]!),
    };
  };

  let indexOf = new Map<TrackerDetection, number>();
  const applyMatch = (t: Track, d: TrackerDetection) => {
    t.kalman.update(d.box);
    t.lastMeasured = d.box;
    t.lastMeasuredMs = nowMs;
    t.detection = d;
    t.detectionIndex = indexOf.get(d) ?? null;
    t.hits += 1;
    t.framesSinceUpdate = 0;
    const v = t.votes.get(d.class) ?? { count: 0, scoreSum: 0 };
    v.count += 1;
    v.scoreSum += d.score;
    t.votes.set(d.class, v);
    if (t.state === 'lost' || (t.state === 'tentative' && t.hits >= options.minHits)) t.state = 'confirmed';
  };

  return {
    update(detections, tsMs) {
      const dt = lastTs === null ? 0 : Math.max(0, (tsMs - lastTs) / 1000);
      lastTs = tsMs;
      nowMs = tsMs;
      indexOf = new Map(detections.map((d, i) => [d, i]));
      for (const t of tracks) {
        t.kalman.predict(dt);
        t.detection = null;
        t.detectionIndex = null;
        t.ageFrames += 1;
      }
      const usable = detections.filter((d) => d.score >= options.lowScore && d.box.w > 0 && d.box.h > 0);
      const high = usable.filter((d) => d.score >= options.highScore);
      const low = usable.filter((d) => d.score < options.highScore);

      const confirmedPool = tracks.filter((t) => t.state !== 'tentative');
      const first = associate(confirmedPool, high, options.matchIou);
      first.matches.forEach(([t, d]) => applyMatch(t, d));

      const second = associate(first.restTracks, low, options.lowMatchIou);
      second.matches.forEach(([t, d]) => applyMatch(t, d));

      const tentative = tracks.filter((t) => t.state === 'tentative');
      const third = associate(tentative, first.restDets, options.tentativeMatchIou);
      third.matches.forEach(([t, d]) => applyMatch(t, d));

      const removed: Track[] = [];
      const survivors: Track[] = [];
      for (const t of tracks) {
        if (t.detection !== null) {
          survivors.push(t);
          continue;
        }
        t.framesSinceUpdate += 1;
        const limit = t.state === 'tentative' ? options.tentativeMaxMisses : options.maxAge;
        // A vehicle that drove out of the picture is gone: coasting on beyond the border would only
        // let its track grab the next vehicle entering there.
        if (t.framesSinceUpdate > limit || visibleFraction(t.kalman.box()) < 0.5) {
          removed.push(t);
        } else {
          if (t.state === 'confirmed') t.state = 'lost';
          survivors.push(t);
        }
      }
      for (const d of third.restDets) {
        if (d.score < options.newTrackScore) continue;
        const t: Track = {
          id: nextId++,
          bornAtMs: tsMs,
          lastMeasured: d.box,
          lastMeasuredMs: tsMs,
          kalman: createBoxKalman(d.box, options.kalman),
          state: 'tentative',
          hits: 0,
          framesSinceUpdate: 0,
          ageFrames: 1,
          votes: new Map(),
          detection: null,
          detectionIndex: null,
        };
        applyMatch(t, d);
        // applyMatch ran the Kalman update on a box equal to the initial state: harmless, and it keeps
        // one code path for votes and hit counting.
        survivors.push(t);
      }
      tracks = survivors;
      return { tracks: tracks.map(view), removed: removed.map(view) };
    },
  };
}

/** How much of the box lies inside the image (0..1). */
export function visibleFraction(b: Box): number {
  const ix = Math.min(1, b.x + b.w) - Math.max(0, b.x);
  const iy = Math.min(1, b.y + b.h) - Math.max(0, b.y);
  const area = b.w * b.h;
  return ix > 0 && iy > 0 && area > 0 ? (ix * iy) / area : 0;
}

/**
 * The box grown by `buffer` × its size on every side (C-BIoU, Yang et al. 2023). A lost track's
 * prediction drifts — perspective makes image motion non-uniform — and buffering both boxes lets it
 * still meet its vehicle's next detection.
 */
export function expandBox(b: Box, buffer: number): Box {
  return {
    x: b.x - buffer * b.w,
    y: b.y - buffer * b.h,
    w: b.w * (1 + 2 * buffer),
    h: b.h * (1 + 2 * buffer),
  };
}

/** Most frequent class; ties go to the higher summed score, then to the earlier class in the contract. */
export function pickMajorityClass(
  votes: ReadonlyMap<VehicleClass, { count: number; scoreSum: number }>,
): VehicleClass {
  let best: VehicleClass = 'car';
  let bestCount = -1;
  let bestScore = -1;
  for (const c of VEHICLE_CLASSES) {
    const v = votes.get(c);
    if (!v) continue;
    if (v.count > bestCount || (v.count === bestCount && v.scoreSum > bestScore)) {
      best = c;
      bestCount = v.count;
      bestScore = v.scoreSum;
    }
  }
  return best;
}
