/**
 * Deterministic synthetic traffic scenes with exact ground truth.
 *
 * Vehicles drive straight along lanes on a flat ground plane at constant speeds (metres, seconds).
 * Each frame, a vehicle's reference point — the middle of its end nearest the camera, on the road —
 * is projected into the image through the inverse of the camera's calibration homography and becomes
 * the bottom-centre of its box; the box's width and height come from the vehicle's size at the local
 * image scale. Because the calibration maps that bottom-centre back to exactly the simulated ground
 * point, the ground-truth speed of every vehicle is known exactly.
 *
 * Noise knobs imitate a real detector: box jitter, score noise, flicker (missed detections), occlusion
 * gaps of several frames, true occlusion behind nearer vehicles (hidden or low-score), class flips,
 * false positives, and near passes in adjacent lanes that provoke id switches.
 */
import type { CountLine, SpeedCalibration, VehicleClass, Zone } from '@its/contracts';
import type { FrameDetections } from '../camera-analytics.js';
import { signedDistanceToLine, lineParameterAtCrossing, type Box, type Point } from '../geometry.js';
import { applyHomography, solveCalibration, type Homography } from '../homography.js';
import { uuidV5 } from '../crossing-id.js';
import { createRandom, type Random } from './prng.js';

export interface LaneSpec {
  id: string;
  /** Lateral position of the lane centre on the ground (m). */
  centreX: number;
  /** +1: away from the camera (ground y grows, moves up the image); -1: towards it. */
  heading: 1 | -1;
  vehiclesPerMinute: number;
  speedKmh: [number, number];
  classMix: Partial<Record<VehicleClass, number>>;
}

export interface NoiseSpec {
  /** Standard deviation of box position and size noise, as a fraction of the box size. */
  boxJitter: number;
  /** Standard deviation added to a detection's score. */
  scoreNoise: number;
  /** Probability that a visible vehicle is missed in a frame (flicker). */
  missRate: number;
  /** Probability per vehicle of one occlusion gap while it is visible. */
  occlusionRate: number;
  /** Length of an occlusion gap, frames. */
  occlusionFrames: [number, number];
  /** Probability that a detection comes with a low score (0.15–0.45), as if partly occluded. */
  lowScoreRate: number;
  /** Probability that a detection carries a wrong class. */
  classFlipRate: number;
  /** Mean number of false-positive boxes per frame (one-frame blips at random places). */
  falsePositivesPerFrame: number;
  /** Fraction of vehicles spawned next to a vehicle in the adjacent same-heading lane (near passes). */
  nearPassRate: number;
  /** Hide a vehicle whose box is covered this much (0..1) by nearer vehicles; Infinity disables. */
  occlusionCover: number;
}

export const NO_NOISE: NoiseSpec = {
  boxJitter: 0,
  scoreNoise: 0,
  missRate: 0,
  occlusionRate: 0,
  occlusionFrames: [0, 0],
  lowScoreRate: 0,
  classFlipRate: 0,
  falsePositivesPerFrame: 0,
  nearPassRate: 0,
  occlusionCover: Infinity,
};

export const REALISTIC_NOISE: NoiseSpec = {
  boxJitter: 0.03,
  scoreNoise: 0.08,
  missRate: 0.1,
  occlusionRate: 0.25,
  occlusionFrames: [3, 8],
  lowScoreRate: 0.1,
  classFlipRate: 0.1,
  falsePositivesPerFrame: 0.3,
  nearPassRate: 0.2,
  occlusionCover: 0.7,
};

export interface SceneSpec {
  seed: number;
  fps: number;
  durationS: number;
  /** Time of the first frame (ms since the epoch, UTC). */
  startMs: number;
  frameAspect: number;
  calibration: SpeedCalibration;
  lanes: LaneSpec[];
  lines: CountLine[];
  zones: Zone[];
  /** Ground y range vehicles drive through (m); they start and end out of view. */
  groundRange: [number, number];
  noise: NoiseSpec;
}

