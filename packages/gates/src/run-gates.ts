/**
 * Reads every report the policy names and turns it into result rows. The only effect is reading
 * files; a report that is missing or unreadable becomes a failed row naming the file and the parse
 * error (a warning only where the policy says `onUnavailable: warn`), never a pass.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import {
  evaluateCoverage,
  evaluateFindings,
  evaluateStaticChecks,
  evaluateTests,
  evaluateThresholds,
} from './evaluate.js';
import { applyIgnores, matchesIgnore, parseIgnoreFile, type IgnoreEntry } from './ignore-file.js';
import { normaliseRef, type Policy, type ReportRef, type ReportRefInput } from './policy.js';
import {
  inferCoverageFormat,
  readCoverage,
  type CoverageFormat,
  type CoverageTotals,
} from './readers/read-coverage.js';
import { emptyJunitSummary, readJunit } from './readers/read-junit.js';
import {
  inferPerformanceFormat,
  readPerformance,
  type PerformanceFormat,
} from './readers/read-performance.js';
import { readEslintJson, readTscOutput, type StaticCheckSummary } from './readers/read-static-checks.js';
import {
  inferVulnerabilityFormat,
  readVulnerabilities,
  type VulnerabilityFormat,
} from './readers/read-vulnerabilities.js';
import {
  SEVERITIES,
  severityRank,
  type Finding,
  type GateReport,
  type GateResult,
  type Severity,
} from './types.js';

export interface RunGatesOptions {
  cwd: string;
  /** YYYY-MM-DD, for ignore-file expiry (passed in: no clock here). */
  today: string;
}

/** How many findings are kept in detail per side of the fail level; counts are always complete. */
const KEEP_FINDINGS = 200;

function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return 'no such file (did the step that writes it run?)';
  if (e?.code === 'EISDIR') return 'is a directory, expected a file';
  if (e?.code === 'EACCES') return 'permission denied';
  return (e?.message ?? String(err)).split('\n')[0]!;
}

function unavailable(gate: string, check: string, ref: ReportRef, err: unknown): GateResult {
  const reason = describeError(err);
  return {
    gate,
    check,
    status: ref.onUnavailable === 'warn' ? 'warn' : 'fail',
    file: ref.path,
    actual: 'unreadable',
    message: `${ref.path}: ${reason}`,
  };
}

