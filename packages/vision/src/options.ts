/**
 * Every tunable of the analytics core, with its default and the reason for it. Values are checked
 * once, when an analytics instance is created; errors name the field.
 */
import { VisionInputError } from './errors.js';

export interface AnalyticsOptions {
  /**
   * Detections scoring at least this enter the first association pass. Default 0.5: ByteTrack's
   * split; above it detectors are mostly right, below it mostly occluded or blurred true objects.
   */
  highScore: number;
  /**
   * Detections below this are ignored entirely. Default 0.1: ByteTrack's floor; lower scores are
   * background noise that even the second pass would mis-assign.
   */
  lowScore: number;
  /**
   * Minimum score to start a new track. Default 0.6: a little above highScore so that one-frame false
   * positives rarely start tracks at all (they still need minHits to be confirmed).
   */
  newTrackScore: number;
  /**
   * Minimum IoU between a predicted track box and a high-score detection. Default 0.2 (ByteTrack's
   * 0.8 cost): vehicles move several box-widths per second; the Kalman prediction keeps IoU high for
   * tracked vehicles, and a low gate lets a track recover after an occlusion gap.
   */
  matchIou: number;
  /**
   * Minimum IoU in the low-score pass. Default 0.5 (ByteTrack): low-score boxes are only trusted when
   * they sit squarely on an existing track.
   */
  lowMatchIou: number;
  /** Minimum IoU to extend a tentative track. Default 0.3 (ByteTrack's 0.7 cost). */
  tentativeMatchIou: number;
  /**
   * Matches needed before a track is confirmed (and may count, occupy zones, get a speed).
   * Default 3: kills one- and two-frame false positives; crossings seen while tentative are held and
   * emitted at confirmation, so nothing is lost by waiting.
   */
  minHits: number;
  /**
   * Frames a confirmed track survives without a match before it is removed. Default 30 (ByteTrack's
   * buffer): about 1–3 s at 10–30 fps, long enough to bridge a vehicle hidden behind a bus.
   */
  maxAge: number;
  /**
   * Frames a tentative track may go unmatched before it is dropped. Default 2: ByteTrack drops it at
   * once, but with a flickering detector a vehicle entering close to the camera then keeps restarting
   * its track and is only confirmed (and gets a speed) shortly before the count line.
   */
  tentativeMaxMisses: number;
  /**
   * Buffered-IoU growth for lost tracks, fraction of the box size per missed frame. Default 0.1: a
   * track coasting on its Kalman prediction drifts from its vehicle (perspective makes image motion
   * non-uniform); growing both boxes lets it find the vehicle again after an occlusion gap.
   */
  lostBufferPerFrame: number;
  /** Cap of that buffer. Default 0.5: beyond it a lost track would grab neighbours in dense traffic. */
  maxLostBuffer: number;
  /**
   * Largest height ratio between a track's predicted box and a detection it may match. Default 2:
   * a vehicle's box changes height by a few per cent a frame; a box half the size overlapping a
   * track is usually a far vehicle seen beside a near one, and matching it collapses the track.
   */
  maxHeightRatio: number;
  /** Kalman measurement noise, fraction of the box size. Default 0.05 (DeepSORT's 1/20). */
  kalmanMeasurementNoise: number;
  /**
   * Kalman random acceleration, box sizes per second². Default 4: perspective makes a vehicle
   * approaching the camera accelerate in the image even at constant ground speed.
   */
  kalmanAccelerationNoise: number;
  /** Kalman initial velocity uncertainty, box sizes per second. Default 5: a car moves a few box lengths a second. */
  kalmanInitialVelocityNoise: number;
  /**
   * Count-line hysteresis margin in frame-height units (x scaled by the frame aspect). Default 0.015:
   * about 16 px at 1080p, wider than the lower-edge jitter of a detector box on a still vehicle, and
   * small against any real crossing.
   */
  hysteresis: number;
  /**
   * Consecutive observations beyond the margin on the new side before a crossing counts. Default 2:
   * one outlying box does not count; a real crossing loses one frame of latency.
   */
  confirmFrames: number;
  /**
   * Time after which the same track may count again on the same line in the same direction.
   * Default Infinity: a track counts at most once per line and direction — a vehicle crosses a line
   * once; re-counts come from wobble or id confusion. Set it for roundabout-like scenes.
   */
  recountCooldownMs: number;
  /**
   * Frames a lost (unmatched) confirmed track still occupies its zones. Default 3: a missed detection
   * on a queued car must not read as a free lane.
   */
  zoneCoastFrames: number;
  /**
   * Speed window: ground positions of the last this-many ms are fitted by least squares. Default
   * 2500: the error of a fitted slope falls with the window's length to the power 1.5, and box
   * jitter is worth metres far from the camera; 2.5 s still follows a vehicle braking for a queue.
   * (Measured on the noisy synthetic scenes: 1.5 s left 1 vehicle in 200 beyond ±10 %, 2.5 s none.)
   */
  speedWindowMs: number;
  /** Minimum samples in the window before a speed is reported. Default 5. */
  speedMinSamples: number;
  /** Minimum time spanned by the window's samples. Default 400 ms: shorter spans amplify jitter. */
  speedMinSpanMs: number;
  /**
   * Time span of ground samples a speed must rest on before a crossing is emitted with it. Default
   * 1000 ms: a track born or re-found just before the line (after a long occlusion) would otherwise
   * report a speed fitted over a few hundred milliseconds of jitter.
   */
  speedSettleMs: number;
  /**
   * How long a counted crossing may wait for a settled speed before it is emitted with whatever speed
   * its track has (possibly none). Default 1500 ms: a second and a half of latency on a crossing
   * event costs nothing downstream (aggregates close a minute at a time).
   */
  speedWaitMs: number;
  /**
   * Speeds above this (km/h) are rejected as impossible — usually a track that jumped between two
   * vehicles. Default 250.
   */
  maxSpeedKmh: number;
  /**
   * Longest time between two frames credited to occupancy observation. Default 2000 ms: beyond it the
   * stream stalled and the road state is unknown.
   */
  maxFrameGapMs: number;
}