export interface GroundTruthVehicle {
  id: number;
  lane: string;
  class: VehicleClass;
  speedKmh: number;
  x: number;
  heading: 1 | -1;
  /** Time (ms) at which the reference point is at groundRange[heading === 1 ? 0 : 1]. */
  startMs: number;
}

export interface GroundTruthCrossing {
  vehicleId: number;
  lineId: string;
  lane: string;
  class: VehicleClass;
  direction: 'forward' | 'reverse';
  /** Interpolated time the reference point crossed the line. */
  tsMs: number;
  speedKmh: number;
  /**
   * False for a crossing seen with less than a second of run-up or half a second of run-out (at the
   * start and end of a scene), or made while the vehicle was hidden behind nearer vehicles from half
   * a second before to a second after it: counting it or not are both right, so scoring ignores it.
   */
  observable: boolean;
}

export interface Scene {
  spec: SceneSpec;
  camera: {
    id: string;
    lines: CountLine[];
    zones: Zone[];
    calibration: SpeedCalibration;
    frameAspect: number;
  };
  frames: FrameDetections[];
  /** For each frame, the vehicle id behind each detection (0 for a false positive). */
  sources: number[][];
  vehicles: GroundTruthVehicle[];
  /** Every crossing of a line by a vehicle that was in full view on both sides of it. */
  crossings: GroundTruthCrossing[];
}

interface VehicleSize {
  width: number;
  height: number;
  length: number;
}

/** Typical vehicle sizes, metres. */
export const VEHICLE_SIZES: Record<VehicleClass, VehicleSize> = {
  car: { width: 1.8, height: 1.5, length: 4.5 },
  bus: { width: 2.55, height: 3.2, length: 12 },
  truck: { width: 2.5, height: 3.6, length: 10 },
  motorcycle: { width: 0.8, height: 1.4, length: 2.1 },
  bicycle: { width: 0.6, height: 1.7, length: 1.8 },
  person: { width: 0.5, height: 1.75, length: 0.5 },
};

/** Smallest box a detector finds, in frame heights. */
const MIN_BOX_HEIGHT = 0.025;

