import { DEFAULT_THRESHOLDS } from '../analysis/judge.js';
import { renderPromQuery } from '../analysis/prometheus.js';
import type { CanaryJudgment, Plan, Step, WatchJudgment } from './types.js';

/** One line per step, exactly what the runner will do (dry-run and progress use the same words). */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'ensure-router':
      return 'start the router (HAProxy) and the environment network';
    case 'run-migration':
      return `run migrations: ${step.image} ${step.command.join(' ')}`;
    case 'start-replica':
      return `start ${step.replica.name} (${step.replica.version}, ${step.replica.digest}) in slot ${step.replica.slot}${step.replica.baseline ? " as the canary's fresh baseline" : ''}`;
    case 'check-replicas':
      return `check ${step.replicas.join(', ')}: ${step.checks.join(', ')}`;
    case 'add-server':
      return `router: add ${step.slot}/${step.server} → ${step.replica}, weight ${step.weight ?? 100}, ready`;
    case 'set-weights':
      return `router: weights in ${step.slot}: ${step.weights.map((w) => `${w.server}=${w.weight}`).join(', ')}`;
    case 'analyze-canary':
      return step.baselineKind === 'fresh'
        ? `canary step ${step.step}/${step.of}: ${step.weight} % of traffic to ${step.canary.join(', ')} for ${step.pauseSeconds} s — canary ${step.shares.canary} % / fresh baseline ${step.shares.baseline} % / serving ${step.shares.serving} % — then compare with the fresh baseline ${step.baseline.join(', ')} (error rate, latency, SLOs)`
        : `canary step ${step.step}/${step.of}: ${step.weight} % of traffic to ${step.canary.join(', ')} for ${step.pauseSeconds} s — canary ${step.shares.canary} % / serving ${step.shares.serving} % — then compare with the serving set ${step.baseline.join(', ')} (error rate, latency, SLOs)`;
    case 'watch':
      return `watch ${step.servers.join(', ')} for ${step.seconds} s after the switch: health checks and SLOs; a failure rolls back`;
    case 'ready-server':
      return `router: set ${step.slot}/${step.server} ready`;
    case 'drain-server':
      return `router: drain ${step.slot}/${step.server} (wait ≤ ${step.timeoutMs} ms for its sessions), then maint`;
    case 'remove-server':
      return `router: remove ${step.slot}/${step.server}`;
    case 'stop-replica':
      return `stop ${step.replica} (kept until the deployment completes)`;
    case 'restart-replica':
      return `start ${step.replica} again and wait until it is healthy`;
    case 'remove-replica':
      return `remove ${step.replica}`;
    case 'switch-slot':
      return `router: switch all traffic ${step.from} → ${step.to} (one step)`;
    case 'retain-slot':
      return `keep slot ${step.slot} running ${step.seconds} s for an instant rollback (retired by the next deployment)`;
  }
}

const pct = (ratio: number) => `${+(ratio * 100).toFixed(2)} %`;

function describeSlo(slo: WatchJudgment['slo']): string[] {
  return [
    ...(slo.p95Ms !== undefined ? [`p95 ≤ ${slo.p95Ms} ms`] : []),
    ...(slo.p99Ms !== undefined ? [`p99 ≤ ${slo.p99Ms} ms`] : []),
    ...(slo.maxErrorRate !== undefined ? [`error rate ≤ ${pct(slo.maxErrorRate)}`] : []),
  ];
}

/** What judges a canary step, one line each: thresholds, warm-up, extensions, traffic, PromQL queries. */
export function describeCanaryJudgment(j: CanaryJudgment, pauseSeconds: number): string[] {
  const t = { ...DEFAULT_THRESHOLDS, ...j.thresholds };
  const slo = describeSlo(t.slo);
  const lines = [
    `judged by: error rate fails above +${pct(t.maxErrorRateIncrease)} (one-sided, α ${t.alpha}, power ${t.power}); ` +
      `latency fails when the median is ≥ ${t.minLatencyEffectMs} ms and ≥ ${pct(t.minLatencyEffectRatio)} slower` +
      `${t.stratumMs > 0 ? ` (compared within ${t.stratumMs / 1000}-s windows)` : ''}; ` +
      `SLOs: ${slo.length > 0 ? slo.join(', ') : 'none'}; fewer than ${t.minSamples} requests per side is inconclusive`,
    `warm-up: each new replica's first ${j.warmupSeconds} s excluded; inconclusive holds the step up to ${j.maxExtensions} × ${pauseSeconds} s more, then fails`,
  ];
  if (j.syntheticTraffic)
    lines.push(
      `synthetic traffic: ${j.syntheticTraffic.rps} rps of GET ${j.syntheticTraffic.url} (marked SYNTHETIC)`,
    );
  if (j.prometheus)
    for (const q of j.prometheus.queries) {
      const rendered = renderPromQuery(q.query, j.prometheus.vars);
      const limits = [
        ...(q.min !== undefined ? [`≥ ${q.min}`] : []),
        ...(q.max !== undefined ? [`≤ ${q.max}`] : []),
      ].join(' and ');
      lines.push(
        `prometheus ${q.name}: ${rendered.ok ? rendered.text : `${q.query} (will be inconclusive: ${rendered.reason})`} must be ${limits}`,
      );
    }
  return lines;
}

/** What the post-switch watch judges. */
export function describeWatchJudgment(j: WatchJudgment): string {
  const slo = describeSlo(j.slo);
  return `judged by: API check every ${j.intervalMs} ms (${j.failAfter} failed round(s) in a row roll back); SLOs over the last ${j.windowSeconds} s: ${slo.length > 0 ? slo.join(', ') : 'none'} (judged from ${j.minSamples} requests)`;
}

export function renderPlan(plan: Plan): string {
  const lines = [
    `plan: ${plan.strategy} of ${plan.environment}: ${plan.from ? `${plan.from.version} (${plan.from.digest})` : '(nothing running)'} → ${plan.to.version} (${plan.to.digest})`,
    `  image: ${plan.to.image}; traffic now on slot ${plan.activeSlot}, after: slot ${plan.targetSlot}`,
  ];
  if (plan.note) lines.push(`  note: ${plan.note}`);
  plan.steps.forEach((s, i) => {
    lines.push(`  ${String(i + 1).padStart(2)}. [${s.phase}] ${describeStep(s.step)}`);
    if (s.step.kind === 'analyze-canary')
      for (const line of describeCanaryJudgment(s.step.judgment, s.step.pauseSeconds))
        lines.push(`      ${line}`);
    if (s.step.kind === 'watch') lines.push(`      ${describeWatchJudgment(s.step.judgment)}`);
    if (s.undo.length > 0) lines.push(`      undo: ${s.undo.map(describeStep).join('; ')}`);
  });
  return lines.join('\n');
}
