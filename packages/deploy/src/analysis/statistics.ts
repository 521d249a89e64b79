import { InternalError } from '@its/core';

/**
 * The statistics behind canary analysis: the Mann-Whitney U rank test for latency, a two-proportion
 * test for error rates (Fisher's exact when counts are small), nearest-rank percentiles, the normal
 * distribution and the sample size a proportion test needs. Pure: no I/O, no clock, no randomness.
 *
 * Arguments that cannot come from real traffic (negative counts, NaN latencies) throw InternalError:
 * they mean the caller has a bug, and a silently wrong p-value would pass a bad release.
 */

export interface MannWhitneyResult {
  /** U of the canary: pairs (baseline b, canary c) with c > b, plus half of the pairs with c = b. */
  u: number;
  /** (U - n1·n2/2) / σ with continuity correction towards 0; positive when the canary tends to be larger. */
  z: number;
  /** one-sided p for H1: canary tends to be LARGER than baseline */
  pGreater: number;
  pTwoSided: number;
  n1: number;
  n2: number;
  /** 'exact' below EXACT_MAX_PAIRS pairs without ties; the tie-corrected normal approximation otherwise. */
  method: 'exact' | 'normal';
}

export interface ProportionResult {
  /** pooled two-proportion z; positive when the canary's error rate is higher */
  z: number;
  /** one-sided p for H1: canary error rate is HIGHER */
  pGreater: number;
  method: 'z-test' | 'fisher-exact';
}

/**
 * The exact null distribution of U costs about (n1·n2)²/4 operations; up to 2 500 pairs (50 × 50) that
 * is ~1.6 M, well under a millisecond, and it is exactly where the normal approximation is weakest.
 */
export const EXACT_MAX_PAIRS = 2500;

/**
 * Standard normal CDF, Hart (1968) as given by G. West, "Better approximations to cumulative normal
 * functions" (2005): double precision (absolute error < 1e-14), and the lower tail is computed directly,
 * so normalCdf(-z) keeps its relative accuracy for tiny p-values instead of cancelling in 1 - Φ(z).
 */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) throw new InternalError('normalCdf: z is NaN');
  const x = Math.abs(z);
  let tail: number;
  if (x > 37) {
    tail = 0;
  } else {
    const e = Math.exp((-x * x) / 2);
    if (x < 7.07106781186547) {
      let num = 3.52624965998911e-2 * x + 0.700383064443688;
      num = num * x + 6.37396220353165;
      num = num * x + 33.912866078383;
      num = num * x + 112.079291497871;
      num = num * x + 221.213596169931;
      num = num * x + 220.206867912376;
      let den = 8.83883476483184e-2 * x + 1.75566716318264;
      den = den * x + 16.064177579207;
      den = den * x + 86.7807322029461;
      den = den * x + 296.564248779674;
      den = den * x + 637.333633378831;
      den = den * x + 793.826512519948;
      den = den * x + 440.413735824752;
      tail = (e * num) / den;
    } else {
      let b = x + 0.65;
      b = x + 4 / b;
      b = x + 3 / b;
      b = x + 2 / b;
      b = x + 1 / b;
      tail = e / b / 2.506628274631;
    }
  }
  return z > 0 ? 1 - tail : tail;
}

/** P(Z > z), accurate in the upper tail (no 1 - Φ cancellation). */
function normalSf(z: number): number {
  return normalCdf(-z);
}

/**
 * Inverse of normalCdf: P. J. Acklam's rational approximation (relative error 1.15e-9) refined by one
 * Halley step against normalCdf, which brings it to double precision.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new InternalError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628274631,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -7.784894002430293e-3, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
      (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

function sortedCopy(values: readonly number[], what: string): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) throw new InternalError(`${what}[${i}]: ${v} is not a finite number`);
    out[i] = v;
  }
  // A Float64Array sorts numerically (a plain array would sort as strings without a comparator).
  return out.sort();
}

/** Nearest-rank percentile of values already sorted ascending; p in [0, 100]. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number | undefined {
  if (!(p >= 0 && p <= 100)) throw new InternalError(`percentile: p must be in [0, 100], got ${p}`);
  const n = sorted.length;
  if (n === 0) return undefined;
  // Nearest rank: the smallest value with at least p % of the values at or below it. The epsilon keeps
  // p·n/100 from rounding up past an exact integer (95·20/100 = 19.000000000000004 in floating point).
  const rank = Math.max(1, Math.ceil((p * n) / 100 - 1e-9));
  return sorted[rank - 1];
}

/** Nearest-rank percentile (p in percent, 0 to 100: 95 for p95); undefined when empty. */
export function percentile(values: readonly number[], p: number): number | undefined {
  return percentileOfSorted(sortedCopy(values, 'values'), p);
}

