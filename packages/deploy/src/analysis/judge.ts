import { ConfigError, InternalError } from '@its/core';
import {
  compareProportions,
  mannWhitneyU,
  percentileOfSorted,
  requiredSamplesForProportion,
  hodgesLehmann,
  minWindowsFor,
  stratify,
  vanElterenTest,
  windowDifferences,
} from './statistics.js';

/**
 * The canary verdict: canary against baseline on the traffic both served during a step, and the
 * post-switch watch (absolute SLO limits on one side). Pure: samples in, evidence out.
 *
 * Rules (docs/canary-statistics.md explains the why):
 * - fail needs proof: statistically significant AND at least the effect floor, or an SLO limit exceeded
 *   on enough samples;
 * - inconclusive is the default whenever the data cannot prove a pass: too few samples for the test's
 *   power, no requests on a side, or a canary that looks worse by more than the floor without being
 *   significant yet (Kayenta #780 passed such canaries on sparse data; we hold and extend instead);
 * - pass only when every metric was tested on enough data and none failed.
 */

export type Verdict = 'pass' | 'fail' | 'inconclusive';

export interface SideSamples {
  requests: number;
  errors: number;
  latenciesMs: readonly number[];
  /**
   * When each latency sample's request was accepted (epoch ms), parallel to latenciesMs. With it, and
   * `stratumMs` > 0, latency is compared within time windows (van Elteren); without it, unstratified.
   */
  atMs?: readonly number[];
}

