import { describe, expect, it } from 'vitest';
import { seededRandom } from './canary-simulation.js';
import { InternalError } from '@its/core';
import {
  compareProportions,
  mannWhitneyU,
  normalCdf,
  normalQuantile,
  percentile,
  requiredSamplesForProportion,
  hodgesLehmann,
  minWindowsFor,
  stratify,
  vanElterenTest,
  wilcoxonSignedRank,
  windowDifferences,
} from './statistics.js';

/**
 * Reference values, unless a case says "by hand", were computed with SciPy 1.17.1:
 *   scipy.stats.mannwhitneyu(canary, baseline, alternative='greater' | 'two-sided', method='exact' | 'asymptotic')
 *   scipy.stats.fisher_exact([[canaryErrors, canaryOk], [baselineErrors, baselineOk]], alternative='greater')
 *   scipy.stats.norm.cdf / norm.sf / norm.ppf, and the pooled z by its formula with norm.sf for p.
 */

function expectRelative(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThan(tolerance);
}

/** mulberry32, the simulator's seeded generator: every case sees the same samples on every run. */
const seeded = seededRandom;

const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));

describe('mannWhitneyU', () => {
  const cases: {
    name: string;
    baseline: number[];
    canary: number[];
    u: number;
    pGreater: number;
    pTwoSided: number;
    method: 'exact' | 'normal';
  }[] = [
    {
      // By hand: every canary value is above every baseline value, U = 5·5 = 25, and only 1 of the
      // C(10, 5) = 252 equally likely arrangements is that extreme: p = 1/252.
      name: 'complete separation, exact: p = 1/252',
      baseline: [1, 2, 3, 4, 5],
      canary: [6, 7, 8, 9, 10],
      u: 25,
      pGreater: 1 / 252,
      pTwoSided: 2 / 252,
      method: 'exact',
    },
    {
      name: 'canary smaller, exact (SciPy)',
      baseline: [19, 22, 16, 29, 24],
      canary: [20, 11, 17, 12],
      u: 3,
      pGreater: 0.9682539682539683,
      pTwoSided: 0.1111111111111111,
      method: 'exact',
    },
    {
      name: 'interleaved 30 × 40 without ties, exact (SciPy)',
      baseline: range(30, (i) => ((i * 37) % 101) + 0.5),
      canary: range(40, (j) => ((j * 53) % 97) + 10.25),
      u: 660,
      pGreater: 0.24127676318993846,
      pTwoSided: 0.4825535263798769,
      method: 'exact',
    },
    {
      name: 'ties across and within samples: average ranks, tie-corrected variance (SciPy asymptotic)',
      baseline: [1, 2, 2, 3, 3, 3, 4, 5],
      canary: [3, 4, 4, 5, 5, 6, 7, 7, 8],
      u: 64.5,
      pGreater: 0.0031865669190429364,
      pTwoSided: 0.006373133838085873,
      method: 'normal',
    },
    {
      name: '60 × 60 shifted by 7.1, beyond the exact limit (SciPy asymptotic)',
      baseline: range(60, (i) => i * 1.3),
      canary: range(60, (i) => i * 1.3 + 7.1),
      u: 2115,
      pGreater: 0.049400239960017425,
      pTwoSided: 0.09880047992003485,
      method: 'normal',
    },
  ];

  it.each(cases)('$name', ({ baseline, canary, u, pGreater, pTwoSided, method }) => {
    const r = mannWhitneyU(baseline, canary);
    expect(r.u).toBe(u);
    expect(r.n1).toBe(baseline.length);
    expect(r.n2).toBe(canary.length);
    expect(r.method).toBe(method);
    expectRelative(r.pGreater, pGreater, 1e-9);
    expectRelative(r.pTwoSided, pTwoSided, 1e-9);
  });

  it.each([
    { name: 'both constant and equal', baseline: [5, 5, 5], canary: [5, 5, 5, 5], u: 6 },
    {
      name: 'one shared value, large',
      baseline: range(1000, () => 12),
      canary: range(800, () => 12),
      u: 400000,
    },
    { name: 'empty canary', baseline: [1, 2, 3], canary: [], u: 0 },
    { name: 'empty baseline', baseline: [], canary: [1, 2, 3], u: 0 },
  ])('no variance ($name): z 0, p 1', ({ baseline, canary, u }) => {
    const r = mannWhitneyU(baseline, canary);
    expect(r).toMatchObject({ u, z: 0, pGreater: 1, pTwoSided: 1 });
  });

  it('constant but different samples are a complete separation, not "no variance"', () => {
    const r = mannWhitneyU(
      range(60, () => 10),
      range(60, () => 11),
    );
    expect(r.u).toBe(3600);
    expect(r.pGreater).toBeLessThan(1e-20);
  });

  it('is antisymmetric: swapping the sides mirrors U and z and keeps the two-sided p', () => {
    const rnd = seeded(11);
    const a = range(70, () => Math.round(rnd() * 50));
    const b = range(90, () => Math.round(rnd() * 50) + 8);
    const ab = mannWhitneyU(a, b);
    const ba = mannWhitneyU(b, a);
    expect(ab.u + ba.u).toBe(70 * 90);
    expect(ab.z).toBeCloseTo(-ba.z, 12);
    expect(ab.pTwoSided).toBeCloseTo(ba.pTwoSided, 12);
    expect(ab.pGreater).toBeLessThan(0.05);
    expect(ba.pGreater).toBeGreaterThan(0.95);
  });

  it('depends only on ranks: a monotone transform of both samples changes nothing', () => {
    const rnd = seeded(5);
    const a = range(200, () => 1 + rnd() * 100);
    const b = range(150, () => 1 + rnd() * 110);
    const plain = mannWhitneyU(a, b);
    const logged = mannWhitneyU(a.map(Math.log), b.map(Math.log));
    expect(logged).toEqual(plain);
  });

  it('exact and normal p agree closely at the exact limit (50 × 50)', () => {
    const rnd = seeded(3);
    const a = range(50, () => rnd() * 100);
    const b = range(50, () => rnd() * 100 + 12);
    const exact = mannWhitneyU(a, b);
    // One tie forces the normal approximation on otherwise identical data.
    const normal = mannWhitneyU([...a.slice(0, 49), a[0] as number], b);
    expect(exact.method).toBe('exact');
    expect(normal.method).toBe('normal');
    expect(Math.abs(exact.pGreater - normal.pGreater)).toBeLessThan(0.01);
  });

  it('handles 50 000 samples per side (sort-based): identical samples give U = n1·n2/2, a 2 % shift is detected', () => {
    const rnd = seeded(42);
    const base = range(50_000, () => Math.round((20 - 10 * Math.log(rnd())) * 10) / 10);
    const same = mannWhitneyU(base, base);
    expect(same.u).toBe((50_000 * 50_000) / 2);
    expect(same.z).toBe(0);
    expect(same.pTwoSided).toBe(1);
    const shifted = mannWhitneyU(
      base,
      base.map((v) => v * 1.02),
    );
    expect(shifted.method).toBe('normal');
    expect(shifted.z).toBeGreaterThan(3);
    expect(shifted.pGreater).toBeLessThan(1e-3);
  });

  it('does not reorder its inputs', () => {
    const a = [3, 1, 2];
    const b = [6, 4, 5];
    mannWhitneyU(a, b);
    expect(a).toEqual([3, 1, 2]);
    expect(b).toEqual([6, 4, 5]);
  });

  it.each([
    { baseline: [1, Number.NaN], canary: [1], path: 'baseline[1]' },
    { baseline: [1], canary: [Number.POSITIVE_INFINITY], path: 'canary[0]' },
  ])('rejects a non-finite value, naming $path', ({ baseline, canary, path }) => {
    expect(() => mannWhitneyU(baseline, canary)).toThrow(InternalError);
    expect(() => mannWhitneyU(baseline, canary)).toThrow(path);
  });
});

