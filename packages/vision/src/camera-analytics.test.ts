import { CrossingEvent, IntervalAggregate, type CountLine, type Zone } from '@its/contracts';
import { describe, expect, it } from 'vitest';
import { createCameraAnalytics, type AnalyticsCamera, type FrameDetections } from './camera-analytics.js';
import { CalibrationError, VisionInputError } from './errors.js';
import { solveCalibration } from './homography.js';
import { projectVehicleBox } from './synthetic/scene.js';
import { ROAD_CALIBRATION } from './synthetic/road-scene.js';

const CAMERA_ID = '6f1c2b1e-3d4a-4b5c-8d6e-7f8091a2b3c4';
const T0 = Date.UTC(2026, 0, 15, 8, 0, 50);
const FPS = 15;
const { groundToImage } = solveCalibration(ROAD_CALIBRATION);

const LINE: CountLine = {
  id: 'sb-line',
  name: 'Southbound',
  a: { x: 0.05, y: 0.5 },
  b: { x: 0.95, y: 0.5 },
  lane: 'sb',
  direction: 'both',
};
const ZONE: Zone = {
  id: 'sb-zone',
  name: 'Southbound presence',
  lane: 'sb',
  polygon: [
    { x: 0.05, y: 0.55 },
    { x: 0.95, y: 0.55 },
    { x: 0.95, y: 0.7 },
    { x: 0.05, y: 0.7 },
  ],
};
const CAMERA: AnalyticsCamera = {
  id: CAMERA_ID,
  lines: [LINE],
  zones: [ZONE],
  calibration: ROAD_CALIBRATION,
  frameAspect: 16 / 9,
};

/** Frames of one car driving towards the camera at `kmh` on ground x = 1.75, from y0 to y1 metres. */
function drive(kmh: number, y0 = 70, y1 = 12, startMs = T0, cls: 'car' | 'truck' = 'car'): FrameDetections[] {
  const frames: FrameDetections[] = [];
  const v = kmh / 3.6;
  for (let k = 0; ; k++) {
    const t = k / FPS;
    const y = y0 - v * t;
    if (y < y1) break;
    const box = projectVehicleBox(groundToImage, { x: 1.75, class: cls }, y, 16 / 9);
    frames.push({
      tsMs: startMs + Math.round(t * 1000),
      detections: box ? [{ class: cls, score: 0.9, box }] : [],
    });
  }
  return frames;
}

function runAll(frames: FrameDetections[], camera = CAMERA) {
  const a = createCameraAnalytics(camera);
  const crossings: CrossingEvent[] = [];
  const closed: IntervalAggregate[] = [];
  for (const f of frames) {
    const r = a.processFrame(f);
    crossings.push(...r.crossings);
    closed.push(...r.closed);
  }
  return { a, crossings, closed };
}

describe('createCameraAnalytics: one vehicle', () => {
  it('counts one forward crossing with its lane, class, track and speed, in the contract shape', () => {
    const { crossings } = runAll(drive(60));
    expect(crossings).toHaveLength(1);
    const c = crossings[0]!;
    expect(CrossingEvent.parse(c)).toEqual(c);
    expect(c).toMatchObject({
      cameraId: CAMERA_ID,
      lineId: 'sb-line',
      lane: 'sb',
      class: 'car',
      direction: 'forward',
      trackId: '1',
    });
    expect(c.speedKmh).toBeCloseTo(60, 0);
  });

  it('a vehicle driving away crosses in reverse', () => {
    const frames = drive(50)
      .reverse()
      .map((f, i, all) => ({ ...f, tsMs: all[all.length - 1 - i]!.tsMs }));
    const { crossings } = runAll(frames);
    expect(crossings.map((c) => c.direction)).toEqual(['reverse']);
    expect(crossings[0]!.speedKmh).toBeCloseTo(50, 0);
  });

  it('without calibration the crossing has no speed', () => {
    const { crossings } = runAll(drive(60), { ...CAMERA, calibration: null });
    expect(crossings.map((c) => c.speedKmh)).toEqual([null]);
  });

  it('replaying the same frames gives the same events with the same ids', () => {
    const frames = [...drive(60), ...drive(80, 70, 12, T0 + 6000)];
    const first = runAll(frames);
    const second = runAll(frames);
    expect(second.crossings).toEqual(first.crossings);
    expect(new Set(first.crossings.map((c) => c.id)).size).toBe(2);
  });

  it('a crossing seen while the track is tentative is emitted when it is confirmed', () => {
    // The car is first detected three frames before the line; its track needs five hits.
    const frames = drive(60).filter((f) => f.detections.length > 0);
    const lineIndex = frames.findIndex((f) => f.detections[0]!.box.y + f.detections[0]!.box.h > 0.5);
    const earlier = frames.slice(lineIndex - 3);
    // No calibration: with one, the crossing would also wait for a settled speed (tested below).
    const b = createCameraAnalytics({ ...CAMERA, calibration: null }, { confirmFrames: 1, minHits: 5 });
    const counts = earlier.map((f) => b.processFrame(f).crossings.length);
    const firstCount = counts.findIndex((n) => n > 0);
    expect(counts.reduce((s, n) => s + n, 0)).toBe(1);
    expect(firstCount).toBe(4); // the fifth frame confirms the track, after the line was crossed
  });

  it('a tentative track that dies takes its pending crossing with it', () => {
    const frames = drive(60).filter((f) => f.detections.length > 0);
    const lineIndex = frames.findIndex((f) => f.detections[0]!.box.y + f.detections[0]!.box.h > 0.5);
    const blip = frames.slice(lineIndex - 3, lineIndex + 2);
    const a = createCameraAnalytics(CAMERA, { confirmFrames: 1, minHits: 20, tentativeMaxMisses: 0 });
    const total = [...blip, { tsMs: blip.at(-1)!.tsMs + 66, detections: [] }].reduce(
      (s, f) => s + a.processFrame(f).crossings.length,
      0,
    );
    expect(total).toBe(0);
  });
});

