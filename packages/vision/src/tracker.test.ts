import type { VehicleClass } from '@its/contracts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KALMAN_NOISE } from './kalman.js';
import {
  createTracker,
  expandBox,
  pickMajorityClass,
  visibleFraction,
  type TrackerDetection,
  type TrackerOptions,
} from './tracker.js';

const OPTIONS: TrackerOptions = {
  highScore: 0.5,
  lowScore: 0.1,
  newTrackScore: 0.6,
  matchIou: 0.2,
  lowMatchIou: 0.5,
  tentativeMatchIou: 0.3,
  minHits: 3,
  maxAge: 5,
  tentativeMaxMisses: 0,
  lostBufferPerFrame: 0.1,
  maxLostBuffer: 0.5,
  maxHeightRatio: 2,
  kalman: DEFAULT_KALMAN_NOISE,
};

const FRAME_MS = 100;
/** A car moving right by 0.01 per frame (0.1 per second). */
const car = (i: number, score = 0.9, cls: VehicleClass = 'car', y = 0.5): TrackerDetection => ({
  class: cls,
  score,
  box: { x: 0.1 + 0.01 * i, y, w: 0.08, h: 0.06 },
});

function run(frames: TrackerDetection[][], options: Partial<TrackerOptions> = {}) {
  const tracker = createTracker({ ...OPTIONS, ...options });
  return frames.map((dets, i) => tracker.update(dets, 1_000_000 + i * FRAME_MS));
}

describe('track birth', () => {
  it('a track is tentative until minHits matches, then confirmed', () => {
    const steps = run([[car(0)], [car(1)], [car(2)], [car(3)]]);
    expect(steps.map((s) => s.tracks[0]!.state)).toEqual([
      'tentative',
      'tentative',
      'confirmed',
      'confirmed',
    ]);
    expect(steps.every((s) => s.tracks.length === 1 && s.tracks[0]!.id === 1)).toBe(true);
  });
  it('with minHits 1 a track is confirmed at birth', () => {
    expect(run([[car(0)]], { minHits: 1 })[0]!.tracks[0]!.state).toBe('confirmed');
  });
  it('a detection below newTrackScore starts nothing', () => {
    expect(run([[car(0, 0.55)], [car(1, 0.55)]]).map((s) => s.tracks.length)).toEqual([0, 0]);
  });
  it('a one-frame false positive dies tentative', () => {
    const steps = run([[car(0)], []]);
    expect(steps[1]!.tracks).toHaveLength(0);
    expect(steps[1]!.removed.map((t) => t.state)).toEqual(['tentative']);
  });
  it('a tentative track survives tentativeMaxMisses missed frames', () => {
    const steps = run([[car(0)], [], [car(2)], [car(3)]], { tentativeMaxMisses: 1 });
    expect(steps.map((s) => s.tracks.map((t) => `${t.id}:${t.state}`))).toEqual([
      ['1:tentative'],
      ['1:tentative'],
      ['1:tentative'],
      ['1:confirmed'],
    ]);
  });
  it('ids are consecutive in order of birth and never reused', () => {
    const steps = run([
      [car(0)],
      [],
      [car(2, 0.9, 'car', 0.2)],
      [car(3, 0.9, 'car', 0.2), car(3, 0.9, 'bus', 0.8)],
    ]);
    expect(steps[2]!.tracks.map((t) => t.id)).toEqual([2]);
    expect(steps[3]!.tracks.map((t) => t.id)).toEqual([2, 3]);
  });
});

describe('track death and occlusion gaps', () => {
  const confirmed = [[car(0)], [car(1)], [car(2)], [car(3)]];
  it('a confirmed track coasts as lost through a gap shorter than maxAge and keeps its id', () => {
    const steps = run([...confirmed, [], [], [], [car(7)], [car(8)]]);
    expect(steps.slice(4).map((s) => s.tracks.map((t) => `${t.id}:${t.state}`))).toEqual([
      ['1:lost'],
      ['1:lost'],
      ['1:lost'],
      ['1:confirmed'],
      ['1:confirmed'],
    ]);
  });
  it('the lost track moves with its predicted velocity', () => {
    const steps = run([...confirmed, [], [], []]);
    const lost = steps[6]!.tracks[0]!;
    expect(lost.matched).toBe(false);
    expect(lost.framesSinceUpdate).toBe(3);
    expect(lost.box.x).toBeGreaterThan(car(5).box.x);
  });
  it('a track lost longer than maxAge is removed, and the vehicle then gets a new id', () => {
    const steps = run([...confirmed, [], [], [], [], [], [], [car(10)]]);
    expect(steps[9]!.removed.map((t) => t.id)).toEqual([1]);
    expect(steps[10]!.tracks.map((t) => t.id)).toEqual([2]);
  });
  it('buffered IoU recovers a track whose prediction drifted during the gap', () => {
    // The vehicle brakes during an 8-frame gap: it reappears well behind the prediction.
    const braking = [
      ...confirmed,
      [],
      [],
      [],
      [],
      [],
      [],
      [],
      [],
      [{ ...car(7), box: { ...car(7).box, x: car(7).box.x - 0.03 } }],
    ];
    expect(run(braking, { maxAge: 10 })[12]!.tracks.map((t) => `${t.id}:${t.state}`)).toEqual([
      '1:confirmed',
    ]);
    expect(
      run(braking, { maxAge: 10, lostBufferPerFrame: 0 })[12]!.tracks.map((t) => `${t.id}:${t.state}`),
    ).toEqual(['1:lost', '2:tentative']);
  });
});

