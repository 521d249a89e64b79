/**
 * Coverage: each suite (`coverage.unit`, `coverage.integration`, any other name) merges the covered
 * and total counts of its reports and judges the merged percentages.
 */
import { evaluateCoverage } from '../evaluate.js';
import type { GateFamily } from '../gate-family.js';
import { COVERAGE_FORMATS, type Policy, type ReportRefInput } from '../policy.js';
import { detectFormat } from '../readers/detect-format.js';
import {
  inferCoverageFormat,
  readCoverage,
  type CoverageFormat,
  type CoverageTotals,
} from '../readers/read-coverage.js';

type CoverageSuite = NonNullable<NonNullable<Policy['coverage']>[string]>;

export const coverageFamily: GateFamily<
  { suite: string; settings: CoverageSuite },
  CoverageFormat,
  CoverageTotals
> = {
  configured: (policy) =>
    Object.entries(policy.coverage ?? {}).flatMap(([suite, settings]) =>
      settings ? [{ name: `coverage.${suite}`, config: { suite, settings } }] : [],
    ),
  reports: ({ settings }) => settings.reports as ReportRefInput[],
  formats: { accepts: COVERAGE_FORMATS, infer: inferCoverageFormat, detect: detectFormat },
  describe: (format) => `${format} report`,
  // Percentages over some of a suite's reports would be a different (usually higher) figure.
  whenUnavailable: 'skip-verdict',
  open: async () => ({ tally: {}, rows: [] }),
  async read(totals, { path, format }) {
    // Read whole before merging, so a report that fails halfway adds nothing.
    const t = await readCoverage(path, format);
    for (const [metric, v] of Object.entries(t)) {
      const sum = (totals[metric as keyof CoverageTotals] ??= { covered: 0, total: 0 });
      sum.covered += v.covered;
      sum.total += v.total;
    }
  },
  evaluate: ({ config: { suite, settings } }, totals, files) =>
    evaluateCoverage(
      suite,
      {
        lines: settings.lines,
        statements: settings.statements,
        functions: settings.functions,
        branches: settings.branches,
      },
      totals,
      files,
    ),
};
