import { describe, expect, it } from 'vitest';
import { ConfigError, InternalError } from '@its/core';
import { seededRandom, simulateStep, type SimulatedStep } from './canary-simulation.js';
import type { AnalysisEvidence, CanaryThresholds, MetricEvidence, SideSamples, Verdict } from './judge.js';
import { DEFAULT_THRESHOLDS, formatEvidence, judgeCanary, judgeWindow } from './judge.js';

/** mulberry32, the simulator's seeded generator: every case sees the same samples on every run. */
const seeded = seededRandom;

/**
 * Latencies shaped like a web service's: a 20 ms floor plus an exponential tail (mean 10 ms), rounded to
 * 0.1 ms as a log would — so ties happen, as they do in HAProxy's integer-ms logs.
 */
function latencies(seed: number, n: number, transform: (ms: number) => number = (ms) => ms): number[] {
  const rnd = seeded(seed);
  return Array.from({ length: n }, () => Math.round(transform(20 - 10 * Math.log(1 - rnd())) * 10) / 10);
}

function side(
  seed: number,
  requests: number,
  errors: number,
  transform?: (ms: number) => number,
): SideSamples {
  return { requests, errors, latenciesMs: latencies(seed, requests, transform) };
}

function metric(e: AnalysisEvidence, name: MetricEvidence['metric']): MetricEvidence {
  const m = e.metrics.find((x) => x.metric === name);
  if (m === undefined)
    throw new Error(`no ${name} metric in ${JSON.stringify(e.metrics.map((x) => x.metric))}`);
  return m;
}