describe('low-score second pass', () => {
  const confirmed = [[car(0)], [car(1)], [car(2)], [car(3)]];
  it('keeps a confirmed track alive on low-score detections', () => {
    const steps = run([...confirmed, [car(4, 0.3)], [car(5, 0.25)], [car(6, 0.9)]]);
    expect(steps.slice(4).map((s) => s.tracks.map((t) => `${t.id}:${t.state}:${t.matched}`))).toEqual([
      ['1:confirmed:true'],
      ['1:confirmed:true'],
      ['1:confirmed:true'],
    ]);
  });
  it('revives a lost track on a low-score detection', () => {
    const steps = run([...confirmed, [], [car(5, 0.3)]]);
    expect(steps[5]!.tracks.map((t) => `${t.id}:${t.state}`)).toEqual(['1:confirmed']);
  });
  it('low-score detections never start tracks', () => {
    expect(run([[car(0, 0.3)], [car(1, 0.3)], [car(2, 0.3)]]).map((s) => s.tracks.length)).toEqual([0, 0, 0]);
  });
  it('detections below lowScore are ignored even on a track', () => {
    const steps = run([...confirmed, [car(4, 0.05)]]);
    expect(steps[4]!.tracks[0]!.state).toBe('lost');
  });
  it('a low-score detection far from any track is not matched', () => {
    const steps = run([...confirmed, [car(4, 0.3, 'car', 0.9)]]);
    expect(steps[4]!.tracks.map((t) => t.state)).toEqual(['lost']);
  });
});

describe('association', () => {
  it('two vehicles on parallel paths keep their own ids', () => {
    const frames = Array.from({ length: 20 }, (_, i) => [car(i, 0.9, 'car', 0.3), car(i, 0.9, 'bus', 0.6)]);
    const last = run(frames).at(-1)!;
    expect(last.tracks.map((t) => `${t.id}:${t.class}`)).toEqual(['1:car', '2:bus']);
  });
  it('two vehicles passing close by (overlapping boxes) keep their ids', () => {
    // One moves right, the other left; at frame 10 their boxes overlap heavily.
    const frames = Array.from({ length: 20 }, (_, i) => [
      { class: 'car' as const, score: 0.9, box: { x: 0.1 + 0.02 * i, y: 0.5, w: 0.08, h: 0.06 } },
      { class: 'truck' as const, score: 0.9, box: { x: 0.5 - 0.02 * i, y: 0.52, w: 0.08, h: 0.06 } },
    ]);
    const steps = run(frames);
    const byClass = (s: (typeof steps)[number]) =>
      Object.fromEntries(s.tracks.map((t) => [t.id, t.detection?.class]));
    expect(byClass(steps[19]!)).toEqual({ 1: 'car', 2: 'truck' });
  });
  it('reports the index of the matched detection', () => {
    const steps = run([[car(0, 0.9, 'car', 0.2), car(0, 0.95, 'bus', 0.7)]]);
    expect(steps[0]!.tracks.map((t) => [t.class, t.detectionIndex])).toEqual([
      ['car', 0],
      ['bus', 1],
    ]);
  });
  it('handles a frame with no detections and no tracks', () => {
    expect(run([[]])[0]).toEqual({ tracks: [], removed: [] });
  });
  it('ignores degenerate boxes', () => {
    expect(
      run([[{ class: 'car', score: 0.9, box: { x: 0.1, y: 0.1, w: 0, h: 0.1 } }]])[0]!.tracks,
    ).toHaveLength(0);
  });
});