/**
 * Mann-Whitney U test (Wilcoxon rank-sum) of canary against baseline.
 *
 * Sort-based, O(n log n): both samples are sorted and walked together, so each group of equal values is
 * seen once; U is accumulated as "baseline values below + half of the ties" per canary value, which is
 * the rank sum minus n2(n2+1)/2 without ever forming ranks. Ties get average ranks (that is what the half
 * counts are) and the variance is tie-corrected. Without ties and with at most EXACT_MAX_PAIRS pairs the
 * p-values come from the exact permutation distribution of U; otherwise from the normal approximation
 * with continuity correction — as SciPy's mannwhitneyu does with method 'exact' / 'asymptotic'.
 * All values equal (variance 0) or an empty side: z 0, p 1 — no evidence of a difference.
 */
export function mannWhitneyU(baseline: readonly number[], canary: readonly number[]): MannWhitneyResult {
  const b = sortedCopy(baseline, 'baseline');
  const c = sortedCopy(canary, 'canary');
  const n1 = b.length;
  const n2 = c.length;
  if (n1 === 0 || n2 === 0) {
    return { u: 0, z: 0, pGreater: 1, pTwoSided: 1, n1, n2, method: 'normal' };
  }
  const { u, variance, hasTies } = rankSumParts(b, c);
  const mean = (n1 * n2) / 2;
  if (variance <= 0) {
    return { u, z: 0, pGreater: 1, pTwoSided: 1, n1, n2, method: 'normal' };
  }
  const sd = Math.sqrt(variance);
  const d = u - mean;
  const z = (Math.sign(d) * Math.max(0, Math.abs(d) - 0.5)) / sd;
  if (!hasTies && n1 * n2 <= EXACT_MAX_PAIRS) {
    const { atLeast, atMost } = exactUTails(n1, n2, u);
    return {
      u,
      z,
      pGreater: atLeast,
      pTwoSided: Math.min(1, 2 * Math.min(atLeast, atMost)),
      n1,
      n2,
      method: 'exact',
    };
  }
  const pGreater = normalSf((d - 0.5) / sd);
  const pTwoSided = Math.min(1, 2 * normalSf((Math.abs(d) - 0.5) / sd));
  return { u, z, pGreater, pTwoSided, n1, n2, method: 'normal' };
}

/**
 * U of the canary and its tie-corrected null variance, from both samples sorted ascending. One walk
 * over both arrays: each group of equal values is seen once, and U is accumulated as "baseline values
 * below + half of the ties" per canary value (the rank sum minus n2(n2+1)/2, without forming ranks).
 */
function rankSumParts(b: Float64Array, c: Float64Array): { u: number; variance: number; hasTies: boolean } {
  const n1 = b.length;
  const n2 = c.length;
  const n = n1 + n2;
  let u = 0;
  let tieTerm = 0; // Σ (t³ - t) / (n(n - 1)) over groups of equal values
  let hasTies = false;
  let i = 0;
  let j = 0;
  while (i < n1 || j < n2) {
    const v =
      j >= n2 || (i < n1 && (b[i] as number) <= (c[j] as number)) ? (b[i] as number) : (c[j] as number);
    let inB = 0;
    while (i < n1 && b[i] === v) {
      inB++;
      i++;
    }
    let inC = 0;
    while (j < n2 && c[j] === v) {
      inC++;
      j++;
    }
    // i now counts baseline values <= v; those strictly below are i - inB.
    u += inC * (i - inB + inB / 2);
    const t = inB + inC;
    if (t > 1) {
      hasTies = true;
      tieTerm += (t * t * t - t) / (n * (n - 1));
    }
  }
  const variance = n < 2 ? 0 : ((n1 * n2) / 12) * (n + 1 - tieTerm);
  return { u, variance, hasTies };
}

/** Latency samples of both sides that fell in one time window (a stratum). */
export interface Stratum {
  baseline: readonly number[];
  canary: readonly number[];
}

