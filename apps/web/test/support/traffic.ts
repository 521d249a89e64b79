/**
 * Plausible synthetic traffic for the page test and the demo: deterministic (seeded PRNG, clock passed
 * in), with a daily profile (morning and evening peaks), class mix and speed that drops as volume rises.
 */
import type { IntervalAggregate, VehicleClass } from '@its/contracts';

export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Vehicles per minute per lane at the daily peak, by class. */
const PEAK_PER_MINUTE: Partial<Record<VehicleClass, number>> = {
  car: 14,
  truck: 2.2,
  bus: 0.8,
  motorcycle: 1.1,
};

/** Relative demand by hour of day (UTC): quiet nights, peaks at 08:00 and 17:00. */
export function dailyProfile(hour: number): number {
  const peak = (h: number, w: number) => Math.exp(-((hour - h) ** 2) / (2 * w * w));
  return 0.22 + 0.9 * peak(8, 1.3) + 0.8 * peak(17.5, 1.6) + 0.45 * peak(13, 3);
}

export type TrafficPlan = {
  cameraId: string;
  lanes: string[];
  fromMs: number;
  toMs: number;
  /** Spacing of the generated intervals; each carries the volume of the whole step (default 60 s). */
  stepMs?: number;
  seed?: number;
  /** Multiplies every volume (a busy arterial vs a side street). */
  scale?: number;
};

export function planTraffic(plan: TrafficPlan): IntervalAggregate[] {
  const step = plan.stepMs ?? 60_000;
  const rng = createRng(plan.seed ?? 1);
  const out: IntervalAggregate[] = [];
  const start = Math.ceil(plan.fromMs / step) * step;
  for (let t = start; t < plan.toMs; t += step) {
    const d = new Date(t);
    const demand = dailyProfile(d.getUTCHours() + d.getUTCMinutes() / 60) * (plan.scale ?? 1);
    plan.lanes.forEach((lane, li) => {
      const laneFactor = 1 - li * 0.18;
      for (const [cls, peak] of Object.entries(PEAK_PER_MINUTE) as [VehicleClass, number][]) {
        const mean = peak * demand * laneFactor * (step / 60_000);
        const volume = Math.max(0, Math.round(mean * (0.6 + rng() * 0.8)));
        if (volume === 0 && rng() < 0.6) continue;
        const congestion = Math.min(1, demand);
        const free = cls === 'truck' || cls === 'bus' ? 52 : 61;
        const speed = volume > 0 ? free - 22 * congestion + (rng() - 0.5) * 6 : null;
        out.push({
          cameraId: plan.cameraId,
          intervalStart: new Date(t).toISOString(),
          lane,
          class: cls,
          volume,
          occupancyPct: Math.min(
            100,
            Math.round((volume / (step / 60_000)) * 1.6 * (1 + rng() * 0.2) * 10) / 10,
          ),
          meanSpeedKmh: speed === null ? null : Math.round(speed * 10) / 10,
          p85SpeedKmh: speed === null ? null : Math.round((speed + 7 + rng() * 3) * 10) / 10,
        });
      }
    });
  }
  return out;
}

/** One fixed interval: `volume` vehicles of a class in a lane, occupancy 1.5 % per vehicle, p85 = mean + 8. */
export function fixedAggregate(
  cameraId: string,
  startMs: number,
  lane: string,
  cls: IntervalAggregate['class'],
  volume: number,
  speed: number,
): IntervalAggregate {
  return {
    cameraId,
    intervalStart: new Date(startMs).toISOString(),
    lane,
    class: cls,
    volume,
    occupancyPct: volume * 1.5,
    meanSpeedKmh: speed,
    p85SpeedKmh: speed + 8,
  };
}

/** A two-way count line across the frame for a lane, as the camera form would post it. */
export function countLine(id: string, lane: string) {
  return {
    id,
    name: `${lane} line`,
    lane,
    a: { x: 0.1, y: 0.6 },
    b: { x: 0.9, y: 0.6 },
    direction: 'both',
  };
}

export async function postJson(baseUrl: string, path: string, body: unknown, key?: string): Promise<unknown> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${path} → ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Posts in batches within the contract's limit (5000 per batch). */
export async function ingestAggregates(
  baseUrl: string,
  key: string,
  aggregates: IntervalAggregate[],
  batch = 2000,
): Promise<void> {
  for (let i = 0; i < aggregates.length; i += batch) {
    await postJson(baseUrl, '/api/v1/ingest/aggregates', { aggregates: aggregates.slice(i, i + batch) }, key);
  }
}
