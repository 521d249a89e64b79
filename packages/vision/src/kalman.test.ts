import { describe, expect, it } from 'vitest';
import { createBoxKalman } from './kalman.js';
import { createRandom } from './synthetic/prng.js';

describe('createBoxKalman', () => {
  it('starts at the first box with zero velocity', () => {
    const k = createBoxKalman({ x: 0.1, y: 0.2, w: 0.1, h: 0.05 });
    const b = k.box();
    expect(b.x).toBeCloseTo(0.1, 12);
    expect(b.y).toBeCloseTo(0.2, 12);
    expect(b.w).toBeCloseTo(0.1, 12);
    expect(b.h).toBeCloseTo(0.05, 12);
    expect(k.velocity()).toEqual({ vx: 0, vy: 0 });
    expect(k.predict(1).x).toBeCloseTo(0.1, 12);
  });

  it('learns a constant velocity and predicts through a gap', () => {
    const k = createBoxKalman({ x: 0.1, y: 0.5, w: 0.05, h: 0.05 });
    const vx = 0.2; // per second
    for (let i = 1; i <= 20; i++) {
      k.predict(0.1);
      k.update({ x: 0.1 + vx * 0.1 * i, y: 0.5, w: 0.05, h: 0.05 });
    }
    expect(k.velocity().vx).toBeCloseTo(vx, 2);
    // Ten frames without measurements: the prediction keeps moving.
    let b = k.box();
    for (let i = 0; i < 10; i++) b = k.predict(0.1);
    expect(b.x).toBeCloseTo(0.1 + vx * 3, 2);
  });

  it('smooths measurement jitter: the estimate is closer to the truth than the measurements', () => {
    const rnd = createRandom(3);
    const k = createBoxKalman({ x: 0.2, y: 0.2, w: 0.1, h: 0.1 });
    let measErr = 0;
    let estErr = 0;
    for (let i = 1; i <= 100; i++) {
      const truth = 0.2 + 0.01 * i;
      const z = truth + rnd.normal(0.005);
      k.predict(1 / 15);
      const est = k.update({ x: z, y: 0.2, w: 0.1, h: 0.1 });
      if (i > 20) {
        measErr += (z - truth) ** 2;
        estErr += (est.x - truth) ** 2;
      }
    }
    expect(estErr).toBeLessThan(measErr * 0.6);
  });

  it('uses the real time step: the same motion sampled at half the rate gives the same velocity', () => {
    const fast = createBoxKalman({ x: 0, y: 0, w: 0.1, h: 0.1 });
    const slow = createBoxKalman({ x: 0, y: 0, w: 0.1, h: 0.1 });
    for (let i = 1; i <= 40; i++) {
      fast.predict(0.05);
      fast.update({ x: 0.1 * 0.05 * i, y: 0, w: 0.1, h: 0.1 });
      if (i % 2 === 0) {
        slow.predict(0.1);
        slow.update({ x: 0.1 * 0.05 * i, y: 0, w: 0.1, h: 0.1 });
      }
    }
    expect(fast.velocity().vx).toBeCloseTo(0.1, 2);
    expect(slow.velocity().vx).toBeCloseTo(0.1, 2);
  });

  it('follows a change of size and aspect', () => {
    const k = createBoxKalman({ x: 0.4, y: 0.4, w: 0.1, h: 0.1 });
    for (let i = 0; i < 30; i++) {
      k.predict(0.1);
      k.update({ x: 0.35, y: 0.35, w: 0.3, h: 0.2 });
    }
    const b = k.box();
    expect(b.w).toBeCloseTo(0.3, 2);
    expect(b.h).toBeCloseTo(0.2, 2);
  });
});