/**
 * Groups timed samples into windows of `stratumMs` (by the request's accept time) and keeps the
 * windows where BOTH sides have samples: only those compare the versions under the same conditions.
 * `unpaired` counts, per side, the samples of windows the other side has nothing in.
 */
export function stratify(
  baseline: { latenciesMs: readonly number[]; atMs: readonly number[] },
  canary: { latenciesMs: readonly number[]; atMs: readonly number[] },
  stratumMs: number,
): { strata: Stratum[]; unpaired: { baseline: number; canary: number } } {
  if (!(stratumMs > 0)) throw new InternalError(`stratify: stratumMs must be > 0, got ${stratumMs}`);
  const windows = new Map<number, { baseline: number[]; canary: number[] }>();
  const put = (
    side: 'baseline' | 'canary',
    s: { latenciesMs: readonly number[]; atMs: readonly number[] },
  ) => {
    if (s.atMs.length !== s.latenciesMs.length)
      throw new InternalError(
        `stratify: ${side} has ${s.latenciesMs.length} latencies but ${s.atMs.length} timestamps`,
      );
    s.latenciesMs.forEach((v, i) => {
      const at = s.atMs[i] as number;
      if (!Number.isFinite(at)) throw new InternalError(`stratify: ${side}.atMs[${i}] is ${at}`);
      const key = Math.floor(at / stratumMs);
      let w = windows.get(key);
      if (!w) windows.set(key, (w = { baseline: [], canary: [] }));
      w[side].push(v);
    });
  };
  put('baseline', baseline);
  put('canary', canary);
  const strata: Stratum[] = [];
  const unpaired = { baseline: 0, canary: 0 };
  for (const key of [...windows.keys()].sort((a, b) => a - b)) {
    const w = windows.get(key)!;
    if (w.baseline.length > 0 && w.canary.length > 0) strata.push(w);
    else {
      unpaired.baseline += w.baseline.length;
      unpaired.canary += w.canary.length;
    }
  }
  return { strata, unpaired };
}

export interface StratifiedRankResult {
  /** (Σ w·(U - E U)) / √(Σ w²·Var U), w = 1/(N+1) per stratum; positive when the canary tends to be larger. */
  z: number;
  /** one-sided p for H1: within the same windows, canary latencies tend to be LARGER */
  pGreater: number;
  /** Strata that had samples on both sides (the others carry no comparison and are not passed in). */
  strata: number;
  n1: number;
  n2: number;
}

/**
 * Van Elteren's stratified Wilcoxon-Mann-Whitney test (van Elteren 1960; the "stratified Wilcoxon" of
 * SAS's PROC FREQ CMH2 with modified ridit scores): a Mann-Whitney U inside each stratum, combined
 * with weights 1/(N_s + 1), which is locally most powerful for a constant shift when strata differ in
 * size. Samples are only ever ranked against samples of the same window, so a load spike that slows
 * both versions in some seconds cancels out instead of counting against the side that happened to
 * serve more requests then. Normal approximation of the weighted sum (no continuity correction: a
 * half-unit correction has no single meaning once strata are weighted); ties handled per stratum.
 */
export function vanElterenTest(strata: readonly Stratum[]): StratifiedRankResult {
  let num = 0;
  let varSum = 0;
  let n1 = 0;
  let n2 = 0;
  let used = 0;
  strata.forEach((s, k) => {
    const b = sortedCopy(s.baseline, `strata[${k}].baseline`);
    const c = sortedCopy(s.canary, `strata[${k}].canary`);
    if (b.length === 0 || c.length === 0) return;
    used++;
    n1 += b.length;
    n2 += c.length;
    const { u, variance } = rankSumParts(b, c);
    const w = 1 / (b.length + c.length + 1);
    num += w * (u - (b.length * c.length) / 2);
    varSum += w * w * variance;
  });
  if (varSum <= 0) return { z: 0, pGreater: 1, strata: used, n1, n2 };
  const z = num / Math.sqrt(varSum);
  return { z, pGreater: normalSf(z), strata: used, n1, n2 };
}

