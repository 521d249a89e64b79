/**
 * Count-line crossing with direction and anti-flicker hysteresis, one small state machine per
 * track × line.
 *
 * Conventions (see also geometry.ts):
 *  - the point followed is the track's bottom-centre (where the vehicle meets the road);
 *  - sides are taken looking from `a` towards `b` on the displayed image (y down). `forward` is a move
 *    from the LEFT side to the RIGHT side. Example: a = (0.1, 0.5), b = (0.9, 0.5) — the line runs
 *    left to right across the screen; its right side is the lower half, so `forward` is a vehicle
 *    moving down the screen (towards a camera that looks down the road) and `reverse` one moving up;
 *  - distances are in frame-height units (x scaled by the frame aspect).
 *
 * A side is only "held" once the point is more than `hysteresis` away from the line, and a change of
 * held side needs `confirmFrames` consecutive observations beyond the margin on the new side. A box
 * wobbling on the line therefore never changes the held side, and a vehicle that really crosses
 * changes it exactly once. The crossing must also happen within the segment a–b (extended by the
 * margin at both ends), so traffic passing beside a short line is not counted.
 */
import type { CountLine, CrossingDirection } from '@its/contracts';
import { lineParameterAtCrossing, signedDistanceToLine, type Point } from './geometry.js';

export interface LineCounterOptions {
  hysteresis: number;
  confirmFrames: number;
  recountCooldownMs: number;
  frameAspect: number;
}

export interface LineTrackState {
  /** Held side: -1 left, 1 right, 0 not yet known. */
  side: -1 | 0 | 1;
  candidateSide: -1 | 0 | 1;
  candidateFrames: number;
  lastPoint: Point | null;
  lastDistance: number;
  /** Where along a→b (0..1) the point last crossed the infinite line, if it has. */
  lastCrossingAt: number | null;
  counts: Record<CrossingDirection, number>;
  lastCountMs: Record<CrossingDirection, number>;
}

export function createLineTrackState(): LineTrackState {
  return {
    side: 0,
    candidateSide: 0,
    candidateFrames: 0,
    lastPoint: null,
    lastDistance: 0,
    lastCrossingAt: null,
    counts: { forward: 0, reverse: 0 },
    lastCountMs: { forward: -Infinity, reverse: -Infinity },
  };
}

export interface LineStep {
  state: LineTrackState;
  /** A counted crossing, with the number of earlier counts of the same track, line and direction. */
  crossing: { direction: CrossingDirection; countIndex: number } | null;
}

/** Feed one observed point of one track to one line. Pure: returns a new state. */
export function stepLineCounter(
  prev: LineTrackState,
  point: Point,
  tsMs: number,
  line: Pick<CountLine, 'a' | 'b' | 'direction'>,
  options: LineCounterOptions,
): LineStep {
  const s: LineTrackState = {
    ...prev,
    counts: { ...prev.counts },
    lastCountMs: { ...prev.lastCountMs },
  };
  const d = signedDistanceToLine(point, line.a, line.b, options.frameAspect);
  if (s.lastPoint !== null && Math.sign(d) !== Math.sign(s.lastDistance) && d !== 0) {
    s.lastCrossingAt = lineParameterAtCrossing(s.lastPoint, point, line.a, line.b, options.frameAspect);
  }
  s.lastPoint = point;
  s.lastDistance = d;

  const beyond: -1 | 0 | 1 = d > options.hysteresis ? 1 : d < -options.hysteresis ? -1 : 0;
  if (beyond === 0 || beyond === s.side) {
    s.candidateSide = 0;
    s.candidateFrames = 0;
    return { state: s, crossing: null };
  }
  if (s.side === 0) {
    // First time the track is clearly on one side: where it came from is unknown, so nothing counts.
    s.side = beyond;
    return { state: s, crossing: null };
  }
  s.candidateFrames = s.candidateSide === beyond ? s.candidateFrames + 1 : 1;
  s.candidateSide = beyond;
  if (s.candidateFrames < options.confirmFrames) return { state: s, crossing: null };

  s.side = beyond;
  s.candidateSide = 0;
  s.candidateFrames = 0;
  const direction: CrossingDirection = beyond === 1 ? 'forward' : 'reverse';
  const length = Math.hypot((line.b.x - line.a.x) * options.frameAspect, line.b.y - line.a.y);
  const slack = options.hysteresis / length;
  const t = s.lastCrossingAt;
  const withinSegment = t !== null && t >= -slack && t <= 1 + slack;
  const wanted = line.direction === 'both' || line.direction === direction;
  const cooledDown =
    s.counts[direction] === 0 || tsMs - s.lastCountMs[direction] >= options.recountCooldownMs;
  if (!withinSegment || !wanted || !cooledDown) return { state: s, crossing: null };
  const countIndex = s.counts[direction];
  s.counts[direction] += 1;
  s.lastCountMs[direction] = tsMs;
  return { state: s, crossing: { direction, countIndex } };
}