describe('judgeCanary', () => {
  const cases: {
    name: string;
    baseline: SideSamples;
    canary: SideSamples;
    thresholds?: Partial<CanaryThresholds>;
    verdict: 'pass' | 'fail' | 'inconclusive';
    /** the metric whose sentence decides; undefined for a pass (the summary sentence) */
    decidedBy?: MetricEvidence['metric'];
    /** a fragment the deciding sentence must contain */
    says: string | RegExp;
  }[] = [
    {
      name: 'identical distributions, same error rate, 1000 each: pass',
      baseline: side(1, 1000, 2),
      canary: side(2, 1000, 2),
      thresholds: { slo: { p95Ms: 200, p99Ms: 300, maxErrorRate: 0.01 } },
      verdict: 'pass',
      says: /^canary passes: error rate 0\.2 % vs 0\.2 % \(p = [\d.]+\), median latency [\d.]+ ms vs [\d.]+ ms \(p = [\d.e-]+\), 3 SLO limits met; 1000 canary and 1000 baseline requests$/,
    },
    {
      name: 'latency doubled: fail, naming latency',
      baseline: side(3, 1000, 0),
      canary: side(4, 1000, 0, (ms) => ms * 2),
      verdict: 'fail',
      decidedBy: 'latency',
      says: /^latency: canary median [\d.]+ ms vs baseline [\d.]+ ms \(\+[\d.]+ ms, \+\d+ %; 1000 vs 1000 samples\), Mann-Whitney U = \d+(\.5)? \(z = [\d.]+\), one-sided p = [\d.e-]+ < 0\.05 and the shift clears the floor \(5 ms and 20 %\): fail$/,
    },
    {
      name: '+1 ms with 20 000 each: significant but under the 5 ms floor, pass',
      baseline: side(5, 20_000, 0),
      canary: side(6, 20_000, 0, (ms) => ms + 1),
      verdict: 'pass',
      says: 'canary passes',
    },
    {
      name: '5 % errors vs 0 % with 1000 each: fail, naming error-rate',
      baseline: side(7, 1000, 0),
      canary: side(8, 1000, 50),
      verdict: 'fail',
      decidedBy: 'error-rate',
      says: /^error rate: canary 5\.0 % \(50\/1000\) vs baseline 0\.0 % \(0\/1000\), \+5\.0 pp, one-sided z-test p = [\d.e-]+ < 0\.05 and \+5\.0 pp >= the 1\.0 pp floor: fail$/,
    },
    {
      name: 'tiny samples (5 each), visibly worse on every metric: inconclusive, not pass (Kayenta #780)',
      baseline: side(9, 5, 0),
      canary: side(10, 5, 3, (ms) => ms * 3),
      thresholds: { slo: { p95Ms: 30, maxErrorRate: 0.01 } },
      verdict: 'inconclusive',
      decidedBy: 'error-rate',
      says: 'too few requests to judge (5 canary, 5 baseline; at least 50 per side needed): inconclusive',
    },
    {
      name: 'zero canary requests: inconclusive',
      baseline: side(11, 1500, 1),
      canary: { requests: 0, errors: 0, latenciesMs: [] },
      verdict: 'inconclusive',
      decidedBy: 'error-rate',
      says: 'error rate: no requests reached the canary (0 canary, 1500 baseline requests): inconclusive',
    },
    {
      name: 'zero baseline requests: inconclusive',
      baseline: { requests: 0, errors: 0, latenciesMs: [] },
      canary: side(12, 700, 0),
      verdict: 'inconclusive',
      decidedBy: 'error-rate',
      says: 'no requests reached the baseline',
    },
    {
      name: 'no requests on either side: inconclusive',
      baseline: { requests: 0, errors: 0, latenciesMs: [] },
      canary: { requests: 0, errors: 0, latenciesMs: [] },
      thresholds: { slo: { p95Ms: 100 } },
      verdict: 'inconclusive',
      decidedBy: 'error-rate',
      says: 'no requests reached the canary or the baseline (0 canary, 0 baseline requests)',
    },
    {
      name: 'SLO p95 exceeded: fail even though the baseline is just as slow',
      baseline: side(13, 1000, 0, (ms) => ms * 3),
      canary: side(14, 1000, 0, (ms) => ms * 3),
      thresholds: { slo: { p95Ms: 100 } },
      verdict: 'fail',
      decidedBy: 'slo-p95',
      says: /^slo p95: canary p95 1\d\d\.\d ms > the 100 ms limit \(1000 samples\): fail$/,
    },
    {
      name: 'SLO p99 exceeded: fail',
      baseline: side(15, 1000, 0),
      canary: side(16, 1000, 0),
      thresholds: { slo: { p95Ms: 1000, p99Ms: 40 } },
      verdict: 'fail',
      decidedBy: 'slo-p99',
      says: '> the 40 ms limit (1000 samples): fail',
    },
    {
      name: 'SLO error rate exceeded: fail (the 1.0 pp comparison alone would pass it)',
      baseline: side(17, 2000, 10),
      canary: side(18, 2000, 12),
      thresholds: { slo: { maxErrorRate: 0.005 } },
      verdict: 'fail',
      decidedBy: 'slo-error-rate',
      says: 'slo error rate: canary 0.6 % (12/2000) > the 0.5 % limit: fail',
    },
    {
      name: '500 each without errors: the error-rate test lacks power (615 needed), inconclusive',
      baseline: side(19, 500, 0),
      canary: side(20, 500, 0),
      verdict: 'inconclusive',
      decidedBy: 'error-rate',
      says: '500 canary and 500 baseline requests, 615 needed per side to detect a 1.0 pp increase at alpha 0.05 with power 0.8: inconclusive',
    },
    {
      name: 'error increase above the floor but not significant yet: inconclusive, not pass',
      baseline: side(21, 60, 0),
      canary: side(22, 60, 2),
      verdict: 'inconclusive',
      decidedBy: 'error-rate',
      says: /\+3\.3 pp, one-sided Fisher exact p = 0\.\d+ >= 0\.05: \+3\.3 pp is at least the 1\.0 pp floor but not yet significant/,
    },
    {
      name: 'error increase significant but under the floor (0.5 pp on 100 000 requests): pass',
      baseline: { requests: 100_000, errors: 500, latenciesMs: latencies(23, 1000) },
      canary: { requests: 100_000, errors: 1000, latenciesMs: latencies(24, 1000) },
      verdict: 'pass',
      says: 'canary passes: error rate 1.0 % vs 0.5 %',
    },
    {
      name: 'a bimodal median jump without a rank difference: inconclusive, not fail and not pass',
      // Nearest-rank medians land on different modes (10 vs 100 ms) although the samples differ by one value.
      baseline: { requests: 700, errors: 0, latenciesMs: [...Array(26).fill(10), ...Array(25).fill(100)] },
      canary: { requests: 700, errors: 0, latenciesMs: [...Array(25).fill(10), ...Array(26).fill(100)] },
      verdict: 'inconclusive',
      decidedBy: 'latency',
      says: 'the median shift clears the floor (5 ms and 20 %) but is not yet significant; more samples needed: inconclusive',
    },
    {
      // At a 0.8 % baseline rate the error-rate test needs 1586 requests per side (SciPy, as in statistics.test.ts).
      name: 'canary faster and with fewer errors, 2000 each: pass',
      baseline: side(25, 2000, 16),
      canary: side(26, 2000, 2, (ms) => ms * 0.7),
      verdict: 'pass',
      says: 'canary passes',
    },
    {
      name: 'requests but no latency samples from the canary: inconclusive',
      baseline: side(27, 1000, 0),
      canary: { requests: 1000, errors: 0, latenciesMs: [] },
      verdict: 'inconclusive',
      decidedBy: 'latency',
      says: 'latency: no latency samples from the canary (0 canary, 1000 baseline latency samples): inconclusive',
    },
    {
      name: 'fail beats inconclusive: too few for the error-rate test, but latency doubled on 300 each',
      baseline: side(28, 300, 0),
      canary: side(29, 300, 0, (ms) => ms * 2),
      verdict: 'fail',
      decidedBy: 'latency',
      says: 'clears the floor (5 ms and 20 %): fail',
    },
    {
      name: 'SLO p99 on 80 samples: inconclusive (p99 needs 100), although the value is over the limit',
      baseline: side(30, 80, 0),
      canary: side(31, 80, 0),
      thresholds: { maxErrorRateIncrease: 0.2, slo: { p99Ms: 30 } },
      verdict: 'inconclusive',
      decidedBy: 'slo-p99',
      says: /^slo p99: 80 canary latency samples \(p99 so far [\d.]+ ms\), at least 100 needed to judge the 30 ms limit: inconclusive$/,
    },
    {
      name: 'SLO error rate 0.1 % on 700 requests: inconclusive (one error would already be 0.14 %)',
      baseline: side(32, 700, 0),
      canary: side(33, 700, 0),
      thresholds: { slo: { maxErrorRate: 0.001 } },
      verdict: 'inconclusive',
      decidedBy: 'slo-error-rate',
      says: 'slo error rate: 700 canary requests (0 errors), at least 1000 needed to judge the 0.1 % limit: inconclusive',
    },
  ];

  it.each(cases)('$name', ({ baseline, canary, thresholds, verdict, decidedBy, says }) => {
    const e = judgeCanary(baseline, canary, thresholds);
    expect(e.verdict).toBe(verdict);
    if (typeof says === 'string') expect(e.sentence).toContain(says);
    else expect(e.sentence).toMatch(says);
    if (decidedBy !== undefined) {
      const deciding = e.metrics.find((m) => m.verdict === verdict);
      expect(deciding?.metric).toBe(decidedBy);
      expect(e.sentence).toBe(deciding?.sentence);
    } else {
      expect(e.metrics.every((m) => m.verdict === 'pass')).toBe(true);
    }
  });

  /** A side whose requests fail independently with probability `rate` (seeded). */
  function sideWithRate(
    seed: number,
    requests: number,
    rate: number,
    transform?: (ms: number) => number,
  ): SideSamples {
    const rnd = seeded(seed * 7919);
    let errors = 0;
    for (let i = 0; i < requests; i++) if (rnd() < rate) errors++;
    return { requests, errors, latenciesMs: latencies(seed, requests, transform) };
  }

  it('over 100 seeded trials, identical versions (2000 requests each, 0.2 % errors) never fail and all pass', () => {
    const verdicts = Array.from(
      { length: 100 },
      (_, i) => judgeCanary(sideWithRate(1000 + i, 2000, 0.002), sideWithRate(2000 + i, 2000, 0.002)).verdict,
    );
    expect(verdicts.filter((v) => v === 'fail')).toHaveLength(0);
    expect(verdicts.filter((v) => v === 'pass')).toHaveLength(100);
  });

  it('over 100 seeded trials, a canary 1.5× slower on 200 requests each always fails on latency', () => {
    const deciding = Array.from({ length: 100 }, (_, i) => {
      const e = judgeCanary(
        sideWithRate(3000 + i, 200, 0),
        sideWithRate(4000 + i, 200, 0, (ms) => ms * 1.5),
      );
      return `${e.verdict} ${e.metrics.find((m) => m.verdict === 'fail')?.metric ?? ''}`;
    });
    expect(new Set(deciding)).toEqual(new Set(['fail latency']));
  });

  it('the +1 ms case really is significant: the floor, not the test, lets it pass', () => {
    const e = judgeCanary(
      side(5, 20_000, 0),
      side(6, 20_000, 0, (ms) => ms + 1),
    );
    const latency = metric(e, 'latency');
    expect(latency.verdict).toBe('pass');
    expect(latency.pValue).toBeLessThan(1e-10);
    expect(latency.effect).toBeGreaterThan(0.5);
    expect(latency.effect).toBeLessThan(5);
    expect(latency.sentence).toMatch(/< 0\.05 but \+[\d.]+ ms is under the floor \(5 ms and 20 %\): pass$/);
  });

  it('a significant 0.5 pp error increase passes only because of the floor, and says so', () => {
    const e = judgeCanary(
      { requests: 100_000, errors: 500, latenciesMs: latencies(23, 1000) },
      { requests: 100_000, errors: 1000, latenciesMs: latencies(24, 1000) },
    );
    const errorRate = metric(e, 'error-rate');
    expect(errorRate.test).toBe('two-proportion z-test');
    expect(errorRate.pValue).toBeLessThan(1e-20);
    expect(errorRate.effect).toBeCloseTo(0.005, 12);
    expect(errorRate.sentence).toContain('< 0.05 but +0.5 pp < the 1.0 pp floor: pass');
  });

  it('tiny samples still carry their statistics as evidence', () => {
    const e = judgeCanary(
      side(9, 5, 0),
      side(10, 5, 3, (ms) => ms * 3),
    );
    const errorRate = metric(e, 'error-rate');
    expect(errorRate).toMatchObject({ verdict: 'inconclusive', test: 'fisher-exact', effect: 0.6 });
    expect(errorRate.pValue).toBeGreaterThan(0);
    const latency = metric(e, 'latency');
    expect(latency).toMatchObject({ verdict: 'inconclusive', test: 'mann-whitney-u', statistic: 25 });
    expect(latency.pValue).toBeCloseTo(1 / 252, 12);
  });

  it('the evidence holds both sides, every metric and the resolved thresholds, and survives JSON', () => {
    const e = judgeCanary(
      side(3, 1000, 4),
      side(4, 500, 26, (ms) => ms * 2),
      { alpha: 0.01, slo: { p95Ms: 500 } },
    );
    expect(e.baseline).toMatchObject({ requests: 1000, errors: 4, errorRate: 0.004 });
    expect(e.canary).toMatchObject({ requests: 500, errors: 26, errorRate: 0.052 });
    for (const s of [e.baseline, e.canary]) {
      expect(s?.p50).toBeLessThanOrEqual(s?.p95 as number);
      expect(s?.p95).toBeLessThanOrEqual(s?.p99 as number);
    }
    expect(e.metrics.map((m) => m.metric)).toEqual(['error-rate', 'latency', 'slo-p95']);
    expect(e.thresholds).toEqual({ ...DEFAULT_THRESHOLDS, alpha: 0.01, slo: { p95Ms: 500 } });
    expect(metric(e, 'error-rate').threshold).toBe(
      'p < 0.01 and increase >= 1.0 pp; >= 1789 requests per side', // 1788.89 (SciPy),
    );
    expect(metric(e, 'slo-p95').threshold).toBe('p95 <= 500 ms');
    expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });

  it('ignores undefined overrides instead of erasing a default', () => {
    const e = judgeCanary(side(1, 100, 0), side(2, 100, 0), { alpha: undefined, slo: { p95Ms: undefined } });
    expect(e.thresholds).toEqual(DEFAULT_THRESHOLDS);
  });

  it('accepts the edges the environment schema allows (config/environment-schema.ts)', () => {
    // A 0 % error-rate limit fails on the first error; a 100 pp floor never fails the comparison.
    const e = judgeCanary(side(50, 1000, 0), side(51, 1000, 1), {
      maxErrorRateIncrease: 1,
      slo: { maxErrorRate: 0 },
    });
    expect(metric(e, 'error-rate').verdict).toBe('pass');
    expect(metric(e, 'slo-error-rate')).toMatchObject({ verdict: 'fail', effect: 0.001 });
    expect(e.sentence).toBe('slo error rate: canary 0.1 % (1/1000) > the 0.0 % limit: fail');
    const all = judgeWindow(side(52, 100, 100), { maxErrorRate: 1 }, 50);
    expect(all.verdict).toBe('pass');
  });

  it('reports every bad threshold at once, each with its field path', () => {
    const bad = {
      alpha: 1.5,
      power: 0,
      minSamples: 0,
      maxErrorRateIncrease: 5,
      minLatencyEffectMs: -1,
      minLatencyEffectRatio: Number.NaN,
      slo: { p95Ms: 0, maxErrorRate: 2 },
    };
    expect(() => judgeCanary(side(1, 10, 0), side(2, 10, 0), bad)).toThrow(ConfigError);
    try {
      judgeCanary(side(1, 10, 0), side(2, 10, 0), bad);
    } catch (error) {
      const message = (error as Error).message;
      for (const path of [
        'thresholds.alpha',
        'thresholds.power',
        'thresholds.minSamples',
        'thresholds.maxErrorRateIncrease',
        'thresholds.minLatencyEffectMs',
        'thresholds.minLatencyEffectRatio',
        'thresholds.slo.p95Ms',
        'thresholds.slo.maxErrorRate',
      ]) {
        expect(message).toContain(`${path}:`);
      }
    }
  });

  it.each([
    {
      name: 'more errors than requests',
      canary: { requests: 3, errors: 4, latenciesMs: [] },
      path: 'canary.errors',
    },
    {
      name: 'fractional requests',
      canary: { requests: 2.5, errors: 0, latenciesMs: [] },
      path: 'canary.requests',
    },
    {
      name: 'a negative latency',
      canary: { requests: 1, errors: 0, latenciesMs: [-3] },
      path: 'canary.latenciesMs[0]',
    },
    {
      name: 'a NaN latency',
      canary: { requests: 2, errors: 0, latenciesMs: [1, Number.NaN] },
      path: 'canary.latenciesMs[1]',
    },
  ])('rejects impossible samples: $name', ({ canary, path }) => {
    expect(() => judgeCanary(side(1, 10, 0), canary)).toThrow(InternalError);
    expect(() => judgeCanary(side(1, 10, 0), canary)).toThrow(path);
  });
});