/** The median (mean of the two middle values for an even count) of values sorted ascending. */
function medianOfSorted(sorted: Float64Array): number {
  const n = sorted.length;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * P(U >= u) and P(U <= u) under H0 for sample sizes m, n without ties. Recurrence on probabilities
 * (Mann & Whitney 1947): P_{m,n}(k) = m/(m+n)·P_{m-1,n}(k-n) + n/(m+n)·P_{m,n-1}(k) — the largest of
 * the m+n values is a canary value (U gains the n baseline values below it) or a baseline value.
 * All terms are non-negative, so nothing cancels.
 */
function exactUTails(nBaseline: number, nCanary: number, u: number): { atLeast: number; atMost: number } {
  // U counts canary-over-baseline pairs: "m" = canary count, "n" = baseline count in the recurrence.
  const m = nCanary;
  const n = nBaseline;
  // prev[j] = distribution for (i - 1, j); row[j] for (i, j). Distribution for (0, j) and (i, 0) is U = 0.
  let prev: Float64Array[] = [];
  for (let jj = 0; jj <= n; jj++) prev.push(Float64Array.of(1));
  for (let ii = 1; ii <= m; ii++) {
    const row: Float64Array[] = [Float64Array.of(1)];
    for (let jj = 1; jj <= n; jj++) {
      const dist = new Float64Array(ii * jj + 1);
      const fromCanaryTop = prev[jj] as Float64Array; // (ii - 1, jj), shifted by jj
      const fromBaselineTop = row[jj - 1] as Float64Array; // (ii, jj - 1)
      const wc = ii / (ii + jj);
      const wb = jj / (ii + jj);
      for (let k = 0; k < fromCanaryTop.length; k++)
        dist[k + jj] = (dist[k + jj] as number) + wc * (fromCanaryTop[k] as number);
      for (let k = 0; k < fromBaselineTop.length; k++)
        dist[k] = (dist[k] as number) + wb * (fromBaselineTop[k] as number);
      row.push(dist);
    }
    prev = row;
  }
  const dist = prev[n] as Float64Array;
  // Without ties U is an integer.
  const k = Math.round(u);
  let atLeast = 0;
  let atMost = 0;
  for (let x = 0; x < dist.length; x++) {
    if (x >= k) atLeast += dist[x] as number;
    if (x <= k) atMost += dist[x] as number;
  }
  return { atLeast: Math.min(1, atLeast), atMost: Math.min(1, atMost) };
}

function checkCount(errors: number, n: number, side: string): void {
  if (!Number.isInteger(n) || n < 0)
    throw new InternalError(`${side} requests: ${n} is not a non-negative integer`);
  if (!Number.isInteger(errors) || errors < 0 || errors > n) {
    throw new InternalError(
      `${side} errors: ${errors} is not an integer between 0 and ${side} requests (${n})`,
    );
  }
}

/**
 * Is the canary's error rate higher than the baseline's? Pooled two-proportion z-test; when any expected
 * cell count of the 2×2 table is below 5 (the textbook rule where the normal approximation breaks down)
 * the p-value is Fisher's exact test, one-sided. z is always the pooled z (0 when the pooled rate is 0
 * or 1: nothing varies). No errors on either side, or an empty side: p 1.
 */
export function compareProportions(
  baselineErrors: number,
  baselineN: number,
  canaryErrors: number,
  canaryN: number,
): ProportionResult {
  checkCount(baselineErrors, baselineN, 'baseline');
  checkCount(canaryErrors, canaryN, 'canary');
  if (baselineN === 0 || canaryN === 0) return { z: 0, pGreater: 1, method: 'z-test' };
  const total = baselineN + canaryN;
  const errors = baselineErrors + canaryErrors;
  const pooled = errors / total;
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / baselineN + 1 / canaryN));
  const z = se === 0 ? 0 : (canaryErrors / canaryN - baselineErrors / baselineN) / se;
  const ok = total - errors;
  const minExpected = (Math.min(baselineN, canaryN) * Math.min(errors, ok)) / total;
  if (minExpected < 5) {
    return { z, pGreater: fisherUpperTail(total, errors, canaryN, canaryErrors), method: 'fisher-exact' };
  }
  return { z, pGreater: normalSf(z), method: 'z-test' };
}

/**
 * One-sided Fisher exact p: P(X >= x) for X ~ Hypergeometric(population, successes, draws) — the
 * chance that the canary gets at least its error count if errors fell on requests at random.
 * Weights are built relative to the mode and outward by the pmf ratio, so there is no factorial
 * overflow, and terms too small to matter underflow harmlessly to 0.
 */
