/**
 * Pure verdicts: from what the readers found and the policy's thresholds to result rows. No I/O here,
 * so each rule is tested from tables of cases.
 */
import { aggregateName, compare, parseThreshold, resolveAggregate, type MetricStats } from './thresholds.js';
import type { CoverageMetric, CoverageTotals } from './readers/read-coverage.js';
import type { JunitSummary } from './readers/read-junit.js';
import type { StaticCheckSummary } from './readers/read-static-checks.js';
import { SEVERITIES, severityRank, type Finding, type GateResult, type Severity } from './types.js';

/** The founding document's figures when a suite names no threshold. */
export const DEFAULT_COVERAGE: Record<string, number> = { unit: 90, integration: 80 };

/** Percentages are floored to 2 decimals, so 89.999 % never shows as 90.00 % and then fails. */
export function coveragePercent(covered: number, total: number): number {
  return Math.floor((covered / total) * 10000) / 100;
}

export function evaluateCoverage(
  suite: string,
  thresholds: Partial<Record<CoverageMetric, number>>,
  totals: CoverageTotals,
  files: string,
): GateResult[] {
  const wanted = Object.entries(thresholds).filter(([, v]) => v !== undefined) as [CoverageMetric, number][];
  if (wanted.length === 0) wanted.push(['lines', DEFAULT_COVERAGE[suite] ?? 80]);
  return wanted.map(([metric, min]) => {
    const gate = `coverage.${suite}`;
    const t = totals[metric];
    if (!t)
      return {
        gate,
        check: metric,
        status: 'fail',
        file: files,
        threshold: `≥ ${min} %`,
        actual: 'not reported',
        message: `${suite} coverage: the report has no ${metric} figures; use a format that has them or drop the threshold`,
      };
    if (t.total === 0)
      return {
        gate,
        check: metric,
        status: 'fail',
        file: files,
        threshold: `≥ ${min} %`,
        actual: '0 of 0',
        message: `${suite} coverage: no ${metric} were instrumented (an empty report is not 100 %)`,
      };
    const pct = coveragePercent(t.covered, t.total);
    const ok = pct >= min;
    return {
      gate,
      check: metric,
      status: ok ? 'pass' : 'fail',
      file: files,
      threshold: `≥ ${min} %`,
      actual: `${pct.toFixed(2)} % (${round(t.covered)}/${round(t.total)})`,
      message: ok
        ? `${suite} ${metric} coverage ${pct.toFixed(2)} % meets ${min} %`
        : `${suite} ${metric} coverage ${pct.toFixed(2)} % is below ${min} %`,
    };
  });
}

const round = (n: number) => Math.round(n * 100) / 100;

export function evaluateTests(
  summary: JunitSummary,
  policy: { maxFailures: number; failEmptySuites: boolean },
  files: string,
): GateResult[] {
  const failed = summary.failures + summary.errors;
  const ran = summary.tests - summary.skipped;
  const results: GateResult[] = [
    {
      gate: 'tests',
      check: 'failures',
      status: failed <= policy.maxFailures ? 'pass' : 'fail',
      file: files,
      threshold: `≤ ${policy.maxFailures}`,
      actual: `${failed} failed of ${ran} run (${summary.skipped} skipped)`,
      message:
        failed <= policy.maxFailures
          ? `${ran} tests ran, ${failed} failed`
          : `${failed} test${failed === 1 ? '' : 's'} failed (${summary.failures} failures, ${summary.errors} errors)`,
      ...(summary.failed.length
        ? { details: summary.failed.map((f) => `${f.suite} › ${f.name}: ${f.message}`) }
        : {}),
    },
    {
      gate: 'tests',
      check: 'tests ran',
      status: ran > 0 ? 'pass' : 'fail',
      file: files,
      threshold: '> 0',
      actual: String(ran),
      message: ran > 0 ? `${ran} tests ran` : 'no test ran: a run of zero tests proves nothing',
    },
  ];
  if (policy.failEmptySuites)
    results.push({
      gate: 'tests',
      check: 'empty suites',
      status: summary.emptySuiteCount === 0 ? 'pass' : 'fail',
      file: files,
      threshold: '0',
      actual: String(summary.emptySuiteCount),
      message:
        summary.emptySuiteCount === 0
          ? `all ${summary.suites} suites ran tests`
          : `${summary.emptySuiteCount} suite${summary.emptySuiteCount === 1 ? '' : 's'} ran zero tests`,
      ...(summary.emptySuites.length ? { details: summary.emptySuites } : {}),
    });
  return results;
}

export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) counts[f.severity]++;
  return counts;
}

export function describeCounts(counts: Record<Severity, number>): string {
  const parts = SEVERITIES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  return parts.length ? parts.join(', ') : 'none';
}

export function formatFinding(f: Finding): string {
  return `[${f.severity}] ${f.id} ${f.target}${f.title ? ` — ${f.title}` : ''}${f.fixedIn ? ` (fixed in ${f.fixedIn})` : ''} · ${f.tool}${f.ignoredBy ? ` · ignored until ${f.ignoredBy.expires}: ${f.ignoredBy.reason}` : ''}`;
}

/**
 * At or above `failOn` fails; everything below is still listed (a scanner's severity filter would hide
 * it). `counts` are the totals seen (the finding list may be capped for memory).
 */
