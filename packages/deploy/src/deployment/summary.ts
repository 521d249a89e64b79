import type { EvidenceEntry } from '../apply/evidence.js';
import type { EnvironmentConfig } from '../config/environment-schema.js';
import type { CheckResult } from '../health/checks.js';
import { renderPlan } from '../plan/render-plan.js';
import type { Plan } from '../plan/types.js';
import { renderWouldFail } from './preflight.js';
import { renderStackSummary } from '../stack/deploy-stack.js';
import { publicUrl } from './settings.js';
import type { DeployContext, DeployOptions, DeploySummary } from './types.js';

export function summaryOf(
  ctx: DeployContext,
  config: EnvironmentConfig,
  deploymentId: string,
  options: DeployOptions,
  plan: Plan,
  outcome: DeploySummary['outcome'],
  startedAt: Date,
  checks: CheckResult[],
  warnings: string[],
  evidence: EvidenceEntry[],
  wouldFail?: readonly string[],
): DeploySummary {
  return {
    environment: config.name,
    deploymentId,
    action: options.rollback ? 'rollback' : 'deploy',
    strategy: plan.strategy,
    outcome,
    from: plan.from,
    version: plan.to.version,
    digest: plan.to.digest,
    image: plan.to.image,
    durationMs: ctx.now().getTime() - startedAt.getTime(),
    checks,
    evidence,
    warnings,
    ...(wouldFail !== undefined ? { wouldFail: [...wouldFail] } : {}),
    url: publicUrl(config),
    plan,
  };
}

export function renderSummary(s: DeploySummary): string {
  if (s.outcome === 'dry-run') {
    // A stack's tiers each found their own; every one is repeated here, named by its environment.
    const problems = s.stack
      ? s.stack.tiers.flatMap((t) => (t.wouldFail ?? []).map((p) => `${t.environment}: ${p}`))
      : (s.wouldFail ?? []);
    return [
      ...(s.stack ? s.stack.tiers.map((t) => renderPlan(t.plan)) : [renderPlan(s.plan)]),
      ...(s.stack ? renderStackSummary(s.stack) : []),
      '(dry run: nothing was changed)',
      ...renderWouldFail(problems),
    ].join('\n');
  }
  const passed = s.checks.filter((c) => c.ok);
  const byName = [...new Set(passed.map((c) => c.check))];
  return [
    `${s.action === 'rollback' ? 'rolled back' : 'deployed'} ${s.environment}: ${s.from ? `${s.from.version} → ` : ''}${s.version}`,
    `  digest:   ${s.digest}`,
    `  strategy: ${s.strategy}`,
    `  duration: ${(s.durationMs / 1000).toFixed(1)} s`,
    `  checks:   ${passed.length} passed (${byName.join(', ') || 'none run'})`,
    ...s.evidence.map(
      (e) =>
        `  ${e.kind === 'watch' ? 'watch:    ' : `canary ${e.step}/${e.of} at ${e.weight} %:`} ${e.verdict} — ${e.sentence}`,
    ),
    `  url:      ${s.url}`,
    ...s.warnings.map((w) => `  warning:  ${w}`),
    ...(s.stack ? renderStackSummary(s.stack) : []),
  ].join('\n');
}
