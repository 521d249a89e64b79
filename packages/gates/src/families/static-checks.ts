/**
 * Static checks: `typecheck` reads tsc output, `lint` ESLint JSON; each sums its reports' errors and
 * warnings and judges them against the policy's limits.
 */
import { evaluateStaticChecks } from '../evaluate.js';
import type { ConfiguredGate, GateFamily } from '../gate-family.js';
import type { Policy, ReportRefInput } from '../policy.js';
import { readEslintJson, readTscOutput, type StaticCheckSummary } from '../readers/read-static-checks.js';

type StaticCheck = 'typecheck' | 'lint';
type StaticFormat = 'tsc' | 'eslint';

interface StaticCheckGate {
  check: StaticCheck;
  reports: readonly ReportRefInput[];
  limits: { maxErrors: number; maxWarnings?: number };
}

/** Each check has one tool, so the format follows from the check, never from the file name. */
const FORMAT: Record<StaticCheck, StaticFormat> = { typecheck: 'tsc', lint: 'eslint' };
const READERS: Record<StaticFormat, { read(file: string): Promise<StaticCheckSummary>; label: string }> = {
  tsc: { read: readTscOutput, label: 'tsc output' },
  eslint: { read: readEslintJson, label: 'ESLint JSON' },
};
/** How many diagnostics are kept for the report, over all files; counts are complete. */
const KEEP_DIAGNOSTICS = 30;

function configureStaticCheck(policy: Policy, check: StaticCheck): ConfiguredGate<StaticCheckGate>[] {
  const config = policy[check];
  if (!config) return [];
  const limits = {
    maxErrors: config.maxErrors,
    ...('maxWarnings' in config && config.maxWarnings !== undefined
      ? { maxWarnings: config.maxWarnings }
      : {}),
  };
  return [{ name: check, config: { check, reports: config.reports as ReportRefInput[], limits } }];
}

export const staticChecksFamily: GateFamily<StaticCheckGate, StaticFormat, StaticCheckSummary> = {
  configured: (policy) =>
    (['typecheck', 'lint'] as const).flatMap((check) => configureStaticCheck(policy, check)),
  reports: (gate) => gate.reports,
  formats: { fixed: ({ config }) => FORMAT[config.check] },
  describe: (format) => READERS[format].label,
  whenUnavailable: 'judge-the-rest',
  open: async () => ({ tally: { errors: 0, warnings: 0, diagnostics: [], filesWithProblems: 0 }, rows: [] }),
  async read(total, { path, format }) {
    const s = await READERS[format].read(path);
    total.errors += s.errors;
    total.warnings += s.warnings;
    total.filesWithProblems += s.filesWithProblems;
    total.diagnostics.push(...s.diagnostics.slice(0, KEEP_DIAGNOSTICS - total.diagnostics.length));
  },
  evaluate: ({ config }, total, files) => evaluateStaticChecks(config.check, total, config.limits, files),
};