describe('class by majority vote', () => {
  it('a truck misread as a car now and then stays a truck', () => {
    const classes: VehicleClass[] = ['truck', 'car', 'truck', 'truck', 'car', 'truck'];
    const steps = run(classes.map((c, i) => [car(i, 0.9, c)]));
    expect(steps.at(-1)!.tracks[0]!.class).toBe('truck');
  });
  it.each([
    { name: 'most votes wins', votes: { car: [2, 1.0], bus: [1, 0.99] }, want: 'car' },
    {
      name: 'a tie goes to the higher summed score',
      votes: { car: [2, 1.0], truck: [2, 1.6] },
      want: 'truck',
    },
    { name: 'a full tie goes to the earlier class', votes: { bus: [1, 0.5], car: [1, 0.5] }, want: 'car' },
    { name: 'no votes defaults to car', votes: {}, want: 'car' },
  ])('pickMajorityClass: $name', ({ votes, want }) => {
    const m = new Map(
      Object.entries(votes).map(([k, [count, scoreSum]]) => [
        k as VehicleClass,
        { count: count!, scoreSum: scoreSum! },
      ]),
    );
    expect(pickMajorityClass(m)).toBe(want);
  });
});

describe('expandBox', () => {
  it('grows a box by the buffer on every side, keeping its centre', () => {
    expect(expandBox({ x: 0.4, y: 0.4, w: 0.2, h: 0.1 }, 0.5)).toEqual({
      x: 0.30000000000000004,
      y: 0.35000000000000003,
      w: 0.4,
      h: 0.2,
    });
  });
});

describe('gates and helpers for lost tracks', () => {
  const confirmed = [[car(0)], [car(1)], [car(2)], [car(3)]];
  it('a much smaller box inside a track is another vehicle (maxHeightRatio)', () => {
    const inner = { class: 'car' as const, score: 0.9, box: { x: 0.14, y: 0.5, w: 0.04, h: 0.025 } };
    expect(run([...confirmed, [inner]])[4]!.tracks.map((t) => `${t.id}:${t.state}`)).toEqual([
      '1:lost',
      '2:tentative',
    ]);
    expect(
      run([...confirmed, [inner]], { maxHeightRatio: 10 })[4]!.tracks.map((t) => `${t.id}:${t.state}`),
    ).toEqual(['1:confirmed']);
  });
  it('predictLost moves a lost track where an outside model expects it', () => {
    const far = { class: 'car' as const, score: 0.9, box: { x: 0.5, y: 0.5, w: 0.08, h: 0.06 } };
    const frames = [...confirmed, [], [far]];
    expect(run(frames)[5]!.tracks.map((t) => t.id)).toEqual([1, 2]);
    const predictLost = (_id: number, last: { w: number; h: number }) => ({
      x: 0.5,
      y: 0.5,
      w: last.w,
      h: last.h,
    });
    expect(run(frames, { predictLost })[5]!.tracks.map((t) => `${t.id}:${t.state}`)).toEqual(['1:confirmed']);
  });
  it('isPlausibleLost can veto re-finding a lost track', () => {
    const frames = [...confirmed, [], [car(5)]];
    expect(run(frames)[5]!.tracks.map((t) => `${t.id}:${t.state}`)).toEqual(['1:confirmed']);
    const veto = run(frames, { isPlausibleLost: () => false })[5]!.tracks.map((t) => `${t.id}:${t.state}`);
    expect(veto).toEqual(['1:lost', '2:tentative']);
  });
  it('a lost track whose prediction leaves the image is removed before maxAge', () => {
    const exiting = Array.from({ length: 10 }, (_, i) => [
      { class: 'car' as const, score: 0.9, box: { x: 0.85 + 0.01 * i, y: 0.5, w: 0.05, h: 0.05 } },
    ]);
    const steps = run([...exiting, ...Array.from({ length: 10 }, () => [])], { maxAge: 30 });
    const removedAt = steps.findIndex((s) => s.removed.length > 0);
    expect(steps[removedAt]!.removed.map((t) => t.id)).toEqual([1]);
    expect(removedAt).toBeGreaterThan(10);
    expect(removedAt).toBeLessThan(16);
  });
  it('visibleFraction', () => {
    expect(visibleFraction({ x: 0.1, y: 0.1, w: 0.2, h: 0.2 })).toBeCloseTo(1, 12);
    expect(visibleFraction({ x: 0.9, y: 0.1, w: 0.2, h: 0.2 })).toBeCloseTo(0.5, 12);
    expect(visibleFraction({ x: 1.2, y: 0.1, w: 0.2, h: 0.2 })).toBe(0);
  });
});
