/** What `itsctl gate` reports: one row per check, each saying what, where, threshold and actual. */

/** pass; fail (the exit code is non-zero); warn (reported, never fails: only where the policy says so). */
export type GateStatus = 'pass' | 'fail' | 'warn';

export interface GateResult {
  /** The policy section, e.g. `coverage.unit`, `tests`, `security`, `performance.api`, `typecheck`. */
  gate: string;
  /** The check within it, e.g. `lines`, `failures`, `p(95)<200`, `findings ≥ high`. */
  check: string;
  status: GateStatus;
  /** The report file(s) the check read; absent only for checks that read no file (the ignore file's own checks name it). */
  file?: string;
  threshold?: string;
  actual?: string;
  /** One sentence: what passed or failed. */
  message: string;
  /** Supporting lines (failing test names, findings below the fail level, how a percentile was computed). */
  details?: string[];
}

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info' | 'unknown';

/** Highest first: the order used for "at or above". `unknown` ranks with `low` (we cannot say it is higher). */
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info', 'unknown'];

export function severityRank(severity: Severity): number {
  return { critical: 5, high: 4, medium: 3, low: 2, unknown: 2, info: 1 }[severity];
}

/** One vulnerability or rule violation, normalised across npm audit, Trivy, Grype and SARIF. */
export interface Finding {
  /** CVE, GHSA, rule id… */
  id: string;
  severity: Severity;
  /** Package (vulnerability scanners) or file:line (SARIF). */
  target: string;
  title: string;
  tool: string;
  /** The report it came from. */
  file: string;
  fixedIn?: string;
  /** Set when an ignore entry covers it. */
  ignoredBy?: { reason: string; expires: string };
}

export interface GateReport {
  status: 'pass' | 'fail';
  results: GateResult[];
  /** Every finding of every security report, ignored ones included, highest severity first. */
  findings: Finding[];
  summary: { pass: number; fail: number; warn: number };
}