export async function runGates(policy: Policy, options: RunGatesOptions): Promise<GateReport> {
  const results: GateResult[] = [];
  const abs = (p: string) => resolve(options.cwd, p);
  let findings: Finding[] = [];

  for (const [suite, config] of Object.entries(policy.coverage ?? {})) {
    if (!config) continue;
    const totals: CoverageTotals = {};
    const read: string[] = [];
    let failed = false;
    for (const input of config.reports) {
      const ref = normaliseRef(input as ReportRefInput);
      const format = (ref.format as CoverageFormat | undefined) ?? inferCoverageFormat(ref.path);
      if (!format) {
        results.push(
          unavailable(
            `coverage.${suite}`,
            'report',
            { ...ref, onUnavailable: 'fail' },
            new Error('cannot tell the format from the name: set format: json-summary | lcov | cobertura'),
          ),
        );
        failed = true;
        continue;
      }
      try {
        const t = await readCoverage(abs(ref.path), format);
        for (const [metric, v] of Object.entries(t)) {
          const sum = (totals[metric as keyof CoverageTotals] ??= { covered: 0, total: 0 });
          sum.covered += v.covered;
          sum.total += v.total;
        }
        read.push(ref.path);
      } catch (err) {
        results.push(unavailable(`coverage.${suite}`, `${format} report`, ref, err));
        if (ref.onUnavailable === 'fail') failed = true;
      }
    }
    if (read.length && !failed)
      results.push(
        ...evaluateCoverage(
          suite,
          {
            lines: config.lines,
            statements: config.statements,
            functions: config.functions,
            branches: config.branches,
          },
          totals,
          read.join(', '),
        ),
      );
  }

  if (policy.tests) {
    const summary = emptyJunitSummary();
    const read: string[] = [];
    for (const input of policy.tests.reports) {
      const ref = normaliseRef(input as ReportRefInput);
      let files: string[];
      try {
        files = await expandXmlFiles(abs(ref.path), ref.path);
      } catch (err) {
        results.push(unavailable('tests', 'JUnit report', ref, err));
        continue;
      }
      for (const file of files) {
        try {
          const s = await readJunit(abs(file));
          for (const k of ['suites', 'tests', 'failures', 'errors', 'skipped', 'emptySuiteCount'] as const)
            summary[k] += s[k];
          summary.emptySuites.push(
            ...s.emptySuites.map((n) => `${n} (${file})`).slice(0, 50 - summary.emptySuites.length),
          );
          summary.failed.push(
            ...s.failed
              .map((f) => ({ ...f, suite: `${file}: ${f.suite}` }))
              .slice(0, 50 - summary.failed.length),
          );
          read.push(file);
        } catch (err) {
          results.push(unavailable('tests', 'JUnit report', { ...ref, path: file }, err));
        }
      }
    }
    if (read.length) results.push(...evaluateTests(summary, policy.tests, read.join(', ')));
  }

  if (policy.security) {
    const sec = policy.security;
    let entries: IgnoreEntry[] = [];
    if (sec.ignoreFile) {
      try {
        const parsed = parseIgnoreFile(await readFile(abs(sec.ignoreFile), 'utf8'), sec.ignoreFile);
        entries = parsed.entries;
        for (const e of parsed.errors)
          results.push({
            gate: 'security',
            check: 'ignore file',
            status: 'fail',
            file: sec.ignoreFile,
            message: e,
          });
      } catch (err) {
        results.push(
          unavailable('security', 'ignore file', { path: sec.ignoreFile, onUnavailable: 'fail' }, err),
        );
      }
    }
    const failLevel = severityRank(sec.failOn);
    const zero = () => Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
    const counts = { active: zero(), ignored: zero() };
    const blocking: Finding[] = [];
    const below: Finding[] = [];
    const ignoredKept: Finding[] = [];
    const usedEntries = new Set<IgnoreEntry>();
    const live = entries.filter((e) => e.expires >= options.today);
    const read: string[] = [];
    for (const input of sec.reports) {
      const ref = normaliseRef(input as ReportRefInput);
      const format = (ref.format as VulnerabilityFormat | undefined) ?? inferVulnerabilityFormat(ref.path);
      if (!format) {
        results.push(
          unavailable(
            'security',
            'report',
            { ...ref, onUnavailable: 'fail' },
            new Error('cannot tell the format from the name: set format: npm-audit | trivy | grype | sarif'),
          ),
        );
        continue;
      }
      try {
        const outcome = await readVulnerabilities(abs(ref.path), format, (raw) => {
          const f = { ...raw, file: ref.path };
          // Ignores are applied as findings stream in, so only counts and a bounded list are kept.
          const entry = live.find((e) => matchesIgnore(e, f));
          if (entry) {
            usedEntries.add(entry);
            counts.ignored[f.severity]++;
            if (ignoredKept.length < KEEP_FINDINGS)
              ignoredKept.push({ ...f, ignoredBy: { reason: entry.reason, expires: entry.expires } });
            return;
          }
          counts.active[f.severity]++;
          const list = severityRank(f.severity) >= failLevel ? blocking : below;
          if (list.length < KEEP_FINDINGS) list.push(f);
        });
        if (outcome.incomplete)
          results.push(unavailable('security', `${format} report`, ref, new Error(outcome.incomplete)));
        else read.push(ref.path);
      } catch (err) {
        results.push(unavailable('security', `${format} report`, ref, err));
      }
    }
    // Expired entries fail; entries that matched nothing warn.
    const entryChecks = applyIgnores([], entries, sec.ignoreFile ?? '', options.today).results.filter(
      (r) => r.status === 'fail',
    );
    results.push(...entryChecks);
    for (const e of live)
      if (!usedEntries.has(e))
        results.push({
          gate: 'security',
          check: `ignore ${e.id}`,
          status: 'warn',
          file: sec.ignoreFile,
          message: `ignore entry for ${e.id} matched no finding: remove it when it is no longer needed`,
        });
    const bySeverity = (a: Finding, b: Finding) => severityRank(b.severity) - severityRank(a.severity);
    blocking.sort(bySeverity);
    below.sort(bySeverity);
    if (read.length) results.push(...evaluateFindings(counts, blocking, below, sec.failOn, read.join(', ')));
    findings = [...blocking, ...below, ...ignoredKept].sort(bySeverity);
  }

  for (const section of ['performance', 'load'] as const)
    for (const [name, check] of Object.entries(policy[section] ?? {})) {
      const ref = normaliseRef(check.report as ReportRefInput);
      const gate = `${section}.${name}`;
      const format = (ref.format as PerformanceFormat | undefined) ?? inferPerformanceFormat(ref.path);
      if (!format) {
        results.push(
          unavailable(
            gate,
            'report',
            { ...ref, onUnavailable: 'fail' },
            new Error('cannot tell the format from the name: set format: k6 | autocannon | bench'),
          ),
        );
        continue;
      }
      try {
        const metrics = await readPerformance(abs(ref.path), format);
        results.push(...evaluateThresholds(gate, metrics, check.thresholds, ref.path));
      } catch (err) {
        results.push(unavailable(gate, `${format} report`, ref, err));
      }
    }

  for (const gate of ['typecheck', 'lint'] as const) {
    const config = policy[gate];
    if (!config) continue;
    const total: StaticCheckSummary = { errors: 0, warnings: 0, diagnostics: [], filesWithProblems: 0 };
    const read: string[] = [];
    for (const input of config.reports) {
      const ref = normaliseRef(input as ReportRefInput);
      try {
        const s =
          gate === 'typecheck' ? await readTscOutput(abs(ref.path)) : await readEslintJson(abs(ref.path));
        total.errors += s.errors;
        total.warnings += s.warnings;
        total.filesWithProblems += s.filesWithProblems;
        total.diagnostics.push(...s.diagnostics.slice(0, 30 - total.diagnostics.length));
        read.push(ref.path);
      } catch (err) {
        results.push(unavailable(gate, gate === 'typecheck' ? 'tsc output' : 'ESLint JSON', ref, err));
      }
    }
    if (read.length)
      results.push(
        ...evaluateStaticChecks(
          gate,
          total,
          {
            maxErrors: config.maxErrors,
            ...('maxWarnings' in config && config.maxWarnings !== undefined
              ? { maxWarnings: config.maxWarnings }
              : {}),
          },
          read.join(', '),
        ),
      );
  }

  return summarise(results, findings);
}

export function summarise(results: GateResult[], findings: Finding[]): GateReport {
  const summary = { pass: 0, fail: 0, warn: 0 };
  for (const r of results) summary[r.status]++;
  return { status: summary.fail > 0 ? 'fail' : 'pass', results, findings, summary };
}

/** A file, or every *.xml in a directory (sorted); an empty directory is an error, not zero tests. */
async function expandXmlFiles(path: string, shown: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [shown];
  const names = (await readdir(path)).filter((n) => n.endsWith('.xml')).sort();
  if (names.length === 0) throw new Error(`directory ${shown} has no *.xml JUnit files`);
  return names.map((n) => relative('.', join(shown, n)));
}