export interface SideSummary {
  requests: number;
  errors: number;
  errorRate: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface CanaryThresholds {
  /** Significance level of every comparison. Default 0.05: the usual 1-in-20 false alarm per metric. */
  alpha: number;
  /** Per side. Default 50: below it a rank test or a rate has too little to say; every comparison is inconclusive. */
  minSamples: number;
  /** Default 0.8: the conventional power; sets how many requests the error-rate test needs before it may pass. */
  power: number;
  /** Absolute, default 0.01 (1 percentage point): a smaller increase never fails, however significant. */
  maxErrorRateIncrease: number;
  /** Default 5 ms: a median shift below it never fails — timer and network noise, not a regression. */
  minLatencyEffectMs: number;
  /** Default 0.2: the canary median must also exceed the baseline median by 20 %, so slow services are not failed on jitter. */
  minLatencyEffectRatio: number;
  /**
   * Default 1000: latency is compared within 1-s windows of accept time (van Elteren's test, the
   * shift measured per window), so load that comes and goes hits both sides alike; 0
   * compares the whole step at once (plain Mann-Whitney). Needs timestamps on both sides
   * (SideSamples.atMs), else the plain test is used.
   */
  stratumMs: number;
  /** Absolute limits on the canary side; none by default (they come from the environment's SLOs). */
  slo: { p95Ms?: number; p99Ms?: number; maxErrorRate?: number };
}

export const DEFAULT_THRESHOLDS: CanaryThresholds = Object.freeze({
  alpha: 0.05,
  minSamples: 50,
  power: 0.8,
  maxErrorRateIncrease: 0.01,
  minLatencyEffectMs: 5,
  minLatencyEffectRatio: 0.2,
  stratumMs: 1000,
  slo: Object.freeze({}),
});

export type MetricName = 'error-rate' | 'latency' | 'slo-p95' | 'slo-p99' | 'slo-error-rate';

export interface MetricEvidence {
  metric: MetricName;
  verdict: Verdict;
  test?: 'two-proportion z-test' | 'fisher-exact' | 'mann-whitney-u' | 'van-elteren';
  statistic?: number;
  pValue?: number;
  /** error-rate: canary - baseline (absolute); latency: median shift in ms; SLO: the measured value. */
  effect?: number;
  /**
   * Latency compared within time windows: how many windows had both sides, how many samples each side
   * had in them, and how many fell in windows the other side had none in (not compared).
   */
  strata?: { windows: number; stratumMs: number; paired: SidePair; unpaired: SidePair };
  /** human: "p < 0.05 and increase >= 1.0 pp", "p95 <= 200 ms" */
  threshold: string;
  /** the one sentence that explains this metric's verdict, with the numbers */
  sentence: string;
}

export interface SidePair {
  baseline: number;
  canary: number;
}

export interface AnalysisEvidence {
  verdict: Verdict;
  /** the deciding sentence: the first failing metric's, else the first inconclusive one's, else a pass summary */
  sentence: string;
  /** null for the post-switch watch (no baseline) */
  baseline: SideSummary | null;
  canary: SideSummary;
  metrics: MetricEvidence[];
  thresholds: CanaryThresholds;
}

/**
 * A nearest-rank percentile is only a percentile when some samples lie above it: with fewer than
 * 1/(1 - q) samples, p99 is simply the maximum and one slow request would decide. So p95 needs 20
 * samples and p99 needs 100, whatever minSamples says.
 */
const PERCENTILE_MIN_SAMPLES = { p95: 20, p99: 100 } as const;

interface Side {
  label: string;
  samples: SideSamples;
  summary: SideSummary;
  sorted: Float64Array;
}

function validateThresholds(t: CanaryThresholds): void {
  const problems: string[] = [];
  const inOpenUnit = (v: number, path: string): void => {
    if (!(v > 0 && v < 1)) problems.push(`${path}: must be between 0 and 1 (exclusive), got ${v}`);
  };
  inOpenUnit(t.alpha, 'thresholds.alpha');
  inOpenUnit(t.power, 'thresholds.power');
  if (!(t.maxErrorRateIncrease > 0 && t.maxErrorRateIncrease <= 1)) {
    problems.push(
      `thresholds.maxErrorRateIncrease: must be a fraction in (0, 1] (0.01 = 1 percentage point), got ${t.maxErrorRateIncrease}`,
    );
  }
  if (!(Number.isInteger(t.minSamples) && t.minSamples >= 1)) {
    problems.push(`thresholds.minSamples: must be a whole number >= 1, got ${t.minSamples}`);
  }
  if (!(t.minLatencyEffectMs >= 0 && Number.isFinite(t.minLatencyEffectMs))) {
    problems.push(`thresholds.minLatencyEffectMs: must be a number of ms >= 0, got ${t.minLatencyEffectMs}`);
  }
  if (!(t.stratumMs >= 0 && Number.isFinite(t.stratumMs))) {
    problems.push(`thresholds.stratumMs: must be a number of ms >= 0 (0 = unstratified), got ${t.stratumMs}`);
  }
  if (!(t.minLatencyEffectRatio >= 0 && Number.isFinite(t.minLatencyEffectRatio))) {
    problems.push(
      `thresholds.minLatencyEffectRatio: must be a ratio >= 0 (0.2 = 20 %), got ${t.minLatencyEffectRatio}`,
    );
  }
  for (const key of ['p95Ms', 'p99Ms'] as const) {
    const v = t.slo[key];
    if (v !== undefined && !(v > 0 && Number.isFinite(v)))
      problems.push(`thresholds.slo.${key}: must be a number of ms > 0, got ${v}`);
  }
  const maxRate = t.slo.maxErrorRate;
  if (maxRate !== undefined && !(maxRate >= 0 && maxRate <= 1)) {
    problems.push(`thresholds.slo.maxErrorRate: must be a fraction in [0, 1] (0.01 = 1 %), got ${maxRate}`);
  }
  if (problems.length > 0) {
    throw new ConfigError(problems.join('; '), {
      fix: 'correct the canary analysis thresholds in the environment file',
    });
  }
}

function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function resolveThresholds(t: Partial<CanaryThresholds> | undefined): CanaryThresholds {
  const merged: CanaryThresholds = {
    ...DEFAULT_THRESHOLDS,
    ...definedOnly(t),
    slo: { ...DEFAULT_THRESHOLDS.slo, ...definedOnly(t?.slo) },
  };
  validateThresholds(merged);
  return merged;
}

function describeSide(label: string, samples: SideSamples): Side {
  const { requests, errors } = samples;
  if (!Number.isInteger(requests) || requests < 0)
    throw new InternalError(`${label}.requests: ${requests} is not a whole number >= 0`);
  if (!Number.isInteger(errors) || errors < 0 || errors > requests) {
    throw new InternalError(
      `${label}.errors: ${errors} is not a whole number between 0 and ${label}.requests (${requests})`,
    );
  }
  if (samples.atMs !== undefined && samples.atMs.length !== samples.latenciesMs.length)
    throw new InternalError(
      `${label}.atMs: ${samples.atMs.length} timestamps for ${samples.latenciesMs.length} latency samples`,
    );
  const sorted = new Float64Array(samples.latenciesMs.length);
  samples.latenciesMs.forEach((v, i) => {
    if (!Number.isFinite(v) || v < 0)
      throw new InternalError(`${label}.latenciesMs[${i}]: ${v} is not a duration in ms`);
    sorted[i] = v;
  });
  sorted.sort();
  const at = (p: number): number | null => percentileOfSorted(sorted, p) ?? null;
  const summary: SideSummary = {
    requests,
    errors,
    errorRate: requests > 0 ? errors / requests : null,
    p50: at(50),
    p95: at(95),
    p99: at(99),
  };
  return { label, samples, summary, sorted };
}

// ---- number formatting: every sentence prints the numbers it was decided on ----

function formatPercent(rate: number): string {
  return `${(rate * 100).toFixed(1)} %`;
}

/** Signed, rounded before the sign is chosen so a tiny negative never prints as "-0.0". */
function formatSigned(v: number, unit: string): string {
  const text = Math.abs(v).toFixed(1);
  return `${v < 0 && Number(text) !== 0 ? '-' : '+'}${text} ${unit}`;
}

function formatPp(diff: number): string {
  return formatSigned(diff * 100, 'pp');
}

function formatMs(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}

function formatSignedMs(ms: number): string {
  return formatSigned(ms, 'ms');
}

function formatP(p: number): string {
  if (p === 0) return 'p ≈ 0';
  if (p < 0.001) return `p = ${p.toExponential(0)}`;
  return `p = ${Number(p.toPrecision(2))}`;
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function formatRateOf(side: Side): string {
  const { errors, requests, errorRate } = side.summary;
  return `${side.label} ${errorRate === null ? 'n/a' : formatPercent(errorRate)} (${errors}/${requests})`;
}

function noRequestsSentence(
  prefix: string,
  sides: readonly Side[],
  what: 'requests' | 'latency samples',
): string | undefined {
  const count = (s: Side): number => (what === 'requests' ? s.summary.requests : s.sorted.length);
  const empty = sides.filter((s) => count(s) === 0).map((s) => s.label);
  if (empty.length === 0) return undefined;
  const counts = sides.map((s) => `${count(s)} ${s.label}`).join(', ');
  const verb = what === 'requests' ? 'no requests reached the' : 'no latency samples from the';
  return `${prefix}: ${verb} ${empty.join(' or the ')} (${counts} ${what}): inconclusive`;
}

// ---- comparative metrics ----

function judgeErrorRate(base: Side, canary: Side, t: CanaryThresholds): MetricEvidence {
  const floor = t.maxErrorRateIncrease;
  const baseRate = base.summary.errorRate ?? 0;
  // The test must be able to see the floor above the baseline's own rate; cap so p2 stays <= 1.
  const required = Math.max(
    t.minSamples,
    requiredSamplesForProportion(Math.min(baseRate, 1 - floor), floor, t.alpha, t.power),
  );
  const threshold = `p < ${t.alpha} and increase >= ${formatPp(floor).slice(1)}; >= ${required} requests per side`;
  const empty = noRequestsSentence('error rate', [canary, base], 'requests');
  if (empty !== undefined)
    return { metric: 'error-rate', verdict: 'inconclusive', threshold, sentence: empty };

  const diff = (canary.summary.errorRate ?? 0) - baseRate;
  const r = compareProportions(
    base.summary.errors,
    base.summary.requests,
    canary.summary.errors,
    canary.summary.requests,
  );
  const test: MetricEvidence['test'] = r.method === 'fisher-exact' ? 'fisher-exact' : 'two-proportion z-test';
  const testText = r.method === 'fisher-exact' ? 'one-sided Fisher exact' : 'one-sided z-test';
  const common = {
    metric: 'error-rate' as const,
    test,
    statistic: r.z,
    pValue: r.pGreater,
    effect: diff,
    threshold,
  };
  const head = `error rate: ${formatRateOf(canary)} vs ${formatRateOf(base)}, ${formatPp(diff)}, ${testText} ${formatP(r.pGreater)}`;
  const significant = r.pGreater < t.alpha;
  // Rates are ratios of integers: compare with a hair of tolerance so exactly 1.0 pp counts as 1.0 pp.
  const aboveFloor = diff >= floor - 1e-12;
  const fewest = Math.min(base.summary.requests, canary.summary.requests);
  const floorText = `the ${formatPp(floor).slice(1)} floor`;

  if (fewest < t.minSamples) {
    return {
      ...common,
      verdict: 'inconclusive',
      sentence: `${head}; too few requests to judge (${canary.summary.requests} canary, ${base.summary.requests} baseline; at least ${t.minSamples} per side needed): inconclusive`,
    };
  }
  if (significant && aboveFloor) {
    return {
      ...common,
      verdict: 'fail',
      sentence: `${head} < ${t.alpha} and ${formatPp(diff)} >= ${floorText}: fail`,
    };
  }
  if (aboveFloor) {
    return {
      ...common,
      verdict: 'inconclusive',
      sentence: `${head} >= ${t.alpha}: ${formatPp(diff)} is at least ${floorText} but not yet significant; more requests needed (${required} per side for power ${t.power}): inconclusive`,
    };
  }
  if (fewest < required) {
    return {
      ...common,
      verdict: 'inconclusive',
      sentence: `${head}; ${canary.summary.requests} canary and ${base.summary.requests} baseline requests, ${required} needed per side to detect a ${formatPp(floor).slice(1)} increase at alpha ${t.alpha} with power ${t.power}: inconclusive`,
    };
  }
  const why = significant ? `< ${t.alpha} but ${formatPp(diff)} < ${floorText}` : `>= ${t.alpha}`;
  return { ...common, verdict: 'pass', sentence: `${head} ${why}: pass` };
}

function judgeLatency(base: Side, canary: Side, t: CanaryThresholds): MetricEvidence {
  const threshold = `p < ${t.alpha} and median shift >= ${t.minLatencyEffectMs} ms and >= ${Math.round(t.minLatencyEffectRatio * 100)} %; >= ${t.minSamples} samples per side`;
  const empty = noRequestsSentence('latency', [canary, base], 'latency samples');
  if (empty !== undefined) return { metric: 'latency', verdict: 'inconclusive', threshold, sentence: empty };
  const bt = base.samples.atMs;
  const ct = canary.samples.atMs;
  if (t.stratumMs > 0 && bt !== undefined && ct !== undefined)
    return judgeLatencyStratified(base, canary, t, threshold, bt, ct);

  const cm = canary.summary.p50 as number;
  const bm = base.summary.p50 as number;
  const shift = cm - bm;
  const ratio = bm > 0 ? shift / bm : shift > 0 ? Number.POSITIVE_INFINITY : 0;
  const mw = mannWhitneyU(base.samples.latenciesMs, canary.samples.latenciesMs);
  const ratioText = bm > 0 ? `, ${ratio >= 0 ? '+' : '-'}${Math.abs(Math.round(ratio * 100))} %` : '';
  const head =
    `latency: canary median ${formatMs(cm)} vs baseline ${formatMs(bm)} (${formatSignedMs(shift)}${ratioText}; ` +
    `${mw.n2} vs ${mw.n1} samples), Mann-Whitney U = ${formatNumber(mw.u)} (z = ${mw.z.toFixed(2)}), one-sided ${formatP(mw.pGreater)}`;
  const common = {
    metric: 'latency' as const,
    test: 'mann-whitney-u' as const,
    statistic: mw.u,
    pValue: mw.pGreater,
    effect: shift,
    threshold,
  };
  const significant = mw.pGreater < t.alpha;
  const aboveFloor = shift >= t.minLatencyEffectMs && ratio >= t.minLatencyEffectRatio;
  const floorText = `the floor (${t.minLatencyEffectMs} ms and ${Math.round(t.minLatencyEffectRatio * 100)} %)`;

  if (Math.min(mw.n1, mw.n2) < t.minSamples) {
    return {
      ...common,
      verdict: 'inconclusive',
      sentence: `${head}; too few latency samples to judge (at least ${t.minSamples} per side needed): inconclusive`,
    };
  }
  if (significant && aboveFloor) {
    return {
      ...common,
      verdict: 'fail',
      sentence: `${head} < ${t.alpha} and the shift clears ${floorText}: fail`,
    };
  }
  if (aboveFloor) {
    return {
      ...common,
      verdict: 'inconclusive',
      sentence: `${head} >= ${t.alpha}: the median shift clears ${floorText} but is not yet significant; more samples needed: inconclusive`,
    };
  }
  const why = significant
    ? `< ${t.alpha} but ${formatSignedMs(shift)} is under ${floorText}`
    : `>= ${t.alpha}`;
  return { ...common, verdict: 'pass', sentence: `${head} ${why}: pass` };
}

/**
 * Latency within time windows of `stratumMs`, using only windows where both sides answered:
 * - the test is van Elteren's stratified Mann-Whitney: requests are ranked only against requests of
 *   the same window, so load that varies between windows cancels inside each;
 * - the shift the floors apply to is window-level: the Hodges–Lehmann estimate of the per-window
 *   differences of medians (and of those differences over the window's baseline median), so one
 *   window in which a single replica stalled — every request it took then delayed together, which a
 *   request-level test counts once per request — moves it little;
 * - fewer than minWindowsFor(alpha) windows (5 at 0.05) are inconclusive, whatever the test says: a
 *   few seconds are a few draws of the host's load, however many requests they hold.
 * Samples of windows one side had nothing in are not compared (and are counted).
 */
function judgeLatencyStratified(
  base: Side,
  canary: Side,
  t: CanaryThresholds,
  threshold: string,
  baseAt: readonly number[],
  canaryAt: readonly number[],
): MetricEvidence {
  const { strata, unpaired } = stratify(
    { latenciesMs: base.samples.latenciesMs, atMs: baseAt },
    { latenciesMs: canary.samples.latenciesMs, atMs: canaryAt },
    t.stratumMs,
  );
  const windows = windowDifferences(strata);
  const ve = vanElterenTest(strata);
  const shiftMs = hodgesLehmann(windows.map((w) => w.diffMs));
  const ratio = hodgesLehmann(windows.map((w) => w.ratio));
  const paired = {
    baseline: windows.reduce((n, w) => n + w.baseline, 0),
    canary: windows.reduce((n, w) => n + w.canary, 0),
  };
  const needWindows = minWindowsFor(t.alpha);
  const windowText = `${formatNumber(t.stratumMs / 1000)}-s windows`;
  const cm = canary.summary.p50 as number;
  const bm = base.summary.p50 as number;
  const common = {
    metric: 'latency' as const,
    test: 'van-elteren' as const,
    statistic: ve.z,
    pValue: ve.pGreater,
    threshold: `${threshold.replace('median shift', 'shift within windows')}; >= ${needWindows} windows`,
    strata: { windows: windows.length, stratumMs: t.stratumMs, paired, unpaired },
    ...(shiftMs === undefined ? {} : { effect: shiftMs }),
  };
  const unpairedText =
    unpaired.baseline + unpaired.canary > 0
      ? `; ${unpaired.canary} canary and ${unpaired.baseline} baseline samples in windows the other side had none in not compared`
      : '';
  const counts = `${windows.length} ${windowText} with both sides (${paired.canary} canary, ${paired.baseline} baseline samples${unpairedText})`;
  if (
    shiftMs === undefined ||
    ratio === undefined ||
    windows.length < needWindows ||
    Math.min(paired.baseline, paired.canary) < t.minSamples
  ) {
    return {
      ...common,
      verdict: 'inconclusive',
      sentence: `latency: canary median ${formatMs(cm)} vs baseline ${formatMs(bm)}; ${counts}; at least ${needWindows} windows and ${t.minSamples} samples per side in them needed: inconclusive`,
    };
  }
  const ratioText = `${ratio >= 0 ? '+' : '-'}${Math.abs(Math.round(ratio * 100))} %`;
  const head =
    `latency: canary median ${formatMs(cm)} vs baseline ${formatMs(bm)}; in the same ${counts} the canary is ` +
    `${formatSignedMs(shiftMs)} (${ratioText}; slower in ${windows.filter((w) => w.diffMs > 0).length} of them), ` +
    `stratified Mann-Whitney (van Elteren) z = ${ve.z.toFixed(2)}, one-sided ${formatP(ve.pGreater)}`;
  const significant = ve.pGreater < t.alpha;
  const aboveFloor = shiftMs >= t.minLatencyEffectMs && ratio >= t.minLatencyEffectRatio;
  const floorText = `the floor (${t.minLatencyEffectMs} ms and ${Math.round(t.minLatencyEffectRatio * 100)} %)`;
  if (significant && aboveFloor)
    return {
      ...common,
      verdict: 'fail',
      sentence: `${head} < ${t.alpha} and the shift clears ${floorText}: fail`,
    };
  if (aboveFloor)
    return {
      ...common,
      verdict: 'inconclusive',
      sentence: `${head} >= ${t.alpha}: the shift clears ${floorText} but is not yet significant; more samples needed: inconclusive`,
    };
  const why = significant
    ? `< ${t.alpha} but ${formatSignedMs(shiftMs)} is under ${floorText}`
    : `>= ${t.alpha}`;
  return { ...common, verdict: 'pass', sentence: `${head} ${why}: pass` };
}

// ---- absolute SLO limits on one side ----

function judgeSlo(side: Side, slo: CanaryThresholds['slo'], minSamples: number): MetricEvidence[] {
  const out: MetricEvidence[] = [];
  const percentileLimits = [
    {
      metric: 'slo-p95' as const,
      name: 'p95',
      limit: slo.p95Ms,
      value: side.summary.p95,
      needed: Math.max(minSamples, PERCENTILE_MIN_SAMPLES.p95),
    },
    {
      metric: 'slo-p99' as const,
      name: 'p99',
      limit: slo.p99Ms,
      value: side.summary.p99,
      needed: Math.max(minSamples, PERCENTILE_MIN_SAMPLES.p99),
    },
  ];
  for (const { metric, name, limit, value, needed } of percentileLimits) {
    if (limit === undefined) continue;
    const threshold = `${name} <= ${limit} ms`;
    const n = side.sorted.length;
    if (value === null || n < needed) {
      const seen = value === null ? '' : ` (${name} so far ${formatMs(value)})`;
      out.push({
        metric,
        verdict: 'inconclusive',
        threshold,
        sentence: `slo ${name}: ${n} ${side.label} latency samples${seen}, at least ${needed} needed to judge the ${limit} ms limit: inconclusive`,
      });
      continue;
    }
    const over = value > limit;
    out.push({
      metric,
      verdict: over ? 'fail' : 'pass',
      effect: value,
      threshold,
      sentence: `slo ${name}: ${side.label} ${name} ${formatMs(value)} ${over ? '>' : '<='} the ${limit} ms limit (${n} samples): ${over ? 'fail' : 'pass'}`,
    });
  }
  const maxRate = slo.maxErrorRate;
  if (maxRate !== undefined) {
    // Like a percentile, a rate limit needs enough requests that one error alone cannot cross it.
    const needed = Math.max(minSamples, maxRate > 0 ? Math.ceil(1 / maxRate - 1e-9) : 0);
    const threshold = `error rate <= ${formatPercent(maxRate)}`;
    const { requests, errors, errorRate } = side.summary;
    if (errorRate === null || requests < needed) {
      out.push({
        metric: 'slo-error-rate',
        verdict: 'inconclusive',
        threshold,
        sentence: `slo error rate: ${requests} ${side.label} requests (${errors} errors), at least ${needed} needed to judge the ${formatPercent(maxRate)} limit: inconclusive`,
      });
    } else {
      const over = errorRate > maxRate;
      out.push({
        metric: 'slo-error-rate',
        verdict: over ? 'fail' : 'pass',
        effect: errorRate,
        threshold,
        sentence: `slo error rate: ${side.label} ${formatPercent(errorRate)} (${errors}/${requests}) ${over ? '>' : '<='} the ${formatPercent(maxRate)} limit: ${over ? 'fail' : 'pass'}`,
      });
    }
  }
  return out;
}

function decide(
  metrics: readonly MetricEvidence[],
  passSummary: () => string,
): { verdict: Verdict; sentence: string } {
  const failed = metrics.find((m) => m.verdict === 'fail');
  if (failed) return { verdict: 'fail', sentence: failed.sentence };
  const open = metrics.find((m) => m.verdict === 'inconclusive');
  if (open) return { verdict: 'inconclusive', sentence: open.sentence };
  return { verdict: 'pass', sentence: passSummary() };
}

/**
 * Canary against baseline on the traffic both served during one step: error rate (proportion test),
 * latency (Mann-Whitney U), then the absolute SLO limits on the canary.
 */
export function judgeCanary(
  baseline: SideSamples,
  canary: SideSamples,
  t?: Partial<CanaryThresholds>,
): AnalysisEvidence {
  const thresholds = resolveThresholds(t);
  const base = describeSide('baseline', baseline);
  const can = describeSide('canary', canary);
  const errorRate = judgeErrorRate(base, can, thresholds);
  const latency = judgeLatency(base, can, thresholds);
  const slo = judgeSlo(can, thresholds.slo, thresholds.minSamples);
  const metrics = [errorRate, latency, ...slo];
  const { verdict, sentence } = decide(metrics, () => {
    const sloText =
      slo.length === 0 ? 'no SLO limits set' : `${slo.length} SLO limit${slo.length === 1 ? '' : 's'} met`;
    return (
      `canary passes: error rate ${formatPercent(can.summary.errorRate ?? 0)} vs ${formatPercent(base.summary.errorRate ?? 0)} (${formatP(errorRate.pValue ?? 1)}), ` +
      `median latency ${formatMs(can.summary.p50 ?? 0)} vs ${formatMs(base.summary.p50 ?? 0)} (${formatP(latency.pValue ?? 1)}), ${sloText}; ` +
      `${can.summary.requests} canary and ${base.summary.requests} baseline requests`
    );
  });
  return { verdict, sentence, baseline: base.summary, canary: can.summary, metrics, thresholds };
}

/**
 * The post-switch watch: the live version alone against its absolute SLO limits. Fewer than minSamples
 * requests, or no limit configured, is inconclusive — a watch that checked nothing has not passed.
 */
export function judgeWindow(
  samples: SideSamples,
  slo: CanaryThresholds['slo'],
  minSamples: number,
): AnalysisEvidence {
  const thresholds = resolveThresholds({ slo, minSamples });
  const side = describeSide('live', samples);
  const metrics = judgeSlo(side, thresholds.slo, thresholds.minSamples);
  const base = { baseline: null, canary: side.summary, metrics, thresholds };
  if (metrics.length === 0) {
    return {
      ...base,
      verdict: 'inconclusive',
      sentence:
        'watch: no SLO limits configured (p95Ms, p99Ms, maxErrorRate), so there is nothing to judge: inconclusive',
    };
  }
  const { verdict, sentence } = decide(
    metrics,
    () => `watch passes: ${metrics.map((m) => m.sentence.replace(/: pass$/, '')).join('; ')}`,
  );
  return { ...base, verdict, sentence };
}

/** Lines to print: the verdict, a small table of both sides, then one line per metric. */
export function formatEvidence(e: AnalysisEvidence): string[] {
  const cell = (v: number | null, f: (x: number) => string): string => (v === null ? '-' : f(v));
  const header = ['', 'requests', 'errors', 'error rate', 'p50', 'p95', 'p99'];
  const rows: string[][] = [header];
  const sides: [string, SideSummary | null][] = [
    ['baseline', e.baseline],
    [e.baseline === null ? 'live' : 'canary', e.canary],
  ];
  for (const [name, s] of sides) {
    if (s === null) continue;
    rows.push([
      name,
      String(s.requests),
      String(s.errors),
      cell(s.errorRate, formatPercent),
      cell(s.p50, formatMs),
      cell(s.p95, formatMs),
      cell(s.p99, formatMs),
    ]);
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const table = rows.map(
    (r) =>
      '  ' +
      r.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  '),
  );
  const metricLines = e.metrics.map(
    (m) => `  ${m.verdict.padEnd(12)} ${m.metric.padEnd(14)} ${m.sentence} [${m.threshold}]`,
  );
  return [`verdict: ${e.verdict.toUpperCase()} — ${e.sentence}`, ...table, ...metricLines];
}