function fisherUpperTail(population: number, successes: number, draws: number, x: number): number {
  const lo = Math.max(0, draws - (population - successes));
  const hi = Math.min(successes, draws);
  if (x <= lo) return 1;
  const mode = Math.min(hi, Math.max(lo, Math.floor(((draws + 1) * (successes + 1)) / (population + 2))));
  const others = population - successes;
  let total = 1;
  let tail = mode >= x ? 1 : 0;
  let w = 1;
  for (let k = mode; k < hi; k++) {
    w *= ((successes - k) * (draws - k)) / ((k + 1) * (others - draws + k + 1));
    if (w === 0) break;
    total += w;
    if (k + 1 >= x) tail += w;
  }
  w = 1;
  for (let k = mode; k > lo; k--) {
    w *= (k * (others - draws + k)) / ((successes - k + 1) * (draws - k + 1));
    if (w === 0) break;
    total += w;
    if (k - 1 >= x) tail += w;
  }
  return Math.min(1, tail / total);
}

/**
 * Requests needed per side for a one-sided two-proportion test at level alpha to detect an increase
 * from baselineRate to baselineRate + minDetectableIncrease with the given power (Fleiss, Statistical
 * Methods for Rates and Proportions, eq. 4.14 without continuity correction):
 *   n = (z_{1-α}·√(2·p̄·q̄) + z_{power}·√(p1·q1 + p2·q2))² / δ²,  p̄ = (p1 + p2) / 2.
 */
export function requiredSamplesForProportion(
  baselineRate: number,
  minDetectableIncrease: number,
  alpha: number,
  power: number,
): number {
  if (!(baselineRate >= 0 && baselineRate < 1))
    throw new InternalError(`baselineRate must be in [0, 1), got ${baselineRate}`);
  if (!(minDetectableIncrease > 0 && baselineRate + minDetectableIncrease <= 1)) {
    throw new InternalError(
      `minDetectableIncrease must be in (0, 1 - baselineRate], got ${minDetectableIncrease}`,
    );
  }
  if (!(alpha > 0 && alpha < 1)) throw new InternalError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(power > 0 && power < 1)) throw new InternalError(`power must be in (0, 1), got ${power}`);
  const p1 = baselineRate;
  const p2 = baselineRate + minDetectableIncrease;
  const pBar = (p1 + p2) / 2;
  const zAlpha = normalQuantile(1 - alpha);
  const zBeta = normalQuantile(power);
  const root = zAlpha * Math.sqrt(2 * pBar * (1 - pBar)) + zBeta * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  // The epsilon keeps an exact integer result (up to rounding noise) from being bumped to the next one.
  return Math.max(1, Math.ceil((root * root) / (minDetectableIncrease * minDetectableIncrease) - 1e-9));
}

export interface SignedRankResult {
  /** W+: the sum of the ranks of |d| over the positive differences (average ranks for ties). */
  wPlus: number;
  /** (W+ − n(n+1)/4) / σ, tie-corrected; positive when the differences tend to be positive. */
  z: number;
  /** one-sided p for H1: the differences tend to be POSITIVE */
  pGreater: number;
  /** Non-zero differences (zeros carry no sign and are dropped, as Wilcoxon did). */
  n: number;
  zeros: number;
  /** 'exact' up to SIGNED_RANK_EXACT_MAX differences (ties included); the normal approximation above. */
  method: 'exact' | 'normal';
}

/** Up to this many differences the exact null distribution of W+ is used: about 10⁶ operations at 100. */
export const SIGNED_RANK_EXACT_MAX = 100;

/**
 * Wilcoxon's signed-rank test, one-sided (H1: the differences tend to be positive). Exact for up to
 * SIGNED_RANK_EXACT_MAX non-zero differences, ties included: ranks are doubled so average ranks are
 * integers, and the distribution of W+ is counted over the 2ⁿ equally likely sign patterns by
 * dynamic programming; above that the tie-corrected normal approximation with continuity correction.
 */
