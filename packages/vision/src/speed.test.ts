import { describe, expect, it } from 'vitest';
import {
  addGroundSample,
  estimateSpeedKmh,
  fitSlope,
  projectBoxToGround,
  projectToGround,
  type SpeedOptions,
  type SpeedTrack,
} from './speed.js';
import { createRandom } from './synthetic/prng.js';
import { solveCalibration } from './homography.js';
import { ROAD_CALIBRATION } from './synthetic/road-scene.js';

const OPTIONS: SpeedOptions = {
  speedWindowMs: 2500,
  speedMinSamples: 5,
  speedMinSpanMs: 400,
  maxSpeedKmh: 250,
};

function feed(
  points: Array<{ tMs: number; x: number; y: number; sigma?: number }>,
  options = OPTIONS,
): SpeedTrack {
  return points.reduce<SpeedTrack>((t, p) => addGroundSample(t, { sigma: 1, ...p }, options), {
    samples: [],
  });
}

describe('fitSlope', () => {
  it.each([
    { name: 'exact line', t: [0, 1, 2, 3], y: [1, 3, 5, 7], want: 2 },
    { name: 'flat', t: [0, 1, 2], y: [4, 4, 4], want: 0 },
    { name: 'noisy symmetric', t: [0, 1, 2, 3], y: [0, 1.5, 1.5, 3], want: 0.9 },
    { name: 'one instant only (no spread)', t: [5, 5], y: [1, 2], want: 0 },
  ])('$name', ({ t, y, want }) => {
    expect(fitSlope(t, y)).toBeCloseTo(want, 12);
  });
  it('is stable with epoch-sized times', () => {
    const t = [1_768_464_020, 1_768_464_020.5, 1_768_464_021];
    expect(fitSlope(t, [0, 10, 20])).toBeCloseTo(20, 6);
  });
});

describe('estimateSpeedKmh', () => {
  const at = (v: number, n: number, dtMs = 100) =>
    Array.from({ length: n }, (_, i) => ({
      tMs: 1_000_000 + i * dtMs,
      x: 0,
      y: ((v / 3.6) * (i * dtMs)) / 1000,
    }));

  it.each([
    { name: '50 km/h along y', samples: at(50, 20), want: 50 },
    { name: '120 km/h along y', samples: at(120, 20), want: 120 },
    { name: 'stationary', samples: at(0, 20), want: 0 },
  ])('$name', ({ samples, want }) => {
    expect(estimateSpeedKmh(feed(samples), OPTIONS)).toBeCloseTo(want, 6);
  });
  it('uses both ground axes', () => {
    const diag = Array.from({ length: 10 }, (_, i) => ({ tMs: i * 100, x: i * 0.3, y: i * 0.4 }));
    expect(estimateSpeedKmh(feed(diag), OPTIONS)).toBeCloseTo(5 * 3.6, 9);
  });
  it.each([
    { name: 'too few samples', samples: at(50, 4), why: 'speedMinSamples' },
    { name: 'too short a span', samples: at(50, 6, 50), why: 'speedMinSpanMs' },
    { name: 'impossible speed', samples: at(400, 20), why: 'maxSpeedKmh' },
  ])('is null for $name', ({ samples }) => {
    expect(estimateSpeedKmh(feed(samples), OPTIONS)).toBeNull();
  });
  it('forgets samples older than the window, so it follows a change of speed', () => {
    const slow = at(30, 30);
    const last = slow.at(-1)!;
    const fast = Array.from({ length: 30 }, (_, i) => ({
      tMs: last.tMs + (i + 1) * 100,
      x: 0,
      y: last.y + (90 / 3.6) * ((i + 1) * 0.1),
    }));
    const track = feed([...slow, ...fast]);
    expect(track.samples.length).toBeLessThanOrEqual(26);
    expect(estimateSpeedKmh(track, OPTIONS)).toBeCloseTo(90, 6);
  });
  it('averages out jitter: 1 m of position noise still gives the speed within 5 %', () => {
    const rnd = createRandom(5);
    const noisy = at(60, 38, 66).map((p) => ({ ...p, y: p.y + rnd.normal(1) }));
    const v = estimateSpeedKmh(feed(noisy), OPTIONS)!;
    expect(Math.abs(v - 60) / 60).toBeLessThan(0.05);
  });
});