describe('judgeWindow (post-switch watch)', () => {
  const slo = { p95Ms: 100, p99Ms: 200, maxErrorRate: 0.01 };
  it.each([
    {
      name: 'within every limit: pass',
      samples: side(40, 400, 1),
      slo,
      verdict: 'pass',
      says: /^watch passes: slo p95: live p95 [\d.]+ ms <= the 100 ms limit \(400 samples\); slo p99: .*; slo error rate: live 0\.3 % \(1\/400\) <= the 1\.0 % limit$/,
    },
    {
      name: 'p95 over its limit: fail',
      samples: side(41, 400, 0),
      slo: { ...slo, p95Ms: 40 },
      verdict: 'fail',
      says: /^slo p95: live p95 \d+\.\d ms > the 40 ms limit \(400 samples\): fail$/,
    },
    {
      name: 'error rate over its limit: fail',
      samples: side(42, 400, 9),
      slo,
      verdict: 'fail',
      says: 'slo error rate: live 2.3 % (9/400) > the 1.0 % limit: fail',
    },
    {
      name: 'fewer than minSamples: inconclusive, even when visibly over the limit',
      samples: side(43, 30, 0, (ms) => ms * 10),
      slo,
      verdict: 'inconclusive',
      says: /^slo p95: 30 live latency samples \(p95 so far [\d.]+ ms\), at least 50 needed to judge the 100 ms limit: inconclusive$/,
    },
    {
      name: 'no requests at all: inconclusive',
      samples: { requests: 0, errors: 0, latenciesMs: [] },
      slo: { maxErrorRate: 0.05 },
      verdict: 'inconclusive',
      says: 'slo error rate: 0 live requests (0 errors), at least 50 needed to judge the 5.0 % limit: inconclusive',
    },
    {
      name: 'no limits configured: inconclusive, a watch that checked nothing has not passed',
      samples: side(44, 400, 0),
      slo: {},
      verdict: 'inconclusive',
      says: 'watch: no SLO limits configured',
    },
  ])('$name', ({ samples, slo: limits, verdict, says }) => {
    const e = judgeWindow(samples, limits, 50);
    expect(e.verdict).toBe(verdict);
    expect(e.baseline).toBeNull();
    expect(e.metrics.every((m) => m.metric.startsWith('slo-'))).toBe(true);
    if (typeof says === 'string') expect(e.sentence).toContain(says);
    else expect(e.sentence).toMatch(says);
  });

  it('uses the given minSamples and rejects a meaningless one', () => {
    const e = judgeWindow(side(45, 120, 0), { p95Ms: 1000 }, 200);
    expect(e.verdict).toBe('inconclusive');
    expect(e.thresholds.minSamples).toBe(200);
    expect(() => judgeWindow(side(45, 120, 0), { p95Ms: 1000 }, 0)).toThrow('thresholds.minSamples:');
  });
});

