/**
 * Ground speed of a track from its bottom-centre point mapped through the calibration homography.
 *
 * Speed is the least-squares slope of ground x(t) and y(t) over a sliding window of the track's
 * recent observations. A slope fitted over a second or more of samples averages out the per-frame
 * jitter of the box's lower edge, which far from the camera is worth metres on the ground; a plain
 * frame-to-frame difference would be useless there.
 */
import type { Point } from './geometry.js';
import { applyHomography, type Homography } from './homography.js';

export interface SpeedOptions {
  speedWindowMs: number;
  speedMinSamples: number;
  speedMinSpanMs: number;
  maxSpeedKmh: number;
}

export interface GroundSample {
  tMs: number;
  x: number;
  y: number;
}

export interface SpeedTrack {
  samples: GroundSample[];
}

/** Map an image point to the ground, or null when it is at or beyond the horizon. */
export function projectToGround(H: Homography, p: Point): Point | null {
  const g = applyHomography(H, p);
  return g !== null && Number.isFinite(g.x) && Number.isFinite(g.y) ? g : null;
}

/** Append a sample and drop the ones that fell out of the window. Returns a new sample list. */
export function addGroundSample(track: SpeedTrack, sample: GroundSample, options: SpeedOptions): SpeedTrack {
  const cutoff = sample.tMs - options.speedWindowMs;
  return { samples: [...track.samples.filter((s) => s.tMs >= cutoff), sample] };
}

/**
 * Speed in km/h over the window, or null when there is too little evidence (few samples, short span)
 * or the value is physically impossible (above maxSpeedKmh: a track that jumped to another vehicle).
 */
export function estimateSpeedKmh(track: SpeedTrack, options: SpeedOptions): number | null {
  const s = track.samples;
  if (s.length < options.speedMinSamples) return null;
  const span = s[s.length - 1]!.tMs - s[0]!.tMs;
  if (span < options.speedMinSpanMs) return null;
  const vx = fitSlope(s.map((p) => p.tMs / 1000), s.map((p) => p.x));
  const vy = fitSlope(s.map((p) => p.tMs / 1000), s.map((p) => p.y));
  const kmh = Math.hypot(vx, vy) * 3.6;
  return kmh <= options.maxSpeedKmh ? kmh : null;
}

/** Ordinary least-squares slope of y on t. Times are centred first for numerical stability. */
export function fitSlope(t: readonly number[], y: readonly number[]): number {
  const n = t.length;
  const tm = t.reduce((a, b) => a + b, 0) / n;
  const ym = y.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (t[i]! - tm) * (y[i]! - ym);
    den += (t[i]! - tm) ** 2;
  }
  return den > 0 ? num / den : 0;
}