export const DEFAULT_ANALYTICS_OPTIONS: Readonly<AnalyticsOptions> = Object.freeze({
  highScore: 0.5,
  lowScore: 0.1,
  newTrackScore: 0.6,
  matchIou: 0.2,
  lowMatchIou: 0.5,
  tentativeMatchIou: 0.3,
  minHits: 3,
  maxAge: 30,
  tentativeMaxMisses: 2,
  lostBufferPerFrame: 0.1,
  maxLostBuffer: 0.5,
  maxHeightRatio: 2,
  kalmanMeasurementNoise: 0.05,
  kalmanAccelerationNoise: 4,
  kalmanInitialVelocityNoise: 5,
  hysteresis: 0.015,
  confirmFrames: 2,
  recountCooldownMs: Infinity,
  zoneCoastFrames: 3,
  speedWindowMs: 2500,
  speedMinSamples: 5,
  speedMinSpanMs: 400,
  speedSettleMs: 1000,
  speedWaitMs: 1500,
  maxSpeedKmh: 250,
  maxFrameGapMs: 2000,
});

type Rule = { min: number; max: number; integer?: boolean; minExclusive?: boolean };

const RULES: Record<keyof AnalyticsOptions, Rule> = {
  highScore: { min: 0, max: 1 },
  lowScore: { min: 0, max: 1 },
  newTrackScore: { min: 0, max: 1 },
  matchIou: { min: 0, max: 1, minExclusive: true },
  lowMatchIou: { min: 0, max: 1, minExclusive: true },
  tentativeMatchIou: { min: 0, max: 1, minExclusive: true },
  minHits: { min: 1, max: 1000, integer: true },
  maxAge: { min: 0, max: 100_000, integer: true },
  tentativeMaxMisses: { min: 0, max: 100_000, integer: true },
  lostBufferPerFrame: { min: 0, max: 10 },
  maxLostBuffer: { min: 0, max: 10 },
  maxHeightRatio: { min: 1, max: 1000 },
  kalmanMeasurementNoise: { min: 0, max: 10, minExclusive: true },
  kalmanAccelerationNoise: { min: 0, max: 1000 },
  kalmanInitialVelocityNoise: { min: 0, max: 1000, minExclusive: true },
  hysteresis: { min: 0, max: 0.5 },
  confirmFrames: { min: 1, max: 1000, integer: true },
  recountCooldownMs: { min: 0, max: Infinity },
  zoneCoastFrames: { min: 0, max: 100_000, integer: true },
  speedWindowMs: { min: 0, max: 600_000, minExclusive: true },
  speedMinSamples: { min: 2, max: 100_000, integer: true },
  speedMinSpanMs: { min: 0, max: 600_000 },
  speedSettleMs: { min: 0, max: 600_000 },
  speedWaitMs: { min: 0, max: 600_000 },
  maxSpeedKmh: { min: 0, max: 400, minExclusive: true },
  maxFrameGapMs: { min: 0, max: 3_600_000 },
};

/**
 * Defaults overlaid with `partial`, checked field by field. Every problem is reported together, each
 * starting with its field path (`options.highScore: ...`).
 */
export function resolveAnalyticsOptions(partial: Partial<AnalyticsOptions> = {}): AnalyticsOptions {
  const merged: AnalyticsOptions = { ...DEFAULT_ANALYTICS_OPTIONS, ...partial };
  const problems: Array<{ path: string; message: string }> = [];
  for (const key of Object.keys(partial)) {
    if (!(key in RULES)) problems.push({ path: `options.${key}`, message: 'unknown option' });
  }
  for (const [key, rule] of Object.entries(RULES) as Array<[keyof AnalyticsOptions, Rule]>) {
    const v = merged[key];
    const bound = `${rule.minExclusive ? '>' : '≥'} ${rule.min} and ≤ ${rule.max}`;
    if (typeof v !== 'number' || Number.isNaN(v))
      problems.push({ path: `options.${key}`, message: 'must be a number' });
    else if ((rule.minExclusive ? v <= rule.min : v < rule.min) || v > rule.max)
      problems.push({ path: `options.${key}`, message: `must be ${bound}, got ${v}` });
    else if (rule.integer && !Number.isInteger(v))
      problems.push({ path: `options.${key}`, message: `must be a whole number, got ${v}` });
  }
  if (merged.lowScore > merged.highScore)
    problems.push({ path: 'options.lowScore', message: `must not exceed highScore (${merged.highScore})` });
  const [first, ...rest] = problems;
  if (first) throw new VisionInputError(first.path, first.message, rest);
  return merged;
}