export function wilcoxonSignedRank(differences: readonly number[]): SignedRankResult {
  const all = sortedCopy(differences, 'differences');
  const nonZero = [...all].filter((d) => d !== 0).sort((a, b) => Math.abs(a) - Math.abs(b));
  const zeros = all.length - nonZero.length;
  const n = nonZero.length;
  if (n === 0) return { wPlus: 0, z: 0, pGreater: 1, n, zeros, method: 'exact' };
  // Doubled average ranks: a group of t equal |d| starting at rank r gets 2r + t - 1 each.
  const doubled = new Array<number>(n);
  let tieTerm = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && Math.abs(nonZero[j + 1]!) === Math.abs(nonZero[i]!)) j++;
    const t = j - i + 1;
    for (let k = i; k <= j; k++) doubled[k] = 2 * (i + 1) + t - 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  let wPlus2 = 0;
  nonZero.forEach((d, i) => {
    if (d > 0) wPlus2 += doubled[i]!;
  });
  const wPlus = wPlus2 / 2;
  const mean = (n * (n + 1)) / 4;
  const variance = (n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48;
  const z = variance > 0 ? (wPlus - mean) / Math.sqrt(variance) : 0;
  if (n <= SIGNED_RANK_EXACT_MAX) {
    const total2 = n * (n + 1);
    // counts[s] = P(doubled W+ = s) under H0: each difference's sign is a fair coin.
    let dist = new Float64Array(total2 + 1);
    dist[0] = 1;
    let reach = 0;
    for (const r of doubled) {
      const next = new Float64Array(total2 + 1);
      for (let s = 0; s <= reach; s++) {
        const p = dist[s]!;
        if (p === 0) continue;
        next[s] = next[s]! + p / 2;
        next[s + r] = next[s + r]! + p / 2;
      }
      reach += r;
      dist = next;
    }
    let tail = 0;
    for (let s = wPlus2; s <= total2; s++) tail += dist[s]!;
    return { wPlus, z, pGreater: Math.min(1, tail), n, zeros, method: 'exact' };
  }
  const pGreater = variance > 0 ? normalSf((wPlus - mean - 0.5) / Math.sqrt(variance)) : 1;
  return { wPlus, z, pGreater, n, zeros, method: 'normal' };
}

/**
 * The Hodges–Lehmann estimate of a one-sample location: the median of the Walsh averages
 * (dᵢ + dⱼ)/2, i ≤ j — the estimate that goes with the signed-rank test. Windows are few (one per
 * second of a step), so the n(n+1)/2 averages are cheap; past 2 000 values they are thinned to
 * evenly spaced order statistics, which keeps the estimate to a small fraction of the spread.
 */
export function hodgesLehmann(values: readonly number[]): number | undefined {
  let v = sortedCopy(values, 'values');
  if (v.length === 0) return undefined;
  const cap = 2000;
  if (v.length > cap) {
    const t = new Float64Array(cap);
    for (let k = 0; k < cap; k++) t[k] = v[Math.floor(((k + 0.5) * v.length) / cap)]!;
    v = t;
  }
  const walsh = new Float64Array((v.length * (v.length + 1)) / 2);
  let w = 0;
  for (let i = 0; i < v.length; i++) for (let j = i; j < v.length; j++) walsh[w++] = (v[i]! + v[j]!) / 2;
  walsh.sort();
  return medianOfSorted(walsh);
}

export interface WindowDifference {
  /** Canary median − baseline median in the window, ms. */
  diffMs: number;
  /** That difference over the baseline median (whole ms: a 0 ms median counts as 1 ms). */
  ratio: number;
  baseline: number;
  canary: number;
}

/** Per window (stratum) with both sides: how much slower the canary's median is than the baseline's. */
export function windowDifferences(strata: readonly Stratum[]): WindowDifference[] {
  const out: WindowDifference[] = [];
  strata.forEach((s, k) => {
    const b = sortedCopy(s.baseline, `strata[${k}].baseline`);
    const c = sortedCopy(s.canary, `strata[${k}].canary`);
    if (b.length === 0 || c.length === 0) return;
    const mb = medianOfSorted(b);
    const diffMs = medianOfSorted(c) - mb;
    out.push({ diffMs, ratio: diffMs / Math.max(mb, 1), baseline: b.length, canary: c.length });
  });
  return out;
}

/**
 * The fewest windows with which a one-sided signed-rank test can reach `alpha` at all (all n signs
 * positive has probability 2⁻ⁿ): 5 at 0.05. Fewer windows can prove nothing either way.
 */
export function minWindowsFor(alpha: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new InternalError(`alpha must be in (0, 1), got ${alpha}`);
  return Math.max(1, Math.floor(Math.log2(1 / alpha)) + 1);
}