export function simulateScene(spec: SceneSpec): Scene {
  const rnd = createRandom(spec.seed);
  const { groundToImage } = solveCalibration(spec.calibration);
  const vehicles = spawnVehicles(spec, rnd);
  const frameCount = Math.floor(spec.durationS * spec.fps);
  const frameTs = (k: number) => spec.startMs + Math.round((k * 1000) / spec.fps);

  // Occlusion gaps are drawn per vehicle up front, as a start time relative to when it appears.
  const gaps = new Map<number, { fromMs: number; frames: number }>();
  for (const v of vehicles) {
    if (!rnd.chance(spec.noise.occlusionRate)) continue;
    gaps.set(v.id, {
      fromMs: v.startMs + rnd.uniform(0.2, 0.8) * travelTimeMs(spec, v),
      frames: rnd.int(spec.noise.occlusionFrames[0], spec.noise.occlusionFrames[1]),
    });
  }

  const frames: FrameDetections[] = [];
  const sources: number[][] = [];
  const visibleAt = new Map<number, Array<{ k: number; point: Point }>>();
  // Frames in which a vehicle is in view and not hidden behind a nearer one (detector noise aside).
  const unhiddenAt = new Map<number, Set<number>>();
  for (let k = 0; k < frameCount; k++) {
    const ts = frameTs(k);
    const inView: Array<{ v: GroundTruthVehicle; box: Box; distance: number }> = [];
    for (const v of vehicles) {
      const y = groundYAt(spec, v, ts);
      if (y === null) continue;
      const box = projectVehicleBox(groundToImage, v, y, spec.frameAspect);
      if (box === null) continue;
      inView.push({ v, box, distance: y });
      const list = visibleAt.get(v.id) ?? [];
      list.push({ k, point: { x: box.x + box.w / 2, y: box.y + box.h } });
      visibleAt.set(v.id, list);
    }
    const detections: Array<FrameDetections['detections'][number] & { source: number }> = [];
    for (const item of inView) {
      const gap = gaps.get(item.v.id);
      if (gap && ts >= gap.fromMs && ts < gap.fromMs + (gap.frames * 1000) / spec.fps) continue;
      const cover = coverByNearer(item, inView);
      if (cover >= spec.noise.occlusionCover) continue;
      const unhidden = unhiddenAt.get(item.v.id) ?? new Set<number>();
      unhidden.add(k);
      unhiddenAt.set(item.v.id, unhidden);
      if (rnd.chance(spec.noise.missRate)) continue;
      // A partly hidden vehicle scores lower the more of it is hidden (0.35 → ~0.55, 0.7 → ~0.25);
      // a random share of detections scores low anyway (blur, odd viewpoint).
      const partlyHidden = cover >= spec.noise.occlusionCover / 2;
      const score = partlyHidden
        ? clamp(0.85 * (1 - cover) + rnd.normal(spec.noise.scoreNoise), 0.05, 0.99)
        : rnd.chance(spec.noise.lowScoreRate)
          ? rnd.uniform(0.15, 0.45)
          : clamp(0.85 + rnd.normal(spec.noise.scoreNoise), 0.05, 0.99);
      const j = spec.noise.boxJitter;
      const box = {
        x: item.box.x + rnd.normal(j * item.box.w),
        y: item.box.y + rnd.normal(j * item.box.h),
        w: item.box.w * (1 + rnd.normal(j)),
        h: item.box.h * (1 + rnd.normal(j)),
      };
      const cls = rnd.chance(spec.noise.classFlipRate) ? flipClass(item.v.class, rnd) : item.v.class;
      detections.push({ class: cls, score: roundScore(score), box, source: item.v.id });
    }
    const fpCount = poisson(rnd, spec.noise.falsePositivesPerFrame);
    for (let i = 0; i < fpCount; i++) {
      const h = rnd.uniform(0.03, 0.1);
      const w = (h * rnd.uniform(0.8, 1.6)) / spec.frameAspect;
      detections.push({
        class: rnd.weighted<VehicleClass>({ car: 3, truck: 1, person: 1 }),
        score: roundScore(rnd.uniform(0.3, 0.75)),
        box: { x: rnd.uniform(0, 1 - w), y: rnd.uniform(0, 1 - h), w, h },
        source: 0,
      });
    }
    detections.sort((a, b) => b.score - a.score);
    frames.push({ tsMs: ts, detections: detections.map(({ source: _s, ...d }) => d) });
    sources.push(detections.map((d) => d.source));
  }

  const crossings = findTrueCrossings(spec, vehicles, visibleAt, unhiddenAt, frameTs);
  return {
    spec,
    camera: {
      id: uuidV5(`synthetic-scene-${spec.seed}`, '6ba7b811-9dad-11d1-80b4-00c04fd430c8'),
      lines: spec.lines,
      zones: spec.zones,
      calibration: spec.calibration,
      frameAspect: spec.frameAspect,
    },
    frames,
    sources,
    vehicles,
    crossings,
  };
}