describe('compareProportions', () => {
  it.each([
    {
      name: 'z-test: 26/500 vs 2/1500',
      b: [2, 1500],
      c: [26, 500],
      z: 8.350942469184881,
      p: 3.3860201308253567e-17,
      method: 'z-test',
    },
    {
      name: 'z-test: 50/1000 vs 30/1000',
      b: [30, 1000],
      c: [50, 1000],
      z: 2.2821773229381925,
      p: 0.011239436683062624,
      method: 'z-test',
    },
    {
      name: 'Fisher: 3/60 vs 0/540 (expected cell 0.3)',
      b: [0, 540],
      c: [3, 60],
      z: 5.209191721559095,
      p: 0.0009553268825969705,
      method: 'fisher-exact',
    },
    {
      name: 'Fisher: 2/20 vs 1/200',
      b: [1, 200],
      c: [2, 20],
      p: 0.022358814994230355,
      method: 'fisher-exact',
    },
    {
      name: 'Fisher: canary lower, 1/10 vs 3/10',
      b: [3, 10],
      c: [1, 10],
      p: 0.956656346749226,
      method: 'fisher-exact',
    },
    {
      name: 'Fisher: 2/100 vs 0/1000',
      b: [0, 1000],
      c: [2, 100],
      p: 0.00818926296633303,
      method: 'fisher-exact',
    },
    {
      name: 'Fisher: 5/400 vs 4/4000',
      b: [4, 4000],
      c: [5, 400],
      p: 0.0005606758562608085,
      method: 'fisher-exact',
    },
  ])('$name', ({ b, c, z, p, method }) => {
    const r = compareProportions(b[0] as number, b[1] as number, c[0] as number, c[1] as number);
    expect(r.method).toBe(method);
    expectRelative(r.pGreater, p, 1e-7);
    if (z !== undefined) expectRelative(r.z, z, 1e-12);
  });

  it.each([
    { name: 'no errors on either side', args: [0, 1000, 0, 100] as const },
    { name: 'every request failed on both sides', args: [50, 50, 60, 60] as const },
    { name: 'an empty side', args: [3, 100, 0, 0] as const },
  ])('$name: z 0, p 1', ({ args }) => {
    const r = compareProportions(...args);
    expect(r.z).toBe(0);
    expect(r.pGreater).toBe(1);
  });

  it('is one-sided: a lower canary error rate is never significant', () => {
    const r = compareProportions(50, 1000, 10, 1000);
    expect(r.z).toBeLessThan(-4);
    expect(r.pGreater).toBeGreaterThan(0.999);
  });

  it('Fisher p stays finite and tiny for an extreme table instead of overflowing factorials', () => {
    const r = compareProportions(0, 50_000, 4, 5);
    expect(r.method).toBe('fisher-exact');
    expect(r.pGreater).toBeGreaterThan(0);
    expect(r.pGreater).toBeLessThan(1e-12);
  });

  it.each([
    { args: [-1, 10, 0, 10] as const, message: 'baseline errors' },
    { args: [0, 10, 11, 10] as const, message: 'canary errors' },
    { args: [0, 1.5, 0, 10] as const, message: 'baseline requests' },
  ])('rejects impossible counts ($message)', ({ args, message }) => {
    expect(() => compareProportions(...args)).toThrow(message);
  });
});

