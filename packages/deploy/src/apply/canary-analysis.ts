import { StepFailedError } from '@its/core';
import { formatEvidence, judgeCanary, judgeWindow } from '../analysis/judge.js';
import {
  DEFAULT_THRESHOLDS,
  type AnalysisEvidence,
  type CanaryThresholds,
  type Verdict,
} from '../analysis/judge.js';
import { evaluatePromQueries, type PromResult } from '../analysis/prometheus.js';
import { routerName } from '../containers/container-spec.js';
import { runChecks, type CheckResult } from '../health/checks.js';
import { startLoad } from '../load/load-generator.js';
import type { Step } from '../plan/types.js';
import { splitCanarySamples } from '../analysis/canary-samples.js';
import { parseRouterLog, samplesOf, type RouterRequest } from '../router/router-log.js';
import type { EvidenceEntry } from './evidence.js';
import type { Runtime } from './runtime.js';

/**
 * The effectful half of canary analysis and the post-switch watch: wait, read the router's
 * per-request log, hand the samples to the pure judge (analysis/judge.ts), print and keep the
 * evidence, and throw when the verdict is a failure so the runner rolls back.
 */

export class AnalysisFailedError extends StepFailedError {
  constructor(
    message: string,
    readonly evidence: EvidenceEntry,
  ) {
    super(message, {
      fix: 'the evidence above names the metric and the numbers; `itsctl history --deployment ID` keeps it',
    });
  }
}

async function readRequests(rt: Runtime, fromMs: number): Promise<RouterRequest[]> {
  return parseRouterLog(await rt.engine.logsSince(routerName(rt.config.app, rt.config.name), fromMs));
}

/** Combines the built-in verdict with the PromQL ones: any fail fails; any inconclusive holds. */
function combine(analysis: AnalysisEvidence, prom: PromResult[]): { verdict: Verdict; sentence: string } {
  const failed = prom.find((p) => p.verdict === 'fail');
  if (analysis.verdict === 'fail') return { verdict: 'fail', sentence: analysis.sentence };
  if (failed) return { verdict: 'fail', sentence: `prometheus ${failed.name}: ${failed.sentence}` };
  if (analysis.verdict === 'inconclusive') return { verdict: 'inconclusive', sentence: analysis.sentence };
  const unsure = prom.find((p) => p.verdict === 'inconclusive');
  if (unsure) return { verdict: 'inconclusive', sentence: `prometheus ${unsure.name}: ${unsure.sentence}` };
  return { verdict: 'pass', sentence: analysis.sentence };
}

function printEntry(rt: Runtime, entry: EvidenceEntry): void {
  const head =
    entry.kind === 'canary-step'
      ? `    canary step ${entry.step}/${entry.of} at ${entry.weight} %${entry.extension > 0 ? ` (extension ${entry.extension})` : ''}: ${entry.verdict.toUpperCase()}`
      : `    watch: ${entry.verdict.toUpperCase()}`;
  rt.progress(`${head} — ${entry.sentence}`);
  rt.progress(
    `      samples: ${entry.source}, window ${(entry.windowMs / 1000).toFixed(1)} s${entry.unrouted ? `, ${entry.unrouted} request(s) no server took` : ''}`,
  );
  if (entry.baseline)
    rt.progress(
      `      baseline: ${entry.baseline.kind === 'fresh' ? `fresh, started with the canary (${entry.baseline.replicas.join(', ')})` : `the serving set (${entry.baseline.servers.join(', ')})`}${entry.warmup ? `; warm-up ${entry.warmup.seconds} s excluded ${entry.warmup.excluded.canary} canary and ${entry.warmup.excluded.baseline} baseline request(s)` : ''}`,
    );
  for (const line of formatEvidence(entry.analysis)) rt.progress(`      ${line}`);
  for (const p of entry.prometheus) rt.progress(`      prometheus ${p.name}: ${p.verdict} — ${p.sentence}`);
}

