/**
 * Constant-velocity Kalman filter for a bounding box, SORT / DeepSORT style.
 *
 * State: centre (cx, cy), aspect a = w / h, height h, and the rate of change of each, per second
 * (not per frame: frames arrive irregularly when the worker drops some under load, so the time step
 * is the real one between frames).
 *
 * With diagonal process and measurement noise and a transition matrix that only couples each
 * quantity with its own rate, the 8×8 covariance stays block-diagonal. The filter is therefore run
 * as four independent 2-state filters, which is the same maths without 8×8 matrix products.
 */
import type { Box } from './geometry.js';

export interface KalmanNoise {
  /** Measurement noise standard deviation, as a fraction of the box size on that axis. */
  measurement: number;
  /** Process noise: random acceleration standard deviation, box sizes per second². */
  acceleration: number;
  /** Initial velocity standard deviation for a new track, box sizes per second. */
  initialVelocity: number;
}

export const DEFAULT_KALMAN_NOISE: KalmanNoise = { measurement: 0.05, acceleration: 4, initialVelocity: 5 };

/** One quantity and its rate with their 2×2 covariance [[pp, pv], [pv, vv]]. */
interface AxisState {
  p: number;
  v: number;
  pp: number;
  pv: number;
  vv: number;
}

export interface BoxKalman {
  /** Advance the state by dt seconds and return the predicted box. */
  predict(dtSeconds: number): Box;
  /** Fuse a measured box and return the corrected box. */
  update(measured: Box): Box;
  /** The current box estimate. */
  box(): Box;
  /** The current velocity of the box centre, normalised units per second. */
  velocity(): { vx: number; vy: number };
}

export function createBoxKalman(initial: Box, noise: KalmanNoise = DEFAULT_KALMAN_NOISE): BoxKalman {
  const h0 = Math.max(initial.h, 1e-6);
  const w0 = Math.max(initial.w, 1e-6);
  const start = (p: number, scale: number): AxisState => ({
    p,
    v: 0,
    pp: (2 * noise.measurement * scale) ** 2,
    pv: 0,
    vv: (noise.initialVelocity * scale) ** 2,
  });
  const cx = start(initial.x + initial.w / 2, w0);
  const cy = start(initial.y + initial.h / 2, h0);
  // The aspect is nearly constant for a vehicle; it gets small fixed noises instead of size-relative ones.
  const a: AxisState = { p: w0 / h0, v: 0, pp: 1e-2, pv: 0, vv: 1e-4 };
  const h = start(h0, h0);

  const current = (): Box => {
    const hh = Math.max(h.p, 1e-6);
    const ww = Math.max(a.p, 1e-6) * hh;
    return { x: cx.p - ww / 2, y: cy.p - hh / 2, w: ww, h: hh };
  };

  return {
    predict(dt) {
      const b = current();
      predictAxis(cx, dt, noise.acceleration * b.w);
      predictAxis(cy, dt, noise.acceleration * b.h);
      predictAxis(a, dt, 0.1);
      predictAxis(h, dt, noise.acceleration * b.h * 0.25);
      return current();
    },
    update(m) {
      const mh = Math.max(m.h, 1e-6);
      const mw = Math.max(m.w, 1e-6);
      updateAxis(cx, m.x + m.w / 2, (noise.measurement * mw) ** 2);
      updateAxis(cy, m.y + m.h / 2, (noise.measurement * mh) ** 2);
      updateAxis(a, mw / mh, 1e-2);
      updateAxis(h, mh, (noise.measurement * mh) ** 2);
      return current();
    },
    box: current,
    velocity: () => ({ vx: cx.v, vy: cy.v }),
  };
}

/** x ← F x, P ← F P Fᵀ + Q with F = [[1, dt], [0, 1]] and piecewise-constant white acceleration σ. */
function predictAxis(s: AxisState, dt: number, sigma: number): void {
  s.p += s.v * dt;
  const q = sigma * sigma;
  const pp = s.pp + 2 * dt * s.pv + dt * dt * s.vv + (q * dt ** 4) / 4;
  const pv = s.pv + dt * s.vv + (q * dt ** 3) / 2;
  const vv = s.vv + q * dt * dt;
  s.pp = pp;
  s.pv = pv;
  s.vv = vv;
}

/** Standard update with H = [1, 0]. */
function updateAxis(s: AxisState, z: number, r: number): void {
  const S = s.pp + r;
  const k0 = s.pp / S;
  const k1 = s.pv / S;
  const y = z - s.p;
  s.p += k0 * y;
  s.v += k1 * y;
  const pp = (1 - k0) * s.pp;
  const pv = (1 - k0) * s.pv;
  const vv = s.vv - k1 * s.pv;
  s.pp = pp;
  s.pv = pv;
  s.vv = vv;
}