function spawnVehicles(spec: SceneSpec, rnd: Random): GroundTruthVehicle[] {
  const vehicles: GroundTruthVehicle[] = [];
  const span = spec.groundRange[1] - spec.groundRange[0];
  // Spawning starts early enough that the road is already busy when the first frame is taken.
  const lead = (span / (40 / 3.6)) * 1000;
  const lastByLane = new Map<string, GroundTruthVehicle>();
  const schedule = (lane: LaneSpec, startMs: number, cls: VehicleClass, speedKmh: number) => {
    const prev = lastByLane.get(lane.id);
    let start = startMs;
    if (prev) {
      // No overtaking inside a lane: a faster follower starts late enough never to reach its leader.
      const headwayMs = 1500 + (VEHICLE_SIZES[prev.class].length / (speedKmh / 3.6)) * 1000;
      const catchUp = Math.max(0, (span / (prev.speedKmh / 3.6) - span / (speedKmh / 3.6)) * 1000);
      start = Math.max(start, prev.startMs + headwayMs + catchUp);
    }
    const v: GroundTruthVehicle = {
      id: vehicles.length + 1,
      lane: lane.id,
      class: cls,
      speedKmh,
      x: lane.centreX + rnd.uniform(-0.3, 0.3),
      heading: lane.heading,
      startMs: start,
    };
    vehicles.push(v);
    lastByLane.set(lane.id, v);
    return v;
  };
  const end = spec.startMs + spec.durationS * 1000;
  const events: Array<{ lane: LaneSpec; t: number }> = [];
  for (const lane of spec.lanes) {
    if (lane.vehiclesPerMinute <= 0) continue;
    let t = spec.startMs - lead;
    for (;;) {
      t += rnd.exponential(60_000 / lane.vehiclesPerMinute);
      if (t >= end) break;
      events.push({ lane, t });
    }
  }
  events.sort((a, b) => a.t - b.t);
  for (const e of events) {
    const cls = rnd.weighted<VehicleClass>(e.lane.classMix);
    const speed = rnd.uniform(e.lane.speedKmh[0], e.lane.speedKmh[1]);
    const v = schedule(e.lane, e.t, cls, speed);
    if (rnd.chance(spec.noise.nearPassRate)) {
      const neighbour = spec.lanes.find(
        (l) => l.id !== e.lane.id && l.heading === e.lane.heading && Math.abs(l.centreX - e.lane.centreX) < 4,
      );
      if (neighbour)
        schedule(
          neighbour,
          v.startMs,
          rnd.weighted<VehicleClass>(neighbour.classMix),
          speed * rnd.uniform(0.9, 1.1),
        );
    }
  }
  return vehicles;
}

function travelTimeMs(spec: SceneSpec, v: GroundTruthVehicle): number {
  return ((spec.groundRange[1] - spec.groundRange[0]) / (v.speedKmh / 3.6)) * 1000;
}

/** Ground y of the vehicle's reference point at time t, or null before it starts or after it ends. */
function groundYAt(spec: SceneSpec, v: GroundTruthVehicle, tMs: number): number | null {
  const d = ((tMs - v.startMs) / 1000) * (v.speedKmh / 3.6);
  const span = spec.groundRange[1] - spec.groundRange[0];
  if (d < 0 || d > span) return null;
  return v.heading === 1 ? spec.groundRange[0] + d : spec.groundRange[1] - d;
}

/**
 * The box of a vehicle whose nearest ground point is (v.x, y): bottom-centre at that point's image,
 * width from the vehicle's width at that depth, top from its height above its far end. Null when the
 * box is not wholly in the frame or too small to be detected.
 */
export function projectVehicleBox(
  H: Homography,
  v: Pick<GroundTruthVehicle, 'x' | 'class'>,
  y: number,
  aspect: number,
): Box | null {
  const size = VEHICLE_SIZES[v.class];
  const near = applyHomography(H, { x: v.x, y });
  const nearL = applyHomography(H, { x: v.x - size.width / 2, y });
  const nearR = applyHomography(H, { x: v.x + size.width / 2, y });
  const far = applyHomography(H, { x: v.x, y: y + size.length });
  const farL = applyHomography(H, { x: v.x - size.width / 2, y: y + size.length });
  const farR = applyHomography(H, { x: v.x + size.width / 2, y: y + size.length });
  if (!near || !nearL || !nearR || !far || !farL || !farR) return null;
  // Metres → frame heights at each end, from the lateral scale (x is scaled by the aspect).
  const scaleNear = (Math.abs(nearR.x - nearL.x) * aspect) / size.width;
  const scaleFar = (Math.abs(farR.x - farL.x) * aspect) / size.width;
  const bottom = near.y;
  const top = Math.min(bottom - size.height * scaleNear, far.y - size.height * scaleFar);
  const w = Math.abs(nearR.x - nearL.x);
  const box = { x: near.x - w / 2, y: top, w, h: bottom - top };
  if (box.h < MIN_BOX_HEIGHT || box.x < 0 || box.y < 0 || box.x + box.w > 1 || box.y + box.h > 1) return null;
  return box;
}

