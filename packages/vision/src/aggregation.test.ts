import { IntervalAggregate } from '@its/contracts';
import { describe, expect, it } from 'vitest';
import { alignToInterval, createIntervalAggregator } from './aggregation.js';

const CAMERA = '6f1c2b1e-3d4a-4b5c-8d6e-7f8091a2b3c4';
const T0 = Date.UTC(2026, 0, 15, 8, 0, 0);

describe('alignToInterval', () => {
  it.each([
    { name: 'a whole minute', ts: T0, want: T0 },
    { name: 'mid-minute', ts: T0 + 59_999, want: T0 },
    { name: 'next minute', ts: T0 + 60_000, want: T0 + 60_000 },
    { name: 'before the epoch', ts: -1, want: -60_000 },
  ])('$name', ({ ts, want }) => {
    expect(alignToInterval(ts)).toBe(want);
  });
});

describe('createIntervalAggregator', () => {
  it('emits an interval only when a time at or after its end is reached', () => {
    const agg = createIntervalAggregator({ cameraId: CAMERA, maxFrameGapMs: 2000 });
    agg.addCrossing(T0 + 10_000, 'nb', 'car', 50);
    expect(agg.closeUntil(T0 + 59_999)).toEqual([]);
    const out = agg.closeUntil(T0 + 60_000);
    expect(out).toHaveLength(1);
    expect(out[0]!.intervalStart).toBe('2026-01-15T08:00:00.000Z');
    expect(agg.closeUntil(T0 + 120_000)).toEqual([]);
  });

  it('computes volume, mean and 85th-percentile speed per lane × class', () => {
    const agg = createIntervalAggregator({ cameraId: CAMERA, maxFrameGapMs: 2000 });
    [52, 61, 48, 70, 66, 59, 73].forEach((v, i) => agg.addCrossing(T0 + i * 1000, 'nb', 'car', v));
    agg.addCrossing(T0 + 5000, 'nb', 'truck', null);
    agg.addCrossing(T0 + 6000, 'sb', 'car', 40);
    const out = agg.closeUntil(T0 + 60_000);
    expect(out).toEqual([
      {
        cameraId: CAMERA,
        intervalStart: '2026-01-15T08:00:00.000Z',
        lane: 'nb',
        class: 'car',
        volume: 7,
        occupancyPct: 0,
        meanSpeedKmh: 61.29,
        p85SpeedKmh: 70.3,
        // Nothing observed: crossings alone were fed in.
        observedMs: 0,
      },
      {
        cameraId: CAMERA,
        intervalStart: '2026-01-15T08:00:00.000Z',
        lane: 'nb',
        class: 'truck',
        volume: 1,
        occupancyPct: 0,
        meanSpeedKmh: null,
        p85SpeedKmh: null,
        observedMs: 0,
      },
      {
        cameraId: CAMERA,
        intervalStart: '2026-01-15T08:00:00.000Z',
        lane: 'sb',
        class: 'car',
        volume: 1,
        occupancyPct: 0,
        meanSpeedKmh: 40,
        p85SpeedKmh: 40,
        observedMs: 0,
      },
    ]);
    for (const row of out) expect(IntervalAggregate.parse(row)).toEqual(row);
  });

  it('occupancy is the occupied fraction of the observed time, split at minute boundaries', () => {
    const agg = createIntervalAggregator({ cameraId: CAMERA, maxFrameGapMs: 2000 });
    // Frames every second from 08:00:30 to 08:01:30; the lane is occupied from 08:00:50 to 08:01:05.
    for (let t = 30; t < 90; t++) {
      const occupied = t >= 50 && t < 65 ? [{ lane: 'nb', class: 'car' as const }] : [];
      agg.observe(T0 + t * 1000, T0 + (t + 1) * 1000, occupied);
    }
    const out = agg.closeUntil(T0 + 120_000);
    // 08:00: observed 30 s (from 08:00:30), occupied 10 s; 08:01: observed 30 s, occupied 5 s.
    expect(out.map((r) => [r.intervalStart, r.occupancyPct, r.volume])).toEqual([
      ['2026-01-15T08:00:00.000Z', 33.33, 0],
      ['2026-01-15T08:01:00.000Z', 16.67, 0],
    ]);
  });

  it('a frame gap longer than maxFrameGapMs counts only up to the cap', () => {
    const agg = createIntervalAggregator({ cameraId: CAMERA, maxFrameGapMs: 2000 });
    agg.observe(T0, T0 + 1000, []);
    agg.observe(T0 + 1000, T0 + 30_000, [{ lane: 'nb', class: 'car' }]); // stalled stream: 2 s credited
    const [row] = agg.closeUntil(T0 + 60_000);
    expect(row!.occupancyPct).toBeCloseTo((2 / 3) * 100, 1);
    // The observed time is sent along: the API weighs two sessions' occupancy of one minute by it.
    expect(row!.observedMs).toBe(3000);
  });

  it('snapshot gives the open intervals as they stand and closes nothing', () => {
    const agg = createIntervalAggregator({ cameraId: CAMERA, maxFrameGapMs: 2000 });
    agg.observe(T0, T0 + 1000, [{ lane: 'nb', class: 'car' }]);
    agg.addCrossing(T0 + 500, 'nb', 'car', 50);
    const partial = agg.snapshot();
    expect(partial).toMatchObject([{ volume: 1, occupancyPct: 100, observedMs: 1000 }]);
    // Counting goes on; the closed interval holds everything, the snapshot's figures included.
    agg.observe(T0 + 1000, T0 + 2000, []);
    agg.addCrossing(T0 + 1500, 'nb', 'car', 60);
    expect(agg.snapshot()).toMatchObject([{ volume: 2, occupancyPct: 50, observedMs: 2000 }]);
    expect(agg.closeUntil(T0 + 60_000)).toMatchObject([{ volume: 2, meanSpeedKmh: 55, observedMs: 2000 }]);
    expect(agg.snapshot()).toEqual([]);
  });

  it('rows without volume or occupancy are left out', () => {
    const agg = createIntervalAggregator({ cameraId: CAMERA, maxFrameGapMs: 2000 });
    agg.observe(T0, T0 + 1000, []);
    expect(agg.closeUntil(T0 + 60_000)).toEqual([]);
  });

  it('closes several intervals oldest first, each once', () => {
    const agg = createIntervalAggregator({ cameraId: CAMERA, maxFrameGapMs: 2000 });
    agg.addCrossing(T0 + 130_000, 'nb', 'car', 50);
    agg.addCrossing(T0 + 10_000, 'nb', 'car', 50);
    agg.addCrossing(T0 + 70_000, 'nb', 'car', 50);
    expect(agg.closeUntil(T0 + 180_000).map((r) => r.intervalStart)).toEqual([
      '2026-01-15T08:00:00.000Z',
      '2026-01-15T08:01:00.000Z',
      '2026-01-15T08:02:00.000Z',
    ]);
  });

  it('late contributions to an emitted interval are dropped, never re-emitted as a smaller row', () => {
    const agg = createIntervalAggregator({ cameraId: CAMERA, maxFrameGapMs: 2000 });
    agg.addCrossing(T0 + 10_000, 'nb', 'car', 50);
    expect(agg.closeUntil(T0 + 61_000)).toHaveLength(1);
    agg.addCrossing(T0 + 20_000, 'nb', 'car', 50);
    agg.observe(T0 + 59_000, T0 + 61_000, [{ lane: 'nb', class: 'car' }]);
    const later = agg.closeUntil(T0 + 200_000);
    expect(later.map((r) => [r.intervalStart, r.volume, r.occupancyPct])).toEqual([
      ['2026-01-15T08:01:00.000Z', 0, 100],
    ]);
  });

  it('closeUntil(Infinity) flushes everything, the open interval included', () => {
    const agg = createIntervalAggregator({ cameraId: CAMERA, maxFrameGapMs: 2000 });
    agg.addCrossing(T0 + 10_000, 'nb', 'car', 50);
    expect(agg.closeUntil(Number.POSITIVE_INFINITY)).toHaveLength(1);
  });
});
