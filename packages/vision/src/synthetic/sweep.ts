/**
 * Accuracy over many seeds: run each setting on each seed, score it, and summarise per setting.
 * The scene tests assert the brief's thresholds on a fixed table; the sweep measures how the
 * pipeline does on seeds nobody chose (src/bin/accuracy-sweep.ts prints it as a Markdown table).
 */
import { runScene, scoreScene } from './evaluate.js';
import { createRoadScene } from './road-scene.js';
import { REALISTIC_NOISE, simulateScene, type NoiseSpec } from './scene.js';

export interface SweepSetting {
  name: string;
  vehiclesPerMinutePerLane: number;
  fps: number;
  speedKmh: [number, number];
  noise: Partial<NoiseSpec>;
  durationS: number;
}

export const SWEEP_SETTINGS: SweepSetting[] = [
  {
    name: 'clean, 12 veh/min/lane',
    vehiclesPerMinutePerLane: 12,
    fps: 15,
    speedKmh: [40, 90],
    noise: {},
    durationS: 120,
  },
  {
    name: 'noisy, 12 veh/min/lane',
    vehiclesPerMinutePerLane: 12,
    fps: 15,
    speedKmh: [40, 90],
    noise: REALISTIC_NOISE,
    durationS: 120,
  },
  {
    name: 'noisy, 25 veh/min/lane',
    vehiclesPerMinutePerLane: 25,
    fps: 15,
    speedKmh: [40, 90],
    noise: REALISTIC_NOISE,
    durationS: 120,
  },
  {
    name: 'noisy, 10 fps',
    vehiclesPerMinutePerLane: 12,
    fps: 10,
    speedKmh: [40, 90],
    noise: REALISTIC_NOISE,
    durationS: 120,
  },
  {
    name: 'noisy, 25 fps',
    vehiclesPerMinutePerLane: 12,
    fps: 25,
    speedKmh: [40, 90],
    noise: REALISTIC_NOISE,
    durationS: 120,
  },
  {
    name: 'noisy, slow 15–40 km/h',
    vehiclesPerMinutePerLane: 12,
    fps: 15,
    speedKmh: [15, 40],
    noise: REALISTIC_NOISE,
    durationS: 120,
  },
];

export interface SweepSummary {
  setting: string;
  scenes: number;
  crossings: number;
  /** Lowest and mean count accuracy (line × direction cells) over the seeds. */
  worstCountAccuracy: number;
  meanCountAccuracy: number;
  worstClassCountAccuracy: number;
  speeds: number;
  /** Share of matched crossings whose speed is within ±10 % of the truth. */
  speedsWithin10Pct: number;
  maxSpeedError: number;
}

export function sweepScenes(settings: readonly SweepSetting[], seeds: readonly number[]): SweepSummary[] {
  return settings.map((setting) => {
    const scores = seeds.map((seed) => {
      const scene = simulateScene(
        createRoadScene({
          seed,
          vehiclesPerMinutePerLane: setting.vehiclesPerMinutePerLane,
          fps: setting.fps,
          speedKmh: setting.speedKmh,
          noise: setting.noise,
          durationS: setting.durationS,
        }),
      );
      return scoreScene(scene, runScene(scene));
    });
    const speeds = scores.flatMap((s) => s.speeds);
    return {
      setting: setting.name,
      scenes: scores.length,
      crossings: scores.reduce((n, s) => n + s.expected, 0),
      worstCountAccuracy: Math.min(...scores.map((s) => s.countAccuracy)),
      meanCountAccuracy: scores.reduce((n, s) => n + s.countAccuracy, 0) / scores.length,
      worstClassCountAccuracy: Math.min(...scores.map((s) => s.classCountAccuracy)),
      speeds: speeds.length,
      speedsWithin10Pct:
        speeds.length === 0 ? 1 : speeds.filter((s) => s.relativeError <= 0.1).length / speeds.length,
      maxSpeedError: Math.max(0, ...speeds.map((s) => s.relativeError)),
    };
  });
}

/** The summaries as a Markdown table. */
export function formatSweep(rows: readonly SweepSummary[]): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  const lines = [
    '| setting | scenes | crossings | count accuracy worst / mean | per-class worst | speeds within ±10 % | worst speed error |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.setting} | ${r.scenes} | ${r.crossings} | ${pct(r.worstCountAccuracy)} / ${pct(r.meanCountAccuracy)} | ${pct(r.worstClassCountAccuracy)} | ${pct(r.speedsWithin10Pct)} (${r.speeds}) | ${pct(r.maxSpeedError)} |`,
    ),
  ];
  return lines.join('\n');
}
