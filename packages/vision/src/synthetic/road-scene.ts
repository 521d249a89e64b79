/**
 * A ready-made scene: a straight four-lane road seen from a pole camera looking down it, two lanes
 * each way, a count line and an occupancy zone per lane, and a screen line across the whole road.
 */
import type { CountLine, SpeedCalibration, Zone } from '@its/contracts';
import type { Point } from '../geometry.js';
import { applyHomography, solveCalibration } from '../homography.js';
import { NO_NOISE, type LaneSpec, type NoiseSpec, type SceneSpec } from './scene.js';

/** The road's calibration: a 15 m wide, 75 m long stretch seen in perspective. */
export const ROAD_CALIBRATION: SpeedCalibration = {
  imagePoints: [
    { x: 0.4, y: 0.25 },
    { x: 0.6, y: 0.25 },
    { x: 0.95, y: 0.95 },
    { x: 0.05, y: 0.95 },
  ],
  groundPoints: [
    { x: -7.5, y: 80 },
    { x: 7.5, y: 80 },
    { x: 7.5, y: 5 },
    { x: -7.5, y: 5 },
  ],
};

const LANE_WIDTH = 3.5;
/** Ground y (m) of the per-lane count lines and of the screen line. */
export const LANE_LINE_Y = 30;
export const SCREEN_LINE_Y = 45;

export interface RoadSceneOptions {
  seed: number;
  durationS?: number;
  fps?: number;
  vehiclesPerMinutePerLane?: number;
  noise?: Partial<NoiseSpec>;
  startMs?: number;
  speedKmh?: [number, number];
}

export function createRoadScene(o: RoadSceneOptions): SceneSpec {
  const vpm = o.vehiclesPerMinutePerLane ?? 12;
  const speed = o.speedKmh ?? [40, 90];
  const lanes: LaneSpec[] = [
    {
      id: 'nb-1',
      centreX: -1.75,
      heading: 1,
      vehiclesPerMinute: vpm,
      speedKmh: speed,
      classMix: { car: 8, truck: 1, bus: 1 },
    },
    {
      id: 'nb-2',
      centreX: -5.25,
      heading: 1,
      vehiclesPerMinute: vpm,
      speedKmh: speed,
      classMix: { car: 6, truck: 2, motorcycle: 1, bicycle: 1 },
    },
    {
      id: 'sb-1',
      centreX: 1.75,
      heading: -1,
      vehiclesPerMinute: vpm,
      speedKmh: speed,
      classMix: { car: 8, truck: 1, bus: 1 },
    },
    {
      id: 'sb-2',
      centreX: 5.25,
      heading: -1,
      vehiclesPerMinute: vpm,
      speedKmh: speed,
      classMix: { car: 6, truck: 2, motorcycle: 1, bicycle: 1 },
    },
  ];
  const { groundToImage } = solveCalibration(ROAD_CALIBRATION);
  const toImage = (p: Point): Point => {
    const q = applyHomography(groundToImage, p)!;
    return { x: round6(q.x), y: round6(q.y) };
  };
  const lines: CountLine[] = lanes.map((l) => ({
    id: `${l.id}-line`,
    name: `Count line ${l.id}`,
    a: toImage({ x: l.centreX - LANE_WIDTH / 2, y: LANE_LINE_Y }),
    b: toImage({ x: l.centreX + LANE_WIDTH / 2, y: LANE_LINE_Y }),
    lane: l.id,
    // a is on the image left, b on the right: vehicles coming towards the camera move down the image,
    // from the line's left side to its right side — forward; those driving away are reverse.
    direction: l.heading === -1 ? 'forward' : 'reverse',
  }));
  lines.push({
    id: 'screen-line',
    name: 'Screen line, all lanes',
    a: toImage({ x: -2 * LANE_WIDTH, y: SCREEN_LINE_Y }),
    b: toImage({ x: 2 * LANE_WIDTH, y: SCREEN_LINE_Y }),
    lane: 'all',
    direction: 'both',
  });
  const zones: Zone[] = lanes.map((l) => ({
    id: `${l.id}-zone`,
    name: `Presence zone ${l.id}`,
    lane: l.id,
    polygon: [
      toImage({ x: l.centreX - LANE_WIDTH / 2, y: 40 }),
      toImage({ x: l.centreX + LANE_WIDTH / 2, y: 40 }),
      toImage({ x: l.centreX + LANE_WIDTH / 2, y: 20 }),
      toImage({ x: l.centreX - LANE_WIDTH / 2, y: 20 }),
    ],
  }));
  return {
    seed: o.seed,
    fps: o.fps ?? 15,
    durationS: o.durationS ?? 120,
    startMs: o.startMs ?? Date.UTC(2026, 0, 15, 8, 0, 20),
    frameAspect: 16 / 9,
    calibration: ROAD_CALIBRATION,
    lanes,
    lines,
    zones,
    groundRange: [0, 140],
    noise: { ...NO_NOISE, ...o.noise },
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
