/**
 * The power table of docs/canary-statistics.md: how often the latency judgment fails a canary, over
 * seeded simulated steps (src/deploy/analysis/canary-simulation.ts), for three ways of judging it:
 * within 1-s windows with van Elteren's test and the per-window shift (the judge's default), per
 * 1-s window with a Wilcoxon signed-rank test over the windows' median differences (computed here;
 * an alternative the judge does not use) and over the whole step at once (plain Mann-Whitney,
 * `stratumSeconds: 0`). Same floors for all. Pure computation, bounded (a fixed
 * number of trials); about a minute.
 *   node --conditions=source --import tsx packages/deploy/bench/canary-power.ts [trials]
 */
import { DEFAULT_THRESHOLDS, judgeCanary } from '../src/analysis/judge.js';
import {
  hodgesLehmann,
  minWindowsFor,
  stratify,
  wilcoxonSignedRank,
  windowDifferences,
} from '../src/analysis/statistics.js';
import { simulateStep, type SimulatedStep } from '../src/analysis/canary-simulation.js';

const TRIALS = Number(process.argv[2] ?? 1000);

const scenarios: Array<{ name: string; step: SimulatedStep }> = [
  {
    name: 'steady load, both sides sampled alike (20 rps each, 10 s)',
    step: { seconds: 10, baselineRps: 20, canaryRps: 20, canaryFromSecond: 0 },
  },
  {
    name: 'load spike ×2.5 in 3 of 10 s on both sides, sampled alike',
    step: {
      seconds: 10,
      baselineRps: 20,
      canaryRps: 20,
      canaryFromSecond: 0,
      spike: { fromSecond: 4, toSecond: 7, factor: 2.5 },
    },
  },
  {
    name: 'load spike ×2.5 in 4 of 10 s on both sides, canary sampled from second 4 (baseline from 0)',
    step: {
      seconds: 10,
      baselineRps: 20,
      canaryRps: 20,
      canaryFromSecond: 4,
      spike: { fromSecond: 5, toSecond: 9, factor: 2.5 },
    },
  },
  {
    name: 'replica stalls: each side, on its own, +80 ms in a window with probability 0.1 (20 rps each, 10 s)',
    step: {
      seconds: 10,
      baselineRps: 20,
      canaryRps: 20,
      canaryFromSecond: 0,
      stalls: { probability: 0.1, addMs: 80 },
    },
  },
  {
    name: 'thin traffic: 3 rps each, 30 s, steady',
    step: { seconds: 30, baselineRps: 3, canaryRps: 3, canaryFromSecond: 0 },
  },
  {
    name: 'thin traffic: 3 rps each, 30 s, spike ×2.5 in 10 s, canary from second 10',
    step: {
      seconds: 30,
      baselineRps: 3,
      canaryRps: 3,
      canaryFromSecond: 10,
      spike: { fromSecond: 12, toSecond: 22, factor: 2.5 },
    },
  },
];
const factors = [1, 1.25, 1.5, 2];

type Method = 'van-elteren' | 'signed-rank' | 'unstratified';

/** Whether one simulated step's latency is judged failing by a method, with the judge's floors. */
function fails(method: Method, step: SimulatedStep, factor: number, seed: number): boolean {
  const { baseline, canary } = simulateStep(step, factor, seed);
  if (method === 'signed-rank') {
    const t = DEFAULT_THRESHOLDS;
    const windows = windowDifferences(stratify(baseline, canary, 1000).strata);
    const sr = wilcoxonSignedRank(windows.map((w) => w.diffMs));
    const shift = hodgesLehmann(windows.map((w) => w.diffMs));
    const ratio = hodgesLehmann(windows.map((w) => w.ratio));
    return (
      shift !== undefined &&
      ratio !== undefined &&
      windows.length >= minWindowsFor(t.alpha) &&
      sr.pGreater < t.alpha &&
      shift >= t.minLatencyEffectMs &&
      ratio >= t.minLatencyEffectRatio
    );
  }
  const e = judgeCanary(baseline, canary, { stratumMs: method === 'van-elteren' ? 1000 : 0 });
  return e.metrics.find((m) => m.metric === 'latency')?.verdict === 'fail';
}

function failRate(method: Method, step: SimulatedStep, factor: number, seedBase: number): number {
  let n = 0;
  for (let t = 0; t < TRIALS; t++) if (fails(method, step, factor, seedBase + t)) n++;
  return n / TRIALS;
}

const pct = (r: number) => `${(r * 100).toFixed(1)} %`;
const lines = [
  `Latency judged failing, ${TRIALS} seeded trials per cell (alpha 0.05, floors 5 ms and 20 %, 20 ms service ±25 %):`,
  '',
  '| scenario | test | identical: false failures | 1.25× slower | 1.5× slower | 2× slower |',
  '| --- | --- | --- | --- | --- | --- |',
];
const started = performance.now();
scenarios.forEach((sc, i) => {
  for (const [label, method] of [
    ['1-s windows: van Elteren, per-window shift (default)', 'van-elteren'],
    ['1-s windows: signed-rank over window medians', 'signed-rank'],
    ['unstratified (Mann-Whitney)', 'unstratified'],
  ] as const) {
    const cells = factors.map((f, j) => pct(failRate(method, sc.step, f, 1_000_000 * (i + 1) + 10_000 * j)));
    lines.push(`| ${sc.name} | ${label} | ${cells.join(' | ')} |`);
  }
});
lines.push('', `(${((performance.now() - started) / 1000).toFixed(1)} s)`);
process.stdout.write(`${lines.join('\n')}\n`);
