import { describe, expect, it } from 'vitest';
import {
  canaryStepWeights,
  canaryTrafficShares,
  type CanaryBaseline,
  type TrafficShares,
} from './canary-weights.js';

describe('canaryTrafficShares', () => {
  const cases: Array<{ name: string; percent: number; mode: CanaryBaseline; shares: TrafficShares }> = [
    {
      name: 'fresh, 5 %: the baseline matches the canary',
      percent: 5,
      mode: 'fresh',
      shares: { canary: 5, baseline: 5, serving: 90 },
    },
    {
      name: 'fresh, 25 %: half the traffic is compared',
      percent: 25,
      mode: 'fresh',
      shares: { canary: 25, baseline: 25, serving: 50 },
    },
    {
      name: 'fresh, 33 %: just under the cap',
      percent: 33,
      mode: 'fresh',
      shares: { canary: 33, baseline: 33, serving: 34 },
    },
    {
      name: 'fresh, 50 %: canary and baseline take everything',
      percent: 50,
      mode: 'fresh',
      shares: { canary: 50, baseline: 50, serving: 0 },
    },
    {
      name: 'fresh, 60 %: the baseline is capped at 100 − w',
      percent: 60,
      mode: 'fresh',
      shares: { canary: 60, baseline: 40, serving: 0 },
    },
    {
      name: 'fresh, 90 %: capped hard',
      percent: 90,
      mode: 'fresh',
      shares: { canary: 90, baseline: 10, serving: 0 },
    },
    {
      name: 'fresh, 100 %: promotion, the canary alone',
      percent: 100,
      mode: 'fresh',
      shares: { canary: 100, baseline: 0, serving: 0 },
    },
    {
      name: 'fresh, 0.5 %: fractions pass through',
      percent: 0.5,
      mode: 'fresh',
      shares: { canary: 0.5, baseline: 0.5, serving: 99 },
    },
    {
      name: 'serving, 25 %: the serving set is the baseline',
      percent: 25,
      mode: 'serving',
      shares: { canary: 25, baseline: 0, serving: 75 },
    },
    { name: 'serving, 50 %', percent: 50, mode: 'serving', shares: { canary: 50, baseline: 0, serving: 50 } },
    {
      name: 'serving, 100 %',
      percent: 100,
      mode: 'serving',
      shares: { canary: 100, baseline: 0, serving: 0 },
    },
  ];
  it.each(cases)('$name', ({ percent, mode, shares }) => {
    const got = canaryTrafficShares(percent, mode);
    expect(got).toEqual(shares);
    expect(got.canary + got.baseline + got.serving).toBeCloseTo(100, 10);
  });

  it('refuses weights outside (0, 100]', () => {
    for (const bad of [0, -5, 101, Number.NaN])
      expect(() => canaryTrafficShares(bad, 'fresh')).toThrow(RangeError);
  });
});

describe('canaryStepWeights', () => {
  const two = ['s0', 's1'];
  const cases: Array<{
    name: string;
    percent: number;
    mode: CanaryBaseline;
    servers: { canary: string[]; baseline: string[]; serving: string[] };
    weights: Record<string, number>;
  }> = [
    {
      name: 'fresh 25 %: 1 canary, 1 baseline, 2 serving — every replica carries the same load',
      percent: 25,
      mode: 'fresh',
      servers: { canary: ['c0'], baseline: ['b0'], serving: two },
      weights: { c0: 50, b0: 50, s0: 50, s1: 50 },
    },
    {
      name: 'fresh 5 %',
      percent: 5,
      mode: 'fresh',
      servers: { canary: ['c0'], baseline: ['b0'], serving: two },
      weights: { c0: 10, b0: 10, s0: 90, s1: 90 },
    },
    {
      name: 'fresh 50 %: the serving set keeps weight 1 (a fallback, ≈ 1 % of the traffic)',
      percent: 50,
      mode: 'fresh',
      servers: { canary: ['c0'], baseline: ['b0'], serving: two },
      weights: { c0: 100, b0: 100, s0: 1, s1: 1 },
    },
    {
      name: 'fresh 60 %: the baseline is capped at 40 %',
      percent: 60,
      mode: 'fresh',
      servers: { canary: ['c0'], baseline: ['b0'], serving: two },
      weights: { c0: 120, b0: 80, s0: 1, s1: 1 },
    },
    {
      name: 'fresh 10 % with 2 canaries and 2 baselines: each group spread evenly',
      percent: 10,
      mode: 'fresh',
      servers: { canary: ['c0', 'c1'], baseline: ['b0', 'b1'], serving: two },
      weights: { c0: 10, c1: 10, b0: 10, b1: 10, s0: 80, s1: 80 },
    },
    {
      name: 'fresh with no baseline servers: the baseline share stays with the serving set',
      percent: 25,
      mode: 'fresh',
      servers: { canary: ['c0'], baseline: [], serving: two },
      weights: { c0: 50, s0: 75, s1: 75 },
    },
    {
      name: 'fresh 0.1 %: a tiny share still gets weight 1 (never 0 below 100 %)',
      percent: 0.1,
      mode: 'fresh',
      servers: { canary: ['c0'], baseline: ['b0'], serving: two },
      weights: { c0: 1, b0: 1, s0: 100, s1: 100 },
    },
    {
      name: 'serving 10 %: the old weights (20 against 90 + 90)',
      percent: 10,
      mode: 'serving',
      servers: { canary: ['c0'], baseline: [], serving: two },
      weights: { c0: 20, s0: 90, s1: 90 },
    },
    {
      name: '100 %: canary at full weight, everything else 0',
      percent: 100,
      mode: 'fresh',
      servers: { canary: ['c0'], baseline: ['b0'], serving: two },
      weights: { c0: 100, b0: 0, s0: 0, s1: 0 },
    },
    {
      name: 'serving 90 % with one serving replica',
      percent: 90,
      mode: 'serving',
      servers: { canary: ['c0'], baseline: [], serving: ['s0'] },
      weights: { c0: 180, s0: 20 },
    },
  ];
  it.each(cases)('$name', ({ percent, mode, servers, weights }) => {
    const got = canaryStepWeights(percent, mode, servers);
    expect(Object.fromEntries(got.map((w) => [w.server, w.weight]))).toEqual(weights);
    for (const w of got) expect(w.weight).toBeLessThanOrEqual(256);
  });
});