describe('formatEvidence', () => {
  it('prints the verdict, a table of both sides and one line per metric', () => {
    const e = judgeCanary(
      side(3, 1500, 2),
      side(4, 500, 26, (ms) => ms * 2),
      { slo: { p95Ms: 500 } },
    );
    const lines = formatEvidence(e);
    expect(lines[0]).toBe(`verdict: FAIL — ${e.sentence}`);
    expect(lines[1]).toMatch(/^\s+requests\s+errors\s+error rate\s+p50\s+p95\s+p99$/);
    expect(lines[2]).toMatch(/^\s+baseline\s+1500\s+2\s+0\.1 %\s+[\d.]+ ms\s+[\d.]+ ms\s+[\d.]+ ms$/);
    expect(lines[3]).toMatch(/^\s+canary\s+500\s+26\s+5\.2 %\s+[\d.]+ ms\s+[\d.]+ ms\s+[\d.]+ ms$/);
    expect(lines.slice(4)).toHaveLength(3);
    expect(lines[4]).toMatch(
      /^\s+fail\s+error-rate\s+error rate: canary 5\.2 % \(26\/500\).*\[p < 0\.05 and increase >= 1\.0 pp; >= \d+ requests per side\]$/,
    );
    expect(lines[5]).toContain('latency: canary median');
    expect(lines[6]).toContain('[p95 <= 500 ms]');
  });

  it('marks missing values with "-" and labels the watch side "live"', () => {
    const lines = formatEvidence(judgeWindow({ requests: 0, errors: 0, latenciesMs: [] }, { p95Ms: 10 }, 50));
    expect(lines[0]).toMatch(/^verdict: INCONCLUSIVE — slo p95: 0 live latency samples, at least 50 needed/);
    expect(lines.some((l) => /^\s+baseline/.test(l))).toBe(false);
    expect(lines[2]).toMatch(/^\s+live\s+0\s+0\s+-\s+-\s+-\s+-$/);
  });
});

