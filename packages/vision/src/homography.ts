/**
 * Planar homography between normalised image coordinates and ground metres, solved by the direct
 * linear transform from exactly four correspondences (h33 fixed to 1 → an 8×8 linear system).
 */
import type { SpeedCalibration } from '@its/contracts';
import { CalibrationError } from './errors.js';
import type { Point } from './geometry.js';

/** Row-major 3×3 matrix [h11, h12, h13, h21, h22, h23, h31, h32, h33]. */
export type Homography = readonly number[];

/**
 * The homography mapping each `from[i]` to `to[i]`. Throws CalibrationError, naming `path`, when
 * three of the points on either side are collinear (no unique projective map exists).
 */
export function solveHomography(
  from: readonly Point[],
  to: readonly Point[],
  path = 'calibration',
): Homography {
  if (from.length !== 4 || to.length !== 4) {
    throw new CalibrationError(path, 'needs exactly 4 image points and 4 ground points');
  }
  assertNoThreeCollinear(from, `${path}.imagePoints`);
  assertNoThreeCollinear(to, `${path}.groundPoints`);
  const A: number[][] = [];
  const rhs: number[] = [];
  for (let i = 0; i < 4; i++) {
    const { x, y } = from[i]!;
    const { x: X, y: Y } = to[i]!;
    A.push([x, y, 1, 0, 0, 0, -x * X, -y * X]);
    rhs.push(X);
    A.push([0, 0, 0, x, y, 1, -x * Y, -y * Y]);
    rhs.push(Y);
  }
  const h = solveLinearSystem(A, rhs);
  if (h === null)
    throw new CalibrationError(path, 'the points do not define a homography (degenerate layout)');
  return [...h, 1];
}

/** Apply H to a point; null when the point maps to infinity (on or beyond the horizon). */
export function applyHomography(H: Homography, p: Point): Point | null {
  const w = H[6]! * p.x + H[7]! * p.y + H[8]!;
  if (Math.abs(w) < 1e-12) return null;
  return { x: (H[0]! * p.x + H[1]! * p.y + H[2]!) / w, y: (H[3]! * p.x + H[4]! * p.y + H[5]!) / w };
}

export interface CalibrationMaps {
  imageToGround: Homography;
  groundToImage: Homography;
}

export function solveCalibration(c: SpeedCalibration, path = 'calibration'): CalibrationMaps {
  return {
    imageToGround: solveHomography(c.imagePoints, c.groundPoints, path),
    groundToImage: solveHomography(c.groundPoints, c.imagePoints, path),
  };
}

/**
 * Gaussian elimination with partial pivoting. Returns null for a (numerically) singular matrix.
 * The relative pivot test makes the answer independent of the units of the ground points.
 */
export function solveLinearSystem(A: readonly (readonly number[])[], b: readonly number[]): number[] | null {
  const n = A.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  const scale = Math.max(1e-300, ...M.flatMap((r) => r.slice(0, n).map(Math.abs)));
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(M[r]![col]!) > Math.abs(M[pivot]![col]!)) pivot = r;
    if (Math.abs(M[pivot]![col]!) < 1e-10 * scale) return null;
    [M[col], M[pivot]] = [M[pivot]!, M[col]!];
    const pr = M[col]!;
    for (let r = col + 1; r < n; r++) {
      const row = M[r]!;
      const f = row[col]! / pr[col]!;
      if (f === 0) continue;
      for (let c = col; c <= n; c++) row[c] = row[c]! - f * pr[c]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    const row = M[r]!;
    let s = row[n]!;
    for (let c = r + 1; c < n; c++) s -= row[c]! * x[c]!;
    x[r] = s / row[r]!;
  }
  return x;
}

function assertNoThreeCollinear(points: readonly Point[], path: string): void {
  const span = Math.max(
    1e-300,
    ...points.flatMap((p) => points.map((q) => Math.hypot(p.x - q.x, p.y - q.y))),
  );
  for (let i = 0; i < 4; i++) {
    for (let j = i + 1; j < 4; j++) {
      for (let k = j + 1; k < 4; k++) {
        const a = points[i]!;
        const b = points[j]!;
        const c = points[k]!;
        const cross = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
        if (Math.abs(cross) < 1e-9 * span * span) {
          throw new CalibrationError(
            path,
            `points ${i}, ${j} and ${k} are collinear; use four corners of a quadrilateral`,
          );
        }
      }
    }
  }
}
