/**
 * Ground speed of a track from its bottom-centre point mapped through the calibration homography.
 *
 * Speed is the weighted least-squares slope of ground x(t) and y(t) over a sliding window of the
 * track's recent observations, each weighted by the inverse square of its expected ground error. A slope fitted over a second or more of samples averages out the per-frame
 * jitter of the box's lower edge, which far from the camera is worth metres on the ground; a plain
 * frame-to-frame difference would be useless there.
 */
import type { Box, Point } from './geometry.js';
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
  /**
   * Expected ground error of this sample (m, relative units are enough): how far the ground point
   * moves when the box's lower edge moves by a fixed fraction of the box height. Far from the camera
   * one image pixel is metres of road, so far samples get less weight in the fit.
   */
  sigma: number;
  /** Set by addGroundSample: samples separated by a gap belong to different segments. */
  segment?: number;
}

export interface SpeedTrack {
  samples: GroundSample[];
}

/** Map an image point to the ground, or null when it is at or beyond the horizon. */
export function projectToGround(H: Homography, p: Point): Point | null {
  const g = applyHomography(H, p);
  return g !== null && Number.isFinite(g.x) && Number.isFinite(g.y) ? g : null;
}

/**
 * Append a sample and drop the ones that fell out of the window. Returns a new sample list.
 * A sample after a gap (more than 2.5 times the window's typical frame interval: the track coasted
 * through an occlusion) opens a new segment, see estimateSpeedKmh.
 */
export function addGroundSample(track: SpeedTrack, sample: GroundSample, options: SpeedOptions): SpeedTrack {
  const cutoff = sample.tMs - options.speedWindowMs;
  const kept = track.samples.filter((s) => s.tMs >= cutoff);
  const last = kept[kept.length - 1];
  if (!last) return { samples: [{ ...sample, segment: 0 }] };
  const typical = kept.length >= 2 ? (last.tMs - kept[0]!.tMs) / (kept.length - 1) : Infinity;
  const segment = (last.segment ?? 0) + (sample.tMs - last.tMs > 2.5 * typical ? 1 : 0);
  return { samples: [...kept, { ...sample, segment }] };
}

/**
 * Speed in km/h over the window, or null when there is too little evidence (few samples, short span)
 * or the value is physically impossible (above maxSpeedKmh: a track that jumped to another vehicle).
 *
 * When the window spans a gap and the motion after it, once there is enough of it, disagrees with
 * the motion before it (velocity vectors apart by more than three standard errors of the two fits
 * plus 30 % of the speed plus 1 m/s), only the part after the gap
 * is used: the track coasted through the gap and was re-found on a different vehicle, and mixing the
 * two motions would give a meaningless speed. Consistent segments are fitted together, which keeps
 * the full window's precision across ordinary occlusion gaps.
 */
export function estimateSpeedKmh(track: SpeedTrack, options: SpeedOptions): number | null {
  const v = estimateGroundVelocity(track, options);
  if (v === null) return null;
  const kmh = Math.hypot(v.vx, v.vy) * 3.6;
  return kmh <= options.maxSpeedKmh ? kmh : null;
}

/** The ground velocity (m/s) behind estimateSpeedKmh, or null when there is too little evidence. */
export function estimateGroundVelocity(
  track: SpeedTrack,
  options: SpeedOptions,
): { vx: number; vy: number } | null {
  const all = track.samples;
  const lastSegment = all[all.length - 1]?.segment ?? 0;
  const latest = all.filter((s) => (s.segment ?? 0) === lastSegment);
  const earlier = all.filter((s) => (s.segment ?? 0) !== lastSegment);
  const v = fitVelocity(all, options);
  const vLatest = earlier.length > 0 ? fitVelocity(latest, options) : null;
  const vEarlier = vLatest ? fitVelocity(earlier, options) : null;
  if (vLatest && vEarlier) {
    const diff = Math.hypot(vLatest.vx - vEarlier.vx, vLatest.vy - vEarlier.vy);
    const scale = Math.max(Math.hypot(vLatest.vx, vLatest.vy), Math.hypot(vEarlier.vx, vEarlier.vy));
    // Apart by far more than both fits' uncertainty and a generous share of the speed itself.
    if (diff > 3 * Math.hypot(vLatest.se, vEarlier.se) + 0.3 * scale + 1)
      return { vx: vLatest.vx, vy: vLatest.vy };
  }
  return v === null ? null : { vx: v.vx, vy: v.vy };
}

/**
 * Fitted ground velocity (m/s) of the samples with its standard error (from the fit's residuals),
 * or null when there are too few samples or they span too little time.
 */
function fitVelocity(
  s: readonly GroundSample[],
  options: SpeedOptions,
): { vx: number; vy: number; se: number } | null {
  if (s.length < options.speedMinSamples) return null;
  if (s[s.length - 1]!.tMs - s[0]!.tMs < options.speedMinSpanMs) return null;
  const t = s.map((p) => p.tMs / 1000);
  const w = s.map((p) => 1 / Math.max(p.sigma, 1e-6) ** 2);
  const x = fitLine(
    t,
    s.map((p) => p.x),
    w,
  );
  const y = fitLine(
    t,
    s.map((p) => p.y),
    w,
  );
  return { vx: x.slope, vy: y.slope, se: Math.hypot(x.se, y.se) };
}

/** Weighted least-squares line with the standard error of its slope. */
function fitLine(
  t: readonly number[],
  y: readonly number[],
  w: readonly number[],
): { slope: number; se: number } {
  const n = t.length;
  const slope = fitSlope(t, y, w);
  let sw = 0;
  let st = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sw += w[i]!;
    st += w[i]! * t[i]!;
    sy += w[i]! * y[i]!;
  }
  const tm = st / sw;
  const ym = sy / sw;
  let rss = 0;
  let stt = 0;
  for (let i = 0; i < n; i++) {
    const r = y[i]! - (ym + slope * (t[i]! - tm));
    rss += w[i]! * r * r;
    stt += w[i]! * (t[i]! - tm) ** 2;
  }
  const se = n > 2 && stt > 0 ? Math.sqrt(rss / (n - 2) / stt) : Infinity;
  return { slope, se };
}

/**
 * Weighted least-squares slope of y on t (weights default to 1). Times are centred on their weighted
 * mean first for numerical stability.
 */
export function fitSlope(t: readonly number[], y: readonly number[], w?: readonly number[]): number {
  const n = t.length;
  const wt = (i: number) => (w ? w[i]! : 1);
  let sw = 0;
  let st = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sw += wt(i);
    st += wt(i) * t[i]!;
    sy += wt(i) * y[i]!;
  }
  const tm = st / sw;
  const ym = sy / sw;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += wt(i) * (t[i]! - tm) * (y[i]! - ym);
    den += wt(i) * (t[i]! - tm) ** 2;
  }
  return den > 0 ? num / den : 0;
}

/**
 * The ground point of a box's bottom-centre and its expected error: the ground distance between the
 * bottom-centre and the same point moved down by 5 % of the box height (detector jitter scales with
 * the box). Null when the point is at or beyond the horizon.
 */
export function projectBoxToGround(H: Homography, box: Box): { point: Point; sigma: number } | null {
  const p = { x: box.x + box.w / 2, y: box.y + box.h };
  const g = projectToGround(H, p);
  const g2 = projectToGround(H, { x: p.x, y: p.y + 0.05 * box.h });
  if (g === null || g2 === null) return null;
  return { point: g, sigma: Math.hypot(g2.x - g.x, g2.y - g.y) };
}
