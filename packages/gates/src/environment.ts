/**
 * The pipeline settings `itsctl gate` takes from the environment and the policy field each overrides:
 * one place, read by the policy parser (which applies them) and by the command's --help (which states
 * them), so the two cannot drift apart. It imports nothing, so --help stays cheap.
 */

/**
 * COVERAGE_THRESHOLD is the pipeline's one coverage figure (default 90, the founding document's): the
 * figure `npm test` already holds the merged unit + integration line coverage to (scripts/test.mjs),
 * and the one CI sets for the whole run. So it overrides the suite that stands for the whole run, the
 * first of these the policy configures: `combined` (unit + integration merged), else `unit` (a policy
 * with one suite). Never `unit` when `combined` exists: the unit floor (70) sits below 90 on purpose.
 */
export const COVERAGE_THRESHOLD_SUITES = ['combined', 'unit'] as const;

export type CoverageThresholdSuite = (typeof COVERAGE_THRESHOLD_SUITES)[number];

/** The policy field COVERAGE_THRESHOLD sets when the policy configures `suite`. */
export const coverageThresholdField = (suite: CoverageThresholdSuite): string => `coverage.${suite}.lines`;

const [preferred, fallback] = COVERAGE_THRESHOLD_SUITES;

/** Each setting and what it overrides, in words, for --help and the docs. */
export const ENVIRONMENT_OVERRIDES = {
  COVERAGE_THRESHOLD: `${coverageThresholdField(preferred)} (${coverageThresholdField(fallback)} in a policy without a ${preferred} suite)`,
  SECURITY_SCAN_FAIL_ON: 'security.failOn',
} as const;

/** `COVERAGE_THRESHOLD overrides …; SECURITY_SCAN_FAIL_ON overrides …`: the sentence --help prints. */
export function describeEnvironmentOverrides(): string {
  return Object.entries(ENVIRONMENT_OVERRIDES)
    .map(([name, field]) => `${name} overrides ${field}`)
    .join('; ');
}