export function evaluateFindings(
  counts: { active: Record<Severity, number>; ignored: Record<Severity, number> },
  blocking: readonly Finding[],
  below: readonly Finding[],
  failOn: Severity,
  files: string,
): GateResult[] {
  const level = severityRank(failOn);
  const atOrAbove = SEVERITIES.filter((s) => severityRank(s) >= level);
  const blockingCounts = Object.fromEntries(
    SEVERITIES.map((s) => [s, atOrAbove.includes(s) ? counts.active[s] : 0]),
  ) as Record<Severity, number>;
  const belowCounts = Object.fromEntries(
    SEVERITIES.map((s) => [s, atOrAbove.includes(s) ? 0 : counts.active[s]]),
  ) as Record<Severity, number>;
  const nBlocking = Object.values(blockingCounts).reduce((a, b) => a + b, 0);
  const nBelow = Object.values(belowCounts).reduce((a, b) => a + b, 0);
  const nIgnored = Object.values(counts.ignored).reduce((a, b) => a + b, 0);
  const results: GateResult[] = [
    {
      gate: 'security',
      check: `findings ≥ ${failOn}`,
      status: nBlocking === 0 ? 'pass' : 'fail',
      file: files,
      threshold: '0',
      actual: describeCounts(blockingCounts),
      message:
        nBlocking === 0
          ? `no finding at or above ${failOn}`
          : `${nBlocking} finding${nBlocking === 1 ? '' : 's'} at or above ${failOn}`,
      ...(blocking.length ? { details: blocking.map(formatFinding) } : {}),
    },
    {
      gate: 'security',
      check: `findings < ${failOn}`,
      status: 'pass',
      file: files,
      threshold: 'reported, not failing',
      actual: describeCounts(belowCounts),
      message:
        nBelow === 0
          ? `no finding below ${failOn}`
          : `${nBelow} finding${nBelow === 1 ? '' : 's'} below ${failOn} (listed, not failing)`,
      ...(below.length ? { details: below.map(formatFinding) } : {}),
    },
  ];
  if (nIgnored)
    results.push({
      gate: 'security',
      check: 'ignored',
      status: 'pass',
      file: files,
      actual: describeCounts(counts.ignored),
      message: `${nIgnored} finding${nIgnored === 1 ? '' : 's'} ignored by live entries of the ignore file`,
    });
  return results;
}

export type ThresholdInput = string | { threshold: string };

export function evaluateThresholds(
  gate: string,
  metrics: ReadonlyMap<string, MetricStats>,
  thresholds: Record<string, readonly ThresholdInput[]>,
  file: string,
): GateResult[] {
  const results: GateResult[] = [];
  for (const [metric, list] of Object.entries(thresholds)) {
    const stats = metrics.get(metric);
    for (const entry of list) {
      const source = typeof entry === 'string' ? entry : entry.threshold;
      const { threshold } = parseThreshold(source);
      // The policy was validated before anything ran, so every expression parses here.
      const t = threshold!;
      const check = `${metric} ${t.source}`;
      if (!stats) {
        results.push({
          gate,
          check,
          status: 'fail',
          file,
          threshold: t.source,
          actual: 'metric not in report',
          message: `${metric} is not in the report (it has: ${[...metrics.keys()].slice(0, 12).join(', ')})`,
        });
        continue;
      }
      const resolved = resolveAggregate(stats, t.aggregate);
      const name = aggregateName(t.aggregate);
      if (resolved.value === undefined) {
        results.push({
          gate,
          check,
          status: 'fail',
          file,
          threshold: t.source,
          actual: 'not available',
          message: `${metric}: ${resolved.error}`,
        });
        continue;
      }
      const ok = compare(resolved.value, t.operator, t.value);
      const unit =
        stats.unit && t.aggregate.kind !== 'rate' && t.aggregate.kind !== 'count' ? ` ${stats.unit}` : '';
      // Small rates keep 3 significant digits (0.0213), others 3 decimals.
      const shown =
        Math.abs(resolved.value) < 1
          ? Number(resolved.value.toPrecision(3))
          : Math.round(resolved.value * 1000) / 1000;
      const actual = `${name}=${shown}${unit}`;
      results.push({
        gate,
        check,
        status: ok ? 'pass' : 'fail',
        file,
        threshold: t.source,
        actual,
        message: ok ? `${metric} ${actual} meets ${t.source}` : `${metric} ${actual} breaks ${t.source}`,
        ...(resolved.note ? { details: [resolved.note] } : {}),
      });
    }
  }
  return results;
}

export function evaluateStaticChecks(
  gate: 'typecheck' | 'lint',
  summary: StaticCheckSummary,
  limits: { maxErrors: number; maxWarnings?: number },
  files: string,
): GateResult[] {
  const details = summary.diagnostics.map(
    (d) => `${d.file}${d.line ? `:${d.line}` : ''} ${d.severity} ${d.code}: ${d.message}`,
  );
  const results: GateResult[] = [
    {
      gate,
      check: 'errors',
      status: summary.errors <= limits.maxErrors ? 'pass' : 'fail',
      file: files,
      threshold: `≤ ${limits.maxErrors}`,
      actual: String(summary.errors),
      message:
        summary.errors <= limits.maxErrors
          ? `${gate}: ${summary.errors} errors`
          : `${gate}: ${summary.errors} errors in ${summary.filesWithProblems} files`,
      ...(summary.errors > limits.maxErrors && details.length ? { details } : {}),
    },
  ];
  if (limits.maxWarnings !== undefined)
    results.push({
      gate,
      check: 'warnings',
      status: summary.warnings <= limits.maxWarnings ? 'pass' : 'fail',
      file: files,
      threshold: `≤ ${limits.maxWarnings}`,
      actual: String(summary.warnings),
      message: `${gate}: ${summary.warnings} warnings`,
    });
  return results;
}
