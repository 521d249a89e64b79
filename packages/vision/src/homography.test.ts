import { describe, expect, it } from 'vitest';
import { CalibrationError } from './errors.js';
import { applyHomography, solveCalibration, solveHomography, solveLinearSystem } from './homography.js';
import { createRandom } from './synthetic/prng.js';
import { ROAD_CALIBRATION } from './synthetic/road-scene.js';

describe('solveHomography', () => {
  it('maps each of the four calibration points exactly', () => {
    const H = solveHomography(ROAD_CALIBRATION.imagePoints, ROAD_CALIBRATION.groundPoints);
    ROAD_CALIBRATION.imagePoints.forEach((p, i) => {
      const g = applyHomography(H, p)!;
      expect(g.x).toBeCloseTo(ROAD_CALIBRATION.groundPoints[i]!.x, 9);
      expect(g.y).toBeCloseTo(ROAD_CALIBRATION.groundPoints[i]!.y, 9);
    });
  });

  it('round-trips 500 random image points through ground and back', () => {
    const { imageToGround, groundToImage } = solveCalibration(ROAD_CALIBRATION);
    const rnd = createRandom(11);
    for (let i = 0; i < 500; i++) {
      const p = { x: rnd.uniform(0.05, 0.95), y: rnd.uniform(0.3, 1) };
      const back = applyHomography(groundToImage, applyHomography(imageToGround, p)!)!;
      expect(back.x).toBeCloseTo(p.x, 9);
      expect(back.y).toBeCloseTo(p.y, 9);
    }
  });

  it('is the identity for identical point sets and a pure scale for a scaled square', () => {
    const sq = [
      { x: 0, y: 0 },
      { x: 1, y: 0 },
      { x: 1, y: 1 },
      { x: 0, y: 1 },
    ];
    const I = solveHomography(sq, sq);
    [1, 0, 0, 0, 1, 0, 0, 0, 1].forEach((v, i) => expect(I[i]).toBeCloseTo(v, 12));
    const S = solveHomography(
      sq,
      sq.map((p) => ({ x: 10 * p.x, y: 20 * p.y })),
    );
    expect(applyHomography(S, { x: 0.5, y: 0.25 })).toEqual({
      x: expect.closeTo(5, 9),
      y: expect.closeTo(5, 9),
    });
  });

  it('preserves straight lines (a property of every homography)', () => {
    const H = solveHomography(ROAD_CALIBRATION.imagePoints, ROAD_CALIBRATION.groundPoints);
    const a = applyHomography(H, { x: 0.2, y: 0.5 })!;
    const m = applyHomography(H, { x: 0.45, y: 0.65 })!;
    const b = applyHomography(H, { x: 0.7, y: 0.8 })!;
    const cross = (m.x - a.x) * (b.y - a.y) - (m.y - a.y) * (b.x - a.x);
    expect(Math.abs(cross)).toBeLessThan(1e-6);
  });

  it.each([
    {
      name: 'three collinear image points',
      image: [
        { x: 0, y: 0 },
        { x: 0.5, y: 0.5 },
        { x: 1, y: 1 },
        { x: 0, y: 1 },
      ],
      path: 'calibration.imagePoints',
    },
    {
      name: 'a repeated image point',
      image: [
        { x: 0.1, y: 0.1 },
        { x: 0.1, y: 0.1 },
        { x: 1, y: 1 },
        { x: 0, y: 1 },
      ],
      path: 'calibration.imagePoints',
    },
  ])('rejects $name, naming the field', ({ image, path }) => {
    expect(() => solveHomography(image, ROAD_CALIBRATION.groundPoints)).toThrow(CalibrationError);
    expect(() => solveHomography(image, ROAD_CALIBRATION.groundPoints)).toThrow(
      new RegExp(`^${path.replace('.', '\\.')}:`),
    );
  });

  it('rejects collinear ground points', () => {
    const ground = [
      { x: 0, y: 0 },
      { x: 1, y: 0 },
      { x: 2, y: 0 },
      { x: 0, y: 5 },
    ];
    expect(() => solveHomography(ROAD_CALIBRATION.imagePoints, ground)).toThrow(
      /calibration\.groundPoints: points 0, 1 and 2/,
    );
  });

  it('rejects the wrong number of points', () => {
    expect(() =>
      solveHomography(ROAD_CALIBRATION.imagePoints.slice(0, 3), ROAD_CALIBRATION.groundPoints),
    ).toThrow(/needs exactly 4/);
  });

  it('applyHomography returns null on the horizon', () => {
    expect(applyHomography([1, 0, 0, 0, 1, 0, 1, 0, -0.5], { x: 0.5, y: 0.3 })).toBeNull();
  });
});

describe('solveLinearSystem', () => {
  it('solves a system that needs pivoting', () => {
    const x = solveLinearSystem(
      [
        [0, 2, 1],
        [1, 1, 1],
        [2, 1, 0],
      ],
      [5, 4, 4],
    )!;
    expect(x.map((v) => Math.round(v * 1e9) / 1e9)).toEqual([1, 2, 1]);
  });
  it('returns null for a singular matrix', () => {
    expect(
      solveLinearSystem(
        [
          [1, 2],
          [2, 4],
        ],
        [1, 2],
      ),
    ).toBeNull();
  });
});