describe('projectToGround', () => {
  it('maps an image point through the calibration', () => {
    const { imageToGround } = solveCalibration(ROAD_CALIBRATION);
    const g = projectToGround(imageToGround, { x: 0.95, y: 0.95 })!;
    expect(g.x).toBeCloseTo(7.5, 9);
    expect(g.y).toBeCloseTo(5, 9);
  });
  it('is null at the horizon', () => {
    expect(projectToGround([1, 0, 0, 0, 1, 0, 0, 1, -0.5], { x: 0.5, y: 0.5 })).toBeNull();
  });
});

describe('segments across gaps', () => {
  const run = (v: number, fromMs: number, n: number, y0: number, dir = 1) =>
    Array.from({ length: n }, (_, i) => ({
      tMs: fromMs + i * 66,
      x: 0,
      y: y0 + (dir * (v / 3.6) * (i * 66)) / 1000,
      sigma: 0.05,
    }));

  it('a gap opens a new segment; steady frames do not', () => {
    const t = feed([...run(50, 0, 10, 0), ...run(50, 1200, 5, 0)]);
    expect(t.samples.map((s) => s.segment)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  });
  it('consistent motion on both sides of a gap is fitted together', () => {
    const before = run(60, 0, 12, 0);
    const after = run(60, 1300, 8, (60 / 3.6) * 1.3);
    expect(estimateSpeedKmh(feed([...before, ...after]), OPTIONS)).toBeCloseTo(60, 6);
  });
  it('a track re-found on another vehicle moving the other way reports only the new motion', () => {
    const before = run(60, 0, 12, 0, 1);
    const after = run(30, 1300, 10, 20, -1);
    expect(estimateSpeedKmh(feed([...before, ...after]), OPTIONS)).toBeCloseTo(30, 6);
  });
  it('until the new segment has enough evidence, the whole window is used', () => {
    const before = run(60, 0, 12, 0, 1);
    const after = run(30, 1300, 3, 20, -1);
    const v = estimateSpeedKmh(feed([...before, ...after]), OPTIONS);
    expect(v).not.toBeNull();
    expect(v).not.toBeCloseTo(30, 0);
  });
});

describe('weighting by expected ground error', () => {
  it('noisy far samples with large sigma barely move the fit', () => {
    const rnd = createRandom(9);
    const near = Array.from({ length: 20 }, (_, i) => ({
      tMs: i * 66,
      x: 0,
      y: 10 + (50 / 3.6) * i * 0.066,
      sigma: 0.05,
    }));
    const far = Array.from({ length: 10 }, (_, i) => ({
      tMs: 20 * 66 + i * 66,
      x: 0,
      y: 10 + (50 / 3.6) * (20 + i) * 0.066 + rnd.normal(5),
      sigma: 5,
    }));
    expect(estimateSpeedKmh(feed([...near, ...far]), OPTIONS)!).toBeCloseTo(50, 0);
  });
  it('fitSlope with weights ignores zero-weight points', () => {
    expect(fitSlope([0, 1, 2, 3], [0, 1, 2, 100], [1, 1, 1, 0])).toBeCloseTo(1, 12);
  });
});

describe('projectBoxToGround', () => {
  it('gives the bottom-centre ground point and a larger error far from the camera', () => {
    const { imageToGround } = solveCalibration(ROAD_CALIBRATION);
    const near = projectBoxToGround(imageToGround, { x: 0.45, y: 0.8, w: 0.1, h: 0.1 })!;
    const far = projectBoxToGround(imageToGround, { x: 0.45, y: 0.2, w: 0.1, h: 0.1 })!;
    expect(near.point.y).toBeLessThan(far.point.y);
    expect(far.sigma).toBeGreaterThan(near.sigma * 3);
  });
  it('is null at the horizon', () => {
    expect(
      projectBoxToGround([1, 0, 0, 0, 1, 0, 0, 1, -0.5], { x: 0.45, y: 0.4, w: 0.1, h: 0.1 }),
    ).toBeNull();
  });
});