describe('createCameraAnalytics: crossings wait for a settled speed', () => {
  const frames = drive(60).filter((f) => f.detections.length > 0);
  const lineIndex = frames.findIndex((f) => f.detections[0]!.box.y + f.detections[0]!.box.h > 0.5);
  const late = frames.slice(lineIndex - 6);
  it('a track born just before the line emits its crossing once its speed rests on speedSettleMs', () => {
    const a = createCameraAnalytics(CAMERA, { speedSettleMs: 1000, speedWaitMs: 5000 });
    let emittedAt = -1;
    let speed: number | null = null;
    late.forEach((f) => {
      const c = a.processFrame(f).crossings;
      if (c.length > 0) {
        emittedAt = f.tsMs - late[0]!.tsMs;
        speed = c[0]!.speedKmh;
      }
    });
    expect(emittedAt).toBeGreaterThanOrEqual(1000);
    expect(speed!).toBeCloseTo(60, 0);
  });
  it('after speedWaitMs it is emitted with whatever speed there is', () => {
    const a = createCameraAnalytics(CAMERA, { speedSettleMs: 60_000, speedWaitMs: 300 });
    const emitted = late.flatMap((f) => a.processFrame(f).crossings);
    expect(emitted).toHaveLength(1);
  });
  it('a confirmed track that dies still emits the crossing that was waiting', () => {
    const a = createCameraAnalytics(CAMERA, { speedSettleMs: 60_000, speedWaitMs: 60_000, maxAge: 1 });
    const upToLine = late.slice(0, 10);
    const during = upToLine.flatMap((f) => a.processFrame(f).crossings);
    const last = upToLine.at(-1)!.tsMs;
    const after = [1, 2, 3].flatMap((k) => a.processFrame({ tsMs: last + k * 66, detections: [] }).crossings);
    expect(during).toEqual([]);
    expect(after).toHaveLength(1);
  });
});

describe('createCameraAnalytics: tracks, zones and aggregates', () => {
  it('exposes track snapshots with ground position, speed and zone dwell', () => {
    const frames = drive(36);
    const a = createCameraAnalytics(CAMERA);
    let seenInZone = false;
    for (const f of frames) {
      a.processFrame(f);
      const t = a.tracks[0];
      if (t && t.zones.length > 0) {
        seenInZone = true;
        expect(t.zones[0]!.zoneId).toBe('sb-zone');
        expect(t.zones[0]!.dwellMs).toBe(f.tsMs - t.zones[0]!.enteredAtMs);
        expect(t.speedKmh).toBeCloseTo(36, 0);
        expect(t.ground!.x).toBeCloseTo(1.75, 1);
        expect(t.detectionIndex).toBe(0);
      }
    }
    expect(seenInZone).toBe(true);
    expect(a.tracksAlive).toBe(1);
  });

  it('closes the interval when a frame after its end arrives, with volume, speed and occupancy', () => {
    // 08:00:50 → the car crosses within the 08:00 minute; frames continue into 08:01.
    const frames = drive(60);
    const empty = Array.from({ length: 30 }, (_, i) => ({
      tsMs: frames.at(-1)!.tsMs + (i + 1) * 500,
      detections: [],
    }));
    const { closed, a } = runAll([...frames, ...empty]);
    expect(closed).toHaveLength(1);
    const row = closed[0]!;
    expect(IntervalAggregate.parse(row)).toEqual(row);
    expect(row).toMatchObject({
      intervalStart: '2026-01-15T08:00:00.000Z',
      lane: 'sb',
      class: 'car',
      volume: 1,
    });
    expect(row.meanSpeedKmh).toBeCloseTo(60, 0);
    expect(row.p85SpeedKmh).toBe(row.meanSpeedKmh);
    expect(row.occupancyPct).toBeGreaterThan(0);
    expect(row.occupancyPct).toBeLessThan(20);
    expect(a.flush(Number.POSITIVE_INFINITY)).toEqual([]);
  });

  it('flush(nowMs) closes intervals that ended by nowMs, and Infinity closes the open one', () => {
    const { a, closed } = runAll(drive(60));
    expect(closed).toEqual([]);
    expect(a.flush(T0 + 5000)).toEqual([]);
    const out = a.flush(Date.UTC(2026, 0, 15, 8, 1, 0));
    expect(out.map((r) => [r.intervalStart, r.volume])).toEqual([['2026-01-15T08:00:00.000Z', 1]]);
    for (const f of drive(60, 70, 12, Date.UTC(2026, 0, 15, 8, 1, 10))) a.processFrame(f);
    expect(a.flush(Number.POSITIVE_INFINITY).map((r) => [r.intervalStart, r.volume])).toEqual([
      ['2026-01-15T08:01:00.000Z', 1],
    ]);
  });

  it('a lost track coasts in its zone for zoneCoastFrames, then leaves it', () => {
    const frames = drive(20).filter((f) => {
      const d = f.detections[0];
      return d && d.box.y + d.box.h > 0.56 && d.box.y + d.box.h < 0.6;
    });
    const a = createCameraAnalytics(CAMERA, { zoneCoastFrames: 2, minHits: 1 });
    for (const f of frames) a.processFrame(f);
    const last = frames.at(-1)!.tsMs;
    const zonesAfter = [1, 2, 3].map((k) => {
      a.processFrame({ tsMs: last + k * 66, detections: [] });
      return a.tracks[0]!.zones.length;
    });
    expect(zonesAfter).toEqual([1, 1, 0]);
  });
});