describe('percentile (nearest rank)', () => {
  const oneToTwenty = range(20, (i) => 20 - i);
  it.each([
    { values: [], p: 50, expected: undefined },
    { values: [5, 1, 3, 2, 4], p: 50, expected: 3 },
    { values: [5, 1, 3, 2, 4], p: 0, expected: 1 },
    { values: [5, 1, 3, 2, 4], p: 100, expected: 5 },
    { values: [7], p: 99, expected: 7 },
    { values: oneToTwenty, p: 95, expected: 19 },
    { values: oneToTwenty, p: 99, expected: 20 },
    { values: range(100, (i) => i + 1), p: 99, expected: 99 },
    { values: [10, 2, 33], p: 34, expected: 10 },
  ])('p$p of $values.length values is $expected', ({ values, p, expected }) => {
    expect(percentile(values, p)).toBe(expected);
  });

  it('rejects p outside [0, 100] instead of guessing a scale', () => {
    expect(() => percentile([1, 2], 101)).toThrow(InternalError);
    expect(() => percentile([1, 2], -1)).toThrow('p must be in [0, 100]');
  });

  it('does not sort its input in place', () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('normalCdf and normalQuantile', () => {
  it.each([
    { z: 0, expected: 0.5 },
    { z: 1.96, expected: 0.9750021048517795 },
    { z: -3, expected: 0.0013498980316300933 },
    { z: -5, expected: 2.866515718791933e-7 },
    { z: -10, expected: 7.61985302416047e-24 },
    { z: 8, expected: 0.9999999999999993 },
  ])('Φ($z) = $expected', ({ z, expected }) => {
    expectRelative(normalCdf(z), expected, 1e-7);
  });

  it('keeps the upper tail as tail: Φ(-8) relative to SciPy norm.sf(8)', () => {
    expectRelative(normalCdf(-8), 6.22096057427174e-16, 1e-7);
  });

  it('saturates far out instead of returning NaN', () => {
    expect(normalCdf(-40)).toBe(0);
    expect(normalCdf(40)).toBe(1);
    expect(() => normalCdf(Number.NaN)).toThrow(InternalError);
  });

  it.each([
    { p: 0.95, expected: 1.6448536269514722 },
    { p: 0.8, expected: 0.8416212335729143 },
    { p: 0.999, expected: 3.090232306167813 },
    { p: 1e-10, expected: -6.361340902404056 },
  ])('Φ⁻¹($p) = $expected', ({ p, expected }) => {
    expectRelative(normalQuantile(p), expected, 1e-10);
  });

  it('Φ⁻¹(0.5) = 0 and rejects 0 and 1', () => {
    expect(Math.abs(normalQuantile(0.5))).toBeLessThan(1e-15);
    expect(() => normalQuantile(0)).toThrow(InternalError);
    expect(() => normalQuantile(1)).toThrow(InternalError);
  });
});

describe('requiredSamplesForProportion', () => {
  // SciPy: ((norm.ppf(1-a)·√(2p̄q̄) + norm.ppf(power)·√(p1q1+p2q2)) / δ)², rounded up.
  it.each([
    { rate: 0, increase: 0.01, alpha: 0.05, power: 0.8, expected: 615 }, // 614.117
    { rate: 0.001, increase: 0.01, alpha: 0.05, power: 0.8, expected: 737 }, // 736.408
    { rate: 0.1, increase: 0.05, alpha: 0.05, power: 0.8, expected: 540 }, // 539.926
  ])(
    '$rate → +$increase at alpha $alpha, power $power: $expected per side',
    ({ rate, increase, alpha, power, expected }) => {
      expect(requiredSamplesForProportion(rate, increase, alpha, power)).toBe(expected);
    },
  );

  it('asks for more samples for more power, a smaller effect or a stricter alpha', () => {
    const base = requiredSamplesForProportion(0.01, 0.01, 0.05, 0.8);
    expect(requiredSamplesForProportion(0.01, 0.01, 0.05, 0.95)).toBeGreaterThan(base);
    expect(requiredSamplesForProportion(0.01, 0.005, 0.05, 0.8)).toBeGreaterThan(base);
    expect(requiredSamplesForProportion(0.01, 0.01, 0.01, 0.8)).toBeGreaterThan(base);
  });

  it.each([
    { args: [1, 0.01, 0.05, 0.8] as const, message: 'baselineRate' },
    { args: [0.5, 0.6, 0.05, 0.8] as const, message: 'minDetectableIncrease' },
    { args: [0.5, 0, 0.05, 0.8] as const, message: 'minDetectableIncrease' },
    { args: [0.01, 0.01, 0, 0.8] as const, message: 'alpha' },
    { args: [0.01, 0.01, 0.05, 1] as const, message: 'power' },
  ])('rejects $message out of range', ({ args, message }) => {
    expect(() => requiredSamplesForProportion(...args)).toThrow(message);
  });
});

describe('stratify', () => {
  it('groups samples by window of accept time and keeps only windows both sides answered in', () => {
    const { strata, unpaired } = stratify(
      { latenciesMs: [10, 11, 12, 13], atMs: [0, 999, 1000, 2500] },
      { latenciesMs: [20, 21, 22], atMs: [500, 1999, 3000] },
      1000,
    );
    expect(strata).toEqual([
      { baseline: [10, 11], canary: [20] },
      { baseline: [12], canary: [21] },
    ]);
    // Window 2 (2000–2999 ms) has only a baseline sample, window 3 only a canary one.
    expect(unpaired).toEqual({ baseline: 1, canary: 1 });
  });

  it('refuses a non-positive window and timestamps that do not match the samples', () => {
    const side = { latenciesMs: [1], atMs: [0] };
    expect(() => stratify(side, side, 0)).toThrow(InternalError);
    expect(() => stratify({ latenciesMs: [1, 2], atMs: [0] }, side, 1000)).toThrow(InternalError);
    expect(() => stratify({ latenciesMs: [1], atMs: [Number.NaN] }, side, 1000)).toThrow(InternalError);
  });
});

describe('vanElterenTest', () => {
  const cases: Array<{ name: string; strata: Array<{ baseline: number[]; canary: number[] }>; z: number }> = [
    {
      // By hand: U = 9, E U = 4.5, Var U = 3·3/12 · 7 = 5.25 → z = 4.5 / √5.25.
      name: 'one stratum: the uncorrected Mann-Whitney z',
      strata: [{ baseline: [1, 2, 3], canary: [4, 5, 6] }],
      z: 4.5 / Math.sqrt(5.25),
    },
    {
      // Two equal strata, equal weights: the numerator doubles, the variance doubles: z × √2.
      name: 'two identical strata: √2 times the evidence',
      strata: [
        { baseline: [1, 2, 3], canary: [4, 5, 6] },
        { baseline: [1, 2, 3], canary: [4, 5, 6] },
      ],
      z: Math.SQRT2 * (4.5 / Math.sqrt(5.25)),
    },
    {
      // Ranks are within a stratum: a window where everything is 100 ms slower says the same.
      name: 'a stratum shifted by load as a whole counts the same',
      strata: [
        { baseline: [1, 2, 3], canary: [4, 5, 6] },
        { baseline: [101, 102, 103], canary: [104, 105, 106] },
      ],
      z: Math.SQRT2 * (4.5 / Math.sqrt(5.25)),
    },
    {
      // By hand: U = 2 of 4 (ties count half), E U = 2: no tendency.
      name: 'canary in the middle: z 0',
      strata: [{ baseline: [1, 3], canary: [2, 2] }],
      z: 0,
    },
    {
      name: 'canary faster: negative z',
      strata: [{ baseline: [4, 5, 6], canary: [1, 2, 3] }],
      z: -4.5 / Math.sqrt(5.25),
    },
  ];
  it.each(cases)('$name', ({ strata, z }) => {
    const r = vanElterenTest(strata);
    expect(r.z).toBeCloseTo(z, 10);
    expect(r.pGreater).toBeCloseTo(normalCdf(-z), 10);
  });

  it('weights strata by 1/(N+1): a big stratum does not drown a small one', () => {
    // By hand: stratum A (1 vs 1, U = 1, E = 0.5, Var = 1/12·3 = 0.25, w = 1/3) and stratum B
    // (2 vs 2, all equal: U = 2, E = 2, Var = 4/12·(5 − (64 − 4)/12) = 0, w = 1/5).
    const r = vanElterenTest([
      { baseline: [1], canary: [2] },
      { baseline: [7, 7], canary: [7, 7] },
    ]);
    expect(r.z).toBeCloseTo(((1 / 3) * 0.5) / Math.sqrt((1 / 9) * 0.25), 10);
    expect(r).toMatchObject({ strata: 2, n1: 3, n2: 3 });
  });

  it('no strata, or nothing varies: z 0, p 1', () => {
    expect(vanElterenTest([])).toEqual({ z: 0, pGreater: 1, strata: 0, n1: 0, n2: 0 });
    expect(vanElterenTest([{ baseline: [5, 5], canary: [5] }]).pGreater).toBe(1);
  });
});

describe('wilcoxonSignedRank (by hand: W+ over the 2ⁿ equally likely sign patterns)', () => {
  const cases: Array<{ name: string; d: number[]; wPlus: number; p: number; n: number; zeros: number }> = [
    { name: 'five positive differences: p = 1/32', d: [1, 2, 3, 4, 5], wPlus: 15, p: 1 / 32, n: 5, zeros: 0 },
    // Subset sums of {1, 2, 3}: 0 1 2 3 3 4 5 6 → P(W+ >= 5) = 2/8.
    { name: 'one negative of three', d: [-1, 2, 3], wPlus: 5, p: 2 / 8, n: 3, zeros: 0 },
    // |d| ranks 1.5 1.5 3; subset sums 0 1.5 1.5 3 3 4.5 4.5 6 → P(W+ >= 4.5) = 3/8.
    {
      name: 'tied magnitudes get average ranks, still exact',
      d: [1, -1, 2],
      wPlus: 4.5,
      p: 3 / 8,
      n: 3,
      zeros: 0,
    },
    { name: 'zeros carry no sign and are dropped', d: [0, 0, 1], wPlus: 1, p: 1 / 2, n: 1, zeros: 2 },
    { name: 'all zero: no evidence', d: [0, 0], wPlus: 0, p: 1, n: 0, zeros: 2 },
    { name: 'all negative: p = 1', d: [-3, -2, -1], wPlus: 0, p: 1, n: 3, zeros: 0 },
  ];
  it.each(cases)('$name', ({ d, wPlus, p, n, zeros }) => {
    const r = wilcoxonSignedRank(d);
    expect(r).toMatchObject({ wPlus, n, zeros, method: 'exact' });
    expect(r.pGreater).toBeCloseTo(p, 12);
  });

  it('past SIGNED_RANK_EXACT_MAX differences, the normal approximation agrees with the exact tail', () => {
    const d = range(101, (i) => (i % 3 === 0 ? -(i + 1) : i + 1));
    const normal = wilcoxonSignedRank(d);
    const exact = wilcoxonSignedRank(d.slice(0, 100));
    expect(normal.method).toBe('normal');
    expect(exact.method).toBe('exact');
    expect(normal.pGreater).toBeGreaterThan(0);
    expect(Math.abs(Math.log10(normal.pGreater) - Math.log10(exact.pGreater))).toBeLessThan(0.3);
  });
});

describe('hodgesLehmann, windowDifferences, minWindowsFor', () => {
  it('hodgesLehmann: the median of the Walsh averages', () => {
    // Walsh averages of 1 2 3: 1 1.5 2 2 2.5 3 → 2.
    expect(hodgesLehmann([3, 1, 2])).toBe(2);
    // Of 0 0 10: 0 0 5 0 5 10 → (0 + 5) / 2.
    expect(hodgesLehmann([0, 0, 10])).toBe(2.5);
    // One wild window barely moves it.
    expect(hodgesLehmann([5, 5, 5, 5, 5, 5, 500])).toBe(5);
    expect(hodgesLehmann([])).toBeUndefined();
    expect(hodgesLehmann(range(5000, (i) => i % 7))).toBe(3);
  });

  it('windowDifferences: median minus median, and over the baseline median (1 ms at least)', () => {
    expect(
      windowDifferences([
        { baseline: [10, 20, 30], canary: [25] },
        { baseline: [0, 0], canary: [2, 4] },
        { baseline: [5], canary: [] },
      ]),
    ).toEqual([
      { diffMs: 5, ratio: 0.25, baseline: 3, canary: 1 },
      { diffMs: 3, ratio: 3, baseline: 2, canary: 2 },
    ]);
  });

  it('minWindowsFor: the fewest windows whose all-positive pattern is rarer than alpha', () => {
    expect(minWindowsFor(0.05)).toBe(5);
    expect(minWindowsFor(0.01)).toBe(7);
    expect(minWindowsFor(0.1)).toBe(4);
    expect(() => minWindowsFor(0)).toThrow(InternalError);
  });
});