/** How much of the item's box is covered by the union of boxes of vehicles nearer the camera (approx.: max). */
function coverByNearer(
  item: { v: GroundTruthVehicle; box: Box; distance: number },
  all: ReadonlyArray<{ v: GroundTruthVehicle; box: Box; distance: number }>,
): number {
  let cover = 0;
  for (const o of all) {
    if (o.v.id === item.v.id || o.distance >= item.distance) continue;
    const ix = Math.min(item.box.x + item.box.w, o.box.x + o.box.w) - Math.max(item.box.x, o.box.x);
    const iy = Math.min(item.box.y + item.box.h, o.box.y + o.box.h) - Math.max(item.box.y, o.box.y);
    if (ix > 0 && iy > 0) cover = Math.max(cover, (ix * iy) / (item.box.w * item.box.h));
  }
  return cover;
}

function findTrueCrossings(
  spec: SceneSpec,
  vehicles: readonly GroundTruthVehicle[],
  visibleAt: ReadonlyMap<number, Array<{ k: number; point: Point }>>,
  unhiddenAt: ReadonlyMap<number, ReadonlySet<number>>,
  frameTs: (k: number) => number,
): GroundTruthCrossing[] {
  const out: GroundTruthCrossing[] = [];
  for (const v of vehicles) {
    const seen = visibleAt.get(v.id) ?? [];
    for (const line of spec.lines) {
      for (let i = 1; i < seen.length; i++) {
        const p = seen[i - 1]!;
        const q = seen[i]!;
        if (q.k !== p.k + 1) continue;
        const dp = signedDistanceToLine(p.point, line.a, line.b, spec.frameAspect);
        const dq = signedDistanceToLine(q.point, line.a, line.b, spec.frameAspect);
        if (dp === 0 || Math.sign(dp) === Math.sign(dq)) continue;
        const t = lineParameterAtCrossing(p.point, q.point, line.a, line.b, spec.frameAspect);
        if (t === null || t < 0 || t > 1) continue;
        // Only crossings seen with a run-up of a second and a run-out of half a second are
        // observable: a tracker needs a few frames to confirm a track and establish its side.
        // Nor is a crossing made while the vehicle is hidden behind nearer ones from half a second
        // before the line until a second after it: no camera sees that. Such crossings are kept but
        // flagged (random occlusion gaps and misses are detector noise and never unflag one).
        const unhidden = unhiddenAt.get(v.id) ?? new Set<number>();
        const hiddenThroughout = seen
          .filter((s) => s.k >= p.k - spec.fps / 2 && s.k <= q.k + spec.fps)
          .every((s) => !unhidden.has(s.k));
        const observable = i >= spec.fps && i <= seen.length - 1 - spec.fps / 2 && !hiddenThroughout;
        const direction = dp < 0 ? 'forward' : 'reverse';
        if (line.direction !== 'both' && line.direction !== direction) continue;
        const frac = dp / (dp - dq);
        out.push({
          vehicleId: v.id,
          lineId: line.id,
          lane: line.lane,
          class: v.class,
          direction,
          tsMs: frameTs(p.k) + frac * (frameTs(q.k) - frameTs(p.k)),
          speedKmh: v.speedKmh,
          observable,
        });
      }
    }
  }
  return out.sort((a, b) => a.tsMs - b.tsMs);
}

function flipClass(c: VehicleClass, rnd: Random): VehicleClass {
  const confusions: Record<VehicleClass, VehicleClass[]> = {
    car: ['truck'],
    truck: ['bus', 'car'],
    bus: ['truck'],
    motorcycle: ['bicycle', 'person'],
    bicycle: ['motorcycle', 'person'],
    person: ['bicycle'],
  };
  const options = confusions[c];
  return options[rnd.int(0, options.length - 1)]!;
}

function poisson(rnd: Random, mean: number): number {
  if (mean <= 0) return 0;
  const l = Math.exp(-mean);
  let k = 0;
  let p = rnd.next();
  while (p > l) {
    k += 1;
    p *= rnd.next();
  }
  return k;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function roundScore(s: number): number {
  return Math.round(s * 1000) / 1000;
}
