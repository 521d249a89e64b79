/**
 * Plane geometry in normalised image coordinates (0..1 on both axes, origin top-left, y down).
 *
 * Distances that are compared with thresholds (line hysteresis) are measured in "frame-height units":
 * x is first multiplied by the frame aspect (width / height) so that one unit is the same number of
 * pixels on both axes. Ratios such as IoU and inside/outside tests do not depend on the aspect.
 */

export interface Point {
  x: number;
  y: number;
}

/** Axis-aligned box: top-left corner and size, normalised. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export function areaOfBox(b: Box): number {
  return Math.max(0, b.w) * Math.max(0, b.h);
}

/** Intersection over union; 0 for disjoint or degenerate boxes. */
export function iou(a: Box, b: Box): number {
  const ix = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const iy = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  if (ix <= 0 || iy <= 0) return 0;
  const inter = ix * iy;
  const union = areaOfBox(a) + areaOfBox(b) - inter;
  return union > 0 ? inter / union : 0;
}

/** The point where a vehicle touches the road: the middle of the box's lower edge. */
export function bottomCentre(b: Box): Point {
  return { x: b.x + b.w / 2, y: b.y + b.h };
}

/**
 * Signed distance of `p` from the infinite line through a→b, in frame-height units.
 * Positive means the RIGHT side when looking from a towards b on the displayed image (y down):
 * for a=(0,0.5), b=(1,0.5) the right side is the lower half of the frame.
 */
export function signedDistanceToLine(p: Point, a: Point, b: Point, aspect = 1): number {
  const dx = (b.x - a.x) * aspect;
  const dy = b.y - a.y;
  const len = Math.hypot(dx, dy);
  if (len === 0) return 0;
  return (dx * (p.y - a.y) - dy * (p.x - a.x) * aspect) / len;
}

/**
 * Where along a→b (0 at a, 1 at b) the segment p→q meets the line through a and b, or null when p→q
 * runs parallel to it. Uses the same aspect as the distance so the answer is a true fraction.
 */
export function lineParameterAtCrossing(p: Point, q: Point, a: Point, b: Point, aspect = 1): number | null {
  const dp = signedDistanceToLine(p, a, b, aspect);
  const dq = signedDistanceToLine(q, a, b, aspect);
  if (dp === dq) return null;
  const s = dp / (dp - dq);
  const x = p.x + (q.x - p.x) * s;
  const y = p.y + (q.y - p.y) * s;
  const ax = (b.x - a.x) * aspect;
  const ay = b.y - a.y;
  return ((x - a.x) * aspect * ax + (y - a.y) * ay) / (ax * ax + ay * ay);
}

/** True when the closed segments p1p2 and q1q2 share a point (collinear overlaps included). */
export function segmentsIntersect(p1: Point, p2: Point, q1: Point, q2: Point): boolean {
  const o1 = orientation(p1, p2, q1);
  const o2 = orientation(p1, p2, q2);
  const o3 = orientation(q1, q2, p1);
  const o4 = orientation(q1, q2, p2);
  if (o1 !== o2 && o3 !== o4) return true;
  if (o1 === 0 && onSegment(p1, q1, p2)) return true;
  if (o2 === 0 && onSegment(p1, q2, p2)) return true;
  if (o3 === 0 && onSegment(q1, p1, q2)) return true;
  if (o4 === 0 && onSegment(q1, p2, q2)) return true;
  return false;
}

function orientation(a: Point, b: Point, c: Point): -1 | 0 | 1 {
  const v = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
  if (Math.abs(v) < 1e-12) return 0;
  return v > 0 ? 1 : -1;
}

function onSegment(a: Point, p: Point, b: Point): boolean {
  return (
    p.x <= Math.max(a.x, b.x) + 1e-12 &&
    p.x >= Math.min(a.x, b.x) - 1e-12 &&
    p.y <= Math.max(a.y, b.y) + 1e-12 &&
    p.y >= Math.min(a.y, b.y) - 1e-12
  );
}

/**
 * Even-odd ray casting. Points exactly on an edge may fall either way; zones are drawn by people and
 * a vehicle on the very edge is ambiguous anyway.
 */
export function isPointInPolygon(p: Point, polygon: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const a = polygon[i]!;
    const b = polygon[j]!;
    if (a.y > p.y !== b.y > p.y && p.x < ((b.x - a.x) * (p.y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
  }
  return inside;
}

/** Shoelace area (absolute), in squared normalised units. */
export function polygonArea(polygon: readonly Point[]): number {
  let s = 0;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    s += (polygon[j]!.x + polygon[i]!.x) * (polygon[j]!.y - polygon[i]!.y);
  }
  return Math.abs(s) / 2;
}