describe('judgeCanary, latency within 1-s windows (van Elteren)', () => {
  // A load spike (×2.5 on every request of BOTH sides) in seconds 5–8; the canary is sampled only
  // from second 4 on, the baseline from 0 — as when a long-running baseline is compared with a canary
  // whose warm-up was excluded. The canary's samples are mostly spike seconds, the baseline's mostly not.
  const spikeLate: SimulatedStep = {
    seconds: 10,
    baselineRps: 120,
    canaryRps: 120,
    canaryFromSecond: 4,
    spike: { fromSecond: 5, toSecond: 9, factor: 2.5 },
  };
  const steady: SimulatedStep = { seconds: 10, baselineRps: 80, canaryRps: 80, canaryFromSecond: 0 };
  const spikeAlike: SimulatedStep = { ...steady, spike: { fromSecond: 3, toSecond: 6, factor: 2.5 } };
  const cases: Array<{
    name: string;
    step: SimulatedStep;
    factor: number;
    stratified: Verdict;
    unstratified: Verdict;
  }> = [
    {
      name: 'identical versions, a load spike on both sides, sampled at different moments: only the unstratified test fails it',
      step: spikeLate,
      factor: 1,
      stratified: 'pass',
      unstratified: 'fail',
    },
    {
      name: 'identical versions, steady load: both pass',
      step: steady,
      factor: 1,
      stratified: 'pass',
      unstratified: 'pass',
    },
    {
      name: 'identical versions, a spike sampled alike on both sides: both pass',
      step: spikeAlike,
      factor: 1,
      stratified: 'pass',
      unstratified: 'pass',
    },
    {
      name: '1.5× slower, steady: both fail',
      step: steady,
      factor: 1.5,
      stratified: 'fail',
      unstratified: 'fail',
    },
    {
      name: '1.5× slower under the late spike: still failed within the windows',
      step: spikeLate,
      factor: 1.5,
      stratified: 'fail',
      unstratified: 'fail',
    },
    {
      name: '2× slower, spike alike: both fail',
      step: spikeAlike,
      factor: 2,
      stratified: 'fail',
      unstratified: 'fail',
    },
  ];
  it.each(cases)('$name', ({ step, factor, stratified, unstratified }) => {
    const { baseline, canary } = simulateStep(step, factor, 42);
    const s = judgeCanary(baseline, canary);
    const u = judgeCanary(baseline, canary, { stratumMs: 0 });
    expect(metric(s, 'latency').test).toBe('van-elteren');
    expect(metric(u, 'latency').test).toBe('mann-whitney-u');
    expect(metric(s, 'latency').verdict).toBe(stratified);
    expect(metric(u, 'latency').verdict).toBe(unstratified);
  });

  it("the false failure it prevents is the issue's: pooled medians +50 % apart, the same inside each second", () => {
    const { baseline, canary } = simulateStep(spikeLate, 1, 42);
    const s = judgeCanary(baseline, canary);
    const u = judgeCanary(baseline, canary, { stratumMs: 0 });
    expect(s.canary.p50! / s.baseline!.p50!).toBeGreaterThan(1.5);
    expect(u.verdict).toBe('fail');
    expect(metric(u, 'latency').sentence).toMatch(
      /Mann-Whitney U = .* < 0\.05 and the shift clears the floor/,
    );
    const latency = metric(s, 'latency');
    expect(Math.abs(latency.effect!)).toBeLessThan(2);
    // Seconds 0–3 have baseline samples only: not compared, and counted.
    expect(latency.strata).toEqual({
      windows: 6,
      stratumMs: 1000,
      paired: { baseline: 720, canary: 720 },
      unpaired: { baseline: 480, canary: 0 },
    });
    expect(latency.sentence).toMatch(
      /^latency: canary median 49\.0 ms vs baseline 25\.0 ms; in the same 6 1-s windows with both sides \(720 canary, 720 baseline samples; 0 canary and 480 baseline samples in windows the other side had none in not compared\) the canary is \+0\.5 ms \(\+1 %; slower in 3 of them\), stratified Mann-Whitney \(van Elteren\) z = 1\.45, one-sided p = 0\.074 >= 0\.05: pass$/,
    );
    expect(s.verdict).toBe('pass');
  });

  it('counts only samples and windows both sides share toward minSamples and the 5 windows', () => {
    const { baseline, canary } = simulateStep({ ...steady, canaryRps: 10, canaryFromSecond: 6 }, 2, 7);
    const latency = metric(judgeCanary(baseline, canary), 'latency');
    expect(latency.verdict).toBe('inconclusive');
    expect(latency.sentence).toMatch(
      /4 1-s windows with both sides \(40 canary, 320 baseline samples; 0 canary and 480 baseline samples in windows the other side had none in not compared\); at least 5 windows and 50 samples per side in them needed: inconclusive$/,
    );
  });

  it('one window in which the canary stalled does not fail an identical version: the shift is per window', () => {
    const { baseline, canary } = simulateStep(steady, 1, 11);
    // Second 3: every canary request waits 80 ms more (its replica was descheduled).
    const stalled = {
      ...canary,
      latenciesMs: canary.latenciesMs.map((ms, i) =>
        Math.floor(canary.atMs[i]! / 1000) === 3 ? ms + 80 : ms,
      ),
    };
    const latency = metric(judgeCanary(baseline, stalled), 'latency');
    // Request by request, the 80 stalled requests are strong evidence…
    expect(latency.pValue).toBeLessThan(0.05);
    // …of one bad second: the per-window shift stays under the floor.
    expect(Math.abs(latency.effect!)).toBeLessThan(5);
    expect(latency.verdict).toBe('pass');
  });

  it('a few seconds are too few windows to judge, however many requests they hold', () => {
    const { baseline, canary } = simulateStep(
      { ...steady, seconds: 3, baselineRps: 400, canaryRps: 400 },
      2,
      5,
    );
    const latency = metric(judgeCanary(baseline, canary), 'latency');
    expect(latency.pValue).toBeLessThan(1e-10);
    expect(latency.verdict).toBe('inconclusive');
    expect(latency.threshold).toMatch(/>= 5 windows$/);
  });

  it('without timestamps on a side, the whole step is compared at once', () => {
    const { baseline, canary } = simulateStep(steady, 1, 3);
    const e = judgeCanary({ ...baseline, atMs: undefined }, canary);
    expect(metric(e, 'latency').test).toBe('mann-whitney-u');
  });

  it('refuses timestamps that do not match the latencies, and a negative window', () => {
    const { baseline, canary } = simulateStep(steady, 1, 3);
    expect(() => judgeCanary({ ...baseline, atMs: [1] }, canary)).toThrow(InternalError);
    expect(() => judgeCanary(baseline, canary, { stratumMs: -1 })).toThrow(/thresholds\.stratumMs/);
  });
});
