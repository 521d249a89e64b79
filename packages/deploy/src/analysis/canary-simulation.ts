import type { TimedSamples } from './canary-samples.js';

/**
 * Seeded, synthetic canary steps: what the router log would hold for a baseline and a canary under
 * a load that comes and goes. The judge's tests and the power table in docs/canary-statistics.md
 * (bench/canary-power.ts) are computed from these, so the figures can be reproduced exactly. Pure:
 * the randomness is a seeded generator.
 */

/** mulberry32: a tiny seeded PRNG (same numbers on every machine and run). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimulatedStep {
  /** Length of the step in seconds. */
  seconds: number;
  /** Requests per second each side answers while it is sampled. */
  baselineRps: number;
  canaryRps: number;
  /**
   * The canary is sampled only from this second on (a later join, or a warm-up excluded on its side
   * alone, as with a long-running serving baseline); 0 = both sides from the start.
   */
  canaryFromSecond: number;
  /** Seconds [from, to) in which the host is loaded: every request of BOTH sides takes `factor` × longer. */
  spike?: { fromSecond: number; toSecond: number; factor: number };
  /**
   * A replica stalls (descheduled, a GC pause) in a window with this probability, each side on its
   * own: every request it accepts in that window waits `addMs` more. On a crowded host this is
   * what one process's bad second looks like; it is not shared with the other side.
   */
  stalls?: { probability: number; addMs: number };
  /** Service time in ms (uniform ±25 %, like docker/testsvc's LATENCY_MS). Default 20. */
  serviceMs?: number;
}

/**
 * One step's samples. Latency = service × U(0.75, 1.25) × canaryFactor (canary only) + an exponential
 * queueing tail (mean 2 ms), all × the spike factor in spike seconds, rounded to whole ms as HAProxy
 * logs it (so there are ties). Accept times are uniform within each second, from epoch 0.
 */
export function simulateStep(
  step: SimulatedStep,
  canaryFactor: number,
  seed: number,
): { baseline: TimedSamples; canary: TimedSamples } {
  const rnd = seededRandom(seed);
  const service = step.serviceMs ?? 20;
  const make = (rps: number, fromSecond: number, factor: number): TimedSamples => {
    const out: TimedSamples = { requests: 0, errors: 0, latenciesMs: [], atMs: [] };
    for (let s = fromSecond; s < step.seconds; s++) {
      const load =
        step.spike && s >= step.spike.fromSecond && s < step.spike.toSecond ? step.spike.factor : 1;
      const stall = step.stalls && rnd() < step.stalls.probability ? step.stalls.addMs : 0;
      for (let i = 0; i < rps; i++) {
        const ms = (service * (0.75 + 0.5 * rnd()) * factor - 2 * Math.log(1 - rnd())) * load + stall;
        out.requests++;
        out.latenciesMs.push(Math.max(0, Math.round(ms)));
        out.atMs.push(Math.floor((s + rnd()) * 1000));
      }
    }
    return out;
  };
  return {
    baseline: make(step.baselineRps, 0, 1),
    canary: make(step.canaryRps, step.canaryFromSecond, canaryFactor),
  };
}
