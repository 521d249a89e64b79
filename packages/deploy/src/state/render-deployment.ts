import { formatEvidence } from '../analysis/judge.js';
import type { EvidenceEntry } from '../apply/evidence.js';
import type { DeploymentRecord } from './deploy-store.js';

/** One deployment with its checks and evidence, as `history --deployment` prints it. */
export function renderDeployment(d: DeploymentRecord, evidence: EvidenceEntry[]): string {
  const lines = [
    `${d.id} ${d.action} of ${d.environment}: ${d.fromVersion ?? '(none)'} → ${d.version} (${d.digest})`,
    `  strategy: ${d.strategy}; by ${d.who}; ${d.startedAt} → ${d.endedAt ?? '(not finished)'}; outcome: ${d.outcome}`,
  ];
  if (d.reason) lines.push(`  reason: ${d.reason}`);
  for (const c of d.checks as Array<{
    ok: boolean;
    check: string;
    target: string;
    reason: string;
    durationMs: number;
  }>)
    lines.push(`  ${c.ok ? '✓' : '✗'} ${c.check} ${c.target}: ${c.reason} (${c.durationMs} ms)`);
  for (const e of evidence) {
    lines.push(
      e.kind === 'watch'
        ? `  watch at ${e.at}: ${e.verdict} — ${e.sentence}`
        : `  canary step ${e.step}/${e.of} at ${e.weight} %${e.extension ? ` (extension ${e.extension})` : ''} at ${e.at}: ${e.verdict} — ${e.sentence}`,
    );
    lines.push(`    samples: ${e.source}, window ${(e.windowMs / 1000).toFixed(1)} s`);
    for (const line of formatEvidence(e.analysis)) lines.push(`    ${line}`);
    for (const p of e.prometheus) lines.push(`    prometheus ${p.name}: ${p.verdict} — ${p.sentence}`);
  }
  if (evidence.length === 0 && d.strategy === 'canary') lines.push('  (no analysis evidence recorded)');
  return lines.join('\n');
}