describe('createCameraAnalytics: bad input', () => {
  const ok = { class: 'car' as const, score: 0.9, box: { x: 0.1, y: 0.1, w: 0.1, h: 0.1 } };
  it.each([
    {
      name: 'non-finite time',
      frame: { tsMs: Number.NaN, detections: [] },
      msg: /^frame\.tsMs: must be a finite number/,
    },
    {
      name: 'missing detections',
      frame: { tsMs: T0 } as FrameDetections,
      msg: /^frame\.detections: must be an array/,
    },
    {
      name: 'unknown class',
      frame: { tsMs: T0, detections: [{ ...ok, class: 'boat' as never }] },
      msg: /^frame\.detections\[0\]\.class: must be one of car/,
    },
    {
      name: 'score above 1',
      frame: { tsMs: T0, detections: [ok, { ...ok, score: 2 }] },
      msg: /^frame\.detections\[1\]\.score/,
    },
    {
      name: 'NaN box',
      frame: { tsMs: T0, detections: [{ ...ok, box: { ...ok.box, h: Number.NaN } }] },
      msg: /^frame\.detections\[0\]\.box\.h/,
    },
  ])('rejects $name, naming the field', ({ frame, msg }) => {
    const a = createCameraAnalytics(CAMERA);
    expect(() => a.processFrame(frame)).toThrow(VisionInputError);
    expect(() => a.processFrame(frame)).toThrow(msg);
  });
  it.each([
    { name: 'the same time twice', second: T0 },
    { name: 'time going backwards', second: T0 - 1 },
  ])('rejects $name', ({ second }) => {
    const a = createCameraAnalytics(CAMERA);
    a.processFrame({ tsMs: T0, detections: [] });
    expect(() => a.processFrame({ tsMs: second, detections: [] })).toThrow(/^frame\.tsMs: must increase/);
  });
  it('rejects a degenerate calibration at creation, naming the field', () => {
    const bad = {
      ...ROAD_CALIBRATION,
      imagePoints: [
        ROAD_CALIBRATION.imagePoints[0]!,
        ROAD_CALIBRATION.imagePoints[0]!,
        ...ROAD_CALIBRATION.imagePoints.slice(2),
      ],
    };
    expect(() => createCameraAnalytics({ ...CAMERA, calibration: bad })).toThrow(CalibrationError);
    expect(() => createCameraAnalytics({ ...CAMERA, calibration: bad })).toThrow(
      /^camera\.calibration\.imagePoints:/,
    );
  });
  it.each([0, -1, Number.NaN])('rejects frameAspect %s', (frameAspect) => {
    expect(() => createCameraAnalytics({ ...CAMERA, frameAspect })).toThrow(/^camera\.frameAspect:/);
  });
  it('rejects bad options', () => {
    expect(() => createCameraAnalytics(CAMERA, { minHits: 0 })).toThrow(/^options\.minHits/);
  });
  it('rejects a non-numeric flush time', () => {
    expect(() => createCameraAnalytics(CAMERA).flush(Number.NaN)).toThrow(/^nowMs:/);
  });
});