/** Inconclusive evidence for a window whose samples could not be read at all. */
function unreadable(reason: string, thresholds: CanaryThresholds, compared: boolean): AnalysisEvidence {
  const empty = { requests: 0, errors: 0, errorRate: null, p50: null, p95: null, p99: null };
  return {
    verdict: 'inconclusive',
    sentence: `router statistics unreadable: ${reason}; nothing was judged`,
    baseline: compared ? empty : null,
    canary: empty,
    metrics: [],
    thresholds,
  };
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * One canary step: hold the weight for the pause, then judge the requests both sides served since
 * the step began. Inconclusive extends the step (samples keep accumulating) up to maxExtensions, then
 * fails with that reason. Never passes without enough evidence.
 */
export async function analyzeCanary(
  rt: Runtime,
  step: Extract<Step, { kind: 'analyze-canary' }>,
): Promise<CheckResult[]> {
  const { judgment } = step;
  const { thresholds } = judgment;
  const fromMs = rt.now();
  // Each new replica (canary, fresh baseline) is warming up until warmupSeconds after it joined the
  // router; the long-running serving set joined before this command and has no warm-up.
  const warmupUntil = new Map<string, number>();
  for (const server of [...step.canary, ...step.baseline]) {
    const joined = rt.joinedAt.get(`${step.slot}/${server}`);
    if (joined !== undefined) warmupUntil.set(server, joined + judgment.warmupSeconds * 1000);
  }
  const synthetic = judgment.syntheticTraffic;
  const load =
    synthetic &&
    startLoad({
      url: synthetic.url,
      rps: synthetic.rps,
      // Bounded: it stops by itself even if this process forgets to.
      maxDurationMs: Math.ceil(step.pauseSeconds * (judgment.maxExtensions + 1) * 1000) + 5000,
    });
  const source = synthetic
    ? `router log; SYNTHETIC traffic: ${synthetic.rps} rps of GET ${synthetic.path} from the deploying machine, added to any real traffic`
    : 'router log (real traffic)';
  try {
    for (let extension = 0; ; extension++) {
      await rt.sleep(step.pauseSeconds * 1000);
      const toMs = rt.now();
      let unrouted = 0;
      let requests: RouterRequest[] | undefined;
      let readError = '';
      try {
        requests = await readRequests(rt, fromMs);
      } catch (error) {
        readError = messageOf(error);
      }
      let evidence: AnalysisEvidence;
      const excluded = { baseline: 0, canary: 0 };
      if (requests) {
        const split = splitCanarySamples(
          requests,
          { slot: step.slot, fromMs, toMs },
          { canary: step.canary, baseline: step.baseline },
          warmupUntil,
        );
        unrouted = split.unrouted;
        Object.assign(excluded, split.warmupExcluded);
        evidence = judgeCanary(split.baseline, split.canary, thresholds);
      } else evidence = unreadable(readError, { ...DEFAULT_THRESHOLDS, ...thresholds }, true);
      const prometheus = judgment.prometheus
        ? await evaluatePromQueries(judgment.prometheus.url, judgment.prometheus.queries, {
            timeoutMs: judgment.prometheus.timeoutMs,
            vars: judgment.prometheus.vars,
          })
        : [];
      const decided = combine(evidence, prometheus);
      const entry: EvidenceEntry = {
        kind: 'canary-step',
        at: new Date(toMs).toISOString(),
        step: step.step,
        of: step.of,
        weight: step.weight,
        extension,
        windowMs: toMs - fromMs,
        source,
        synthetic: synthetic !== undefined,
        unrouted,
        verdict: decided.verdict,
        sentence: decided.sentence,
        analysis: evidence,
        prometheus,
        baseline: {
          kind: step.baselineKind,
          servers: step.baseline,
          replicas: step.baselineReplicas,
        },
        warmup: { seconds: judgment.warmupSeconds, excluded },
      };
      rt.evidence(entry);
      printEntry(rt, entry);
      if (decided.verdict === 'pass') return [];
      if (decided.verdict === 'fail')
        throw new AnalysisFailedError(
          `canary analysis failed at step ${step.step}/${step.of} (${step.weight} %): ${decided.sentence}`,
          entry,
        );
      if (extension >= judgment.maxExtensions)
        throw new AnalysisFailedError(
          `canary analysis stayed inconclusive at step ${step.step}/${step.of} (${step.weight} %) after ${extension} extension(s): ${decided.sentence}`,
          entry,
        );
      rt.progress(
        `      holding ${step.weight} % for another ${step.pauseSeconds} s (extension ${extension + 1} of ${judgment.maxExtensions}): inconclusive is never a pass`,
      );
    }
  } finally {
    await load?.stop();
  }
}

/**
 * The post-switch watch: every interval, the API check on each new replica (one attempt) and the SLOs
 * over the trailing window of router traffic. `failAfter` consecutive failed health rounds, or an SLO
 * failure with enough samples, throws (the runner rolls back). At the end, the whole window is judged
 * once more and kept as evidence; thin traffic there is reported as not judged, not as a pass.
 */
export async function watchAfterSwitch(
  rt: Runtime,
  step: Extract<Step, { kind: 'watch' }>,
  deps: Parameters<typeof runChecks>[0],
  endpoints: Parameters<typeof runChecks>[1],
): Promise<CheckResult[]> {
  const watch = step.judgment;
  const fromMs = rt.now();
  const endMs = fromMs + step.seconds * 1000;
  let failedRounds = 0;
  let lastHealth: CheckResult[] = [];
  const apiOnce = {
    ...rt.config.healthChecks,
    api: { ...rt.config.healthChecks.api, retries: 1 },
  };
  const judge = async (windowFrom: number, toMs: number) => {
    let requests: RouterRequest[];
    try {
      requests = await readRequests(rt, windowFrom);
    } catch (error) {
      const thresholds = { ...DEFAULT_THRESHOLDS, minSamples: watch.minSamples, slo: watch.slo };
      return { evidence: unreadable(messageOf(error), thresholds, false), unrouted: 0 };
    }
    const samples = samplesOf(requests, { slot: step.slot, fromMs: windowFrom, toMs }, step.servers);
    return { evidence: judgeWindow(samples, watch.slo, watch.minSamples), unrouted: samples.unrouted };
  };
  const entryOf = (
    evidence: AnalysisEvidence,
    windowFrom: number,
    toMs: number,
    unrouted: number,
    verdict: Verdict,
    sentence: string,
  ): EvidenceEntry => ({
    kind: 'watch',
    at: new Date(toMs).toISOString(),
    extension: 0,
    windowMs: toMs - windowFrom,
    source: 'router log (real traffic)',
    synthetic: false,
    unrouted,
    verdict,
    sentence,
    analysis: evidence,
    prometheus: [],
  });
  rt.progress(
    `    watching for ${step.seconds} s: API check every ${watch.intervalMs} ms, SLOs over the last ${watch.windowSeconds} s`,
  );
  while (rt.now() < endMs) {
    await rt.sleep(Math.min(watch.intervalMs, Math.max(0, endMs - rt.now())));
    const toMs = rt.now();
    lastHealth = await runChecks(deps, endpoints, ['api'], apiOnce);
    const sick = lastHealth.find((r) => !r.ok);
    failedRounds = sick ? failedRounds + 1 : 0;
    const windowFrom = Math.max(fromMs, toMs - watch.windowSeconds * 1000);
    const { evidence, unrouted } = await judge(windowFrom, toMs);
    if (sick && failedRounds >= watch.failAfter) {
      const sentence = `health check failed ${failedRounds} round(s) in a row ${((toMs - fromMs) / 1000).toFixed(1)} s after the switch: ${sick.target}: ${sick.reason}`;
      const entry = entryOf(evidence, windowFrom, toMs, unrouted, 'fail', sentence);
      rt.evidence(entry);
      printEntry(rt, entry);
      throw new AnalysisFailedError(`post-switch watch failed: ${sentence}`, entry);
    }
    if (evidence.verdict === 'fail') {
      const sentence = `${evidence.sentence} (${((toMs - fromMs) / 1000).toFixed(1)} s after the switch)`;
      const entry = entryOf(evidence, windowFrom, toMs, unrouted, 'fail', sentence);
      rt.evidence(entry);
      printEntry(rt, entry);
      throw new AnalysisFailedError(`post-switch watch failed: ${sentence}`, entry);
    }
  }
  const toMs = rt.now();
  const { evidence, unrouted } = await judge(fromMs, toMs);
  const sentence =
    evidence.verdict === 'inconclusive'
      ? `health checks passed for ${step.seconds} s; SLOs not judged: ${evidence.sentence}`
      : evidence.sentence;
  const entry = entryOf(evidence, fromMs, toMs, unrouted, evidence.verdict, sentence);
  rt.evidence(entry);
  printEntry(rt, entry);
  return lastHealth;
}
