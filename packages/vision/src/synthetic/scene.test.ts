import { describe, expect, it } from 'vitest';
import { solveCalibration } from '../homography.js';
import { applyHomography } from '../homography.js';
import { createRandom } from './prng.js';
import { createRoadScene, LANE_LINE_Y } from './road-scene.js';
import { NO_NOISE, REALISTIC_NOISE, simulateScene } from './scene.js';
import { createScriptedDetector } from './scripted-detector.js';

const short = (seed: number, noise = {}, extra = {}) =>
  simulateScene(createRoadScene({ seed, durationS: 40, noise, ...extra }));

describe('createRandom (mulberry32)', () => {
  it('is reproducible from its seed and differs between seeds', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
  it('has roughly the right moments', () => {
    const r = createRandom(1);
    const n = 20_000;
    const u = Array.from({ length: n }, () => r.next());
    const g = Array.from({ length: n }, () => r.normal(2));
    const e = Array.from({ length: n }, () => r.exponential(3));
    const m = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(m(u)).toBeCloseTo(0.5, 1);
    expect(Math.sqrt(m(g.map((x) => x * x)))).toBeCloseTo(2, 1);
    expect(m(e)).toBeCloseTo(3, 0);
    const ints = Array.from({ length: 1000 }, () => r.int(2, 4));
    expect(new Set(ints)).toEqual(new Set([2, 3, 4]));
    const picks = Array.from({ length: 1000 }, () => r.weighted({ a: 1, b: 0, c: 3 }));
    expect(picks.includes('b')).toBe(false);
    expect(picks.filter((p) => p === 'c').length).toBeGreaterThan(650);
  });
});

describe('simulateScene', () => {
  it('is deterministic: the same spec gives the same frames and truth', () => {
    const a = short(5, REALISTIC_NOISE);
    const b = short(5, REALISTIC_NOISE);
    expect(b.frames).toEqual(a.frames);
    expect(b.crossings).toEqual(a.crossings);
    expect(short(6, REALISTIC_NOISE).frames).not.toEqual(a.frames);
  });

  it('frames are evenly spaced at the scene fps, and every box lies inside the image', () => {
    const s = short(1);
    const gaps = new Set(s.frames.slice(1).map((f, i) => f.tsMs - s.frames[i]!.tsMs));
    expect([...gaps].every((g) => g === 66 || g === 67)).toBe(true);
    for (const f of s.frames) {
      for (const d of f.detections) {
        expect(d.box.x).toBeGreaterThanOrEqual(0);
        expect(d.box.x + d.box.w).toBeLessThanOrEqual(1);
        expect(d.box.y + d.box.h).toBeLessThanOrEqual(1);
      }
    }
  });

  it('without noise, each box bottom-centre maps back to its vehicle ground point exactly', () => {
    const s = short(2);
    const { imageToGround } = solveCalibration(s.spec.calibration);
    let checked = 0;
    s.frames.forEach((f, k) => {
      f.detections.forEach((d, i) => {
        const v = s.vehicles.find((x) => x.id === s.sources[k]![i])!;
        const g = applyHomography(imageToGround, { x: d.box.x + d.box.w / 2, y: d.box.y + d.box.h })!;
        expect(g.x).toBeCloseTo(v.x, 6);
        const travelled = ((f.tsMs - v.startMs) / 1000) * (v.speedKmh / 3.6);
        expect(g.y).toBeCloseTo(v.heading === 1 ? travelled : 140 - travelled, 6);
        checked += 1;
      });
    });
    expect(checked).toBeGreaterThan(500);
  });

  it('ground truth: vehicles towards the camera cross their lane line forward, those driving away reverse', () => {
    const s = short(3);
    const laneLines = s.crossings.filter((c) => c.lineId !== 'screen-line');
    expect(laneLines.length).toBeGreaterThan(10);
    for (const c of laneLines) {
      const v = s.vehicles.find((x) => x.id === c.vehicleId)!;
      expect(c.direction).toBe(v.heading === -1 ? 'forward' : 'reverse');
      expect(c.lane).toBe(v.lane);
      expect(c.speedKmh).toBe(v.speedKmh);
    }
    expect(LANE_LINE_Y).toBe(30);
  });

  it.each([
    {
      name: 'missRate drops detections',
      noise: { missRate: 0.5 },
      check: (clean: number, noisy: number) => expect(noisy).toBeLessThan(clean * 0.6),
    },
    {
      name: 'falsePositivesPerFrame adds detections of no vehicle',
      noise: { falsePositivesPerFrame: 2 },
      check: (clean: number, noisy: number) => expect(noisy).toBeGreaterThan(clean + 1000),
    },
  ])('$name', ({ noise, check }) => {
    const count = (s: ReturnType<typeof short>) => s.frames.reduce((n, f) => n + f.detections.length, 0);
    check(count(short(4)), count(short(4, noise)));
  });

  it('occlusion gaps hide a vehicle for several consecutive frames', () => {
    const s = short(7, { occlusionRate: 1, occlusionFrames: [6, 6] });
    const seenFrames = new Map<number, number[]>();
    s.sources.forEach((ids, k) =>
      ids.forEach((id) => seenFrames.set(id, [...(seenFrames.get(id) ?? []), k])),
    );
    const longestGap = Math.max(
      ...[...seenFrames.values()].map((ks) => Math.max(0, ...ks.slice(1).map((k, i) => k - ks[i]! - 1))),
    );
    expect(longestGap).toBeGreaterThanOrEqual(6);
  });

  it('class flips and low scores appear at about their rates', () => {
    const s = short(8, { classFlipRate: 0.3, lowScoreRate: 0.3 });
    let wrong = 0;
    let low = 0;
    let total = 0;
    s.frames.forEach((f, k) =>
      f.detections.forEach((d, i) => {
        const v = s.vehicles.find((x) => x.id === s.sources[k]![i]);
        if (!v) return;
        total += 1;
        if (d.class !== v.class) wrong += 1;
        if (d.score < 0.5) low += 1;
      }),
    );
    expect(wrong / total).toBeGreaterThan(0.2);
    expect(wrong / total).toBeLessThan(0.4);
    expect(low / total).toBeGreaterThan(0.2);
  });

  it('near passes spawn vehicles side by side in adjacent lanes', () => {
    const s = short(9, { nearPassRate: 1 });
    const pairs = s.vehicles.filter((v, i) =>
      s.vehicles.some(
        (w, j) =>
          j !== i && w.heading === v.heading && w.lane !== v.lane && Math.abs(w.startMs - v.startMs) < 1,
      ),
    );
    expect(pairs.length).toBeGreaterThan(4);
  });

  it('a vehicle hidden behind a nearer one is not detected, or detected with a low score', () => {
    const clean = short(10, { ...NO_NOISE, occlusionCover: Infinity });
    const occluding = short(10, { ...NO_NOISE, occlusionCover: 0.7 });
    const count = (s: typeof clean) => s.frames.reduce((n, f) => n + f.detections.length, 0);
    const lows = (s: typeof clean) =>
      s.frames.reduce((n, f) => n + f.detections.filter((d) => d.score < 0.5).length, 0);
    expect(count(occluding)).toBeLessThan(count(clean));
    expect(lows(occluding)).toBeGreaterThan(0);
    expect(lows(clean)).toBe(0);
  });
});

describe('createScriptedDetector', () => {
  it('replays the scene frame by frame and answers per timestamp with copies', () => {
    const s = short(11);
    const d = createScriptedDetector(s.frames);
    expect(d.frameCount).toBe(s.frames.length);
    const replay = [...d.frames()];
    expect(replay).toEqual(s.frames);
    const f = s.frames.find((x) => x.detections.length > 0)!;
    const out = d.detect(f.tsMs);
    expect(out).toEqual(f.detections);
    out[0]!.box.x = -1;
    expect(d.detect(f.tsMs)[0]!.box.x).not.toBe(-1);
    expect(d.detect(1)).toEqual([]);
  });
});
