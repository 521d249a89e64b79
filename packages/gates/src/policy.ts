/**
 * The quality-gate policy (deploy/quality-gates.yml): parsed and validated once, before any report is
 * read. Unknown keys, impossible thresholds and bad environment overrides are all reported together,
 * each with its field path. Pure: text and environment in, policy or errors out.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { COVERAGE_THRESHOLD_SUITES, coverageThresholdField } from './environment.js';
import { parseThreshold } from './thresholds.js';
import type { Severity } from './types.js';
import { MAX_YAML_ALIASES, describeYamlError } from './yaml-limits.js';

export const COVERAGE_FORMATS = ['json-summary', 'coverage-final', 'lcov', 'cobertura'] as const;
export const VULNERABILITY_FORMATS = ['npm-audit', 'trivy', 'grype', 'sarif'] as const;
export const PERFORMANCE_FORMATS = ['k6', 'autocannon', 'bench'] as const;
const FAIL_LEVELS = ['critical', 'high', 'medium', 'low', 'info'] as const;

const percent = z
  .number({ error: 'must be a number between 0 and 100' })
  .min(0, 'a coverage percentage cannot be below 0')
  .max(100, 'a coverage percentage cannot be above 100');

/** A report the gate reads. `onUnavailable: warn` turns a missing/unreadable report into a warning. */
const reportRef = <F extends readonly [string, ...string[]]>(formats?: F) =>
  z.union([
    z.string().min(1, 'a report path'),
    z.strictObject({
      path: z.string().min(1, 'a report path'),
      ...(formats ? { format: z.enum(formats).optional() } : {}),
      onUnavailable: z.enum(['fail', 'warn']).default('fail'),
    }),
  ]);

const coverageSuite = z.strictObject({
  reports: z.array(reportRef(COVERAGE_FORMATS)).min(1, 'at least one coverage report'),
  lines: percent.optional(),
  statements: percent.optional(),
  functions: percent.optional(),
  branches: percent.optional(),
});

const thresholdList = z
  .array(
    z.union([z.string(), z.strictObject({ threshold: z.string(), abortOnFail: z.boolean().optional() })]),
  )
  .min(1, 'at least one threshold expression, e.g. p(95)<200')
  .superRefine((list, ctx) => {
    list.forEach((entry, i) => {
      const { error } = parseThreshold(typeof entry === 'string' ? entry : entry.threshold);
      if (error) ctx.addIssue({ code: 'custom', path: [i], message: error });
    });
  });

const performanceCheck = z.strictObject({
  report: reportRef(PERFORMANCE_FORMATS),
  thresholds: z
    .record(z.string().min(1), thresholdList)
    .refine((t) => Object.keys(t).length > 0, 'at least one metric'),
});

const countLimit = z.number().int('a whole number').min(0, 'cannot be negative');

export const PolicySchema = z.strictObject({
  version: z.literal(1, 'only version 1 exists'),
  coverage: z
    .strictObject({ unit: coverageSuite.optional(), integration: coverageSuite.optional() })
    .catchall(coverageSuite)
    .optional(),
  tests: z
    .strictObject({
      reports: z.array(reportRef()).min(1, 'at least one JUnit XML file or directory'),
      maxFailures: countLimit.default(0),
      failEmptySuites: z.boolean().default(true),
    })
    .optional(),
  security: z
    .strictObject({
      reports: z.array(reportRef(VULNERABILITY_FORMATS)).min(1, 'at least one scanner report'),
      failOn: z.enum(FAIL_LEVELS).default('high'),
      ignoreFile: z.string().min(1).optional(),
    })
    .optional(),
  performance: z.record(z.string().min(1), performanceCheck).optional(),
  load: z.record(z.string().min(1), performanceCheck).optional(),
  typecheck: z
    .strictObject({ reports: z.array(reportRef()).min(1), maxErrors: countLimit.default(0) })
    .optional(),
  lint: z
    .strictObject({
      reports: z.array(reportRef()).min(1),
      maxErrors: countLimit.default(0),
      maxWarnings: countLimit.optional(),
    })
    .optional(),
});

export type Policy = z.output<typeof PolicySchema>;
export type ReportRefInput = string | { path: string; format?: string; onUnavailable?: 'fail' | 'warn' };
export interface ReportRef {
  path: string;
  format?: string;
  onUnavailable: 'fail' | 'warn';
}

export function normaliseRef(ref: ReportRefInput): ReportRef {
  return typeof ref === 'string' ? { path: ref, onUnavailable: 'fail' } : { onUnavailable: 'fail', ...ref };
}

export interface ParsedPolicy {
  policy?: Policy;
  errors: string[];
  /** Environment overrides that were applied, to print with the report. */
  overrides: string[];
}

/**
 * Parses the policy text and applies the pipeline's environment (environment.ts): COVERAGE_THRESHOLD
 * (lines % of the `combined` suite, or of `unit` when there is none) and SECURITY_SCAN_FAIL_ON
 * (critical|high|medium|low|info).
 */
export function parsePolicy(
  text: string,
  file: string,
  env: Record<string, string | undefined>,
): ParsedPolicy {
  const errors: string[] = [];
  const overrides: string[] = [];
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    return { errors: [`${file}: ${describeYamlError(err)}`], overrides };
  }
  if (raw === null || typeof raw !== 'object')
    return {
      errors: [`${file}: (root): expected a mapping with version: 1 and the gates to enforce`],
      overrides,
    };

  const parsed = PolicySchema.safeParse(raw);
  if (!parsed.success)
    for (const issue of parsed.error.issues)
      errors.push(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);

  const coverageEnv = env.COVERAGE_THRESHOLD;
  let coverageOverride: number | undefined;
  if (coverageEnv !== undefined && coverageEnv !== '') {
    const n = Number(coverageEnv);
    if (!Number.isFinite(n) || n < 0 || n > 100)
      errors.push(`COVERAGE_THRESHOLD: '${coverageEnv}' is not a percentage between 0 and 100 (e.g. 90)`);
    else coverageOverride = n;
  }
  const failOnEnv = env.SECURITY_SCAN_FAIL_ON;
  let failOnOverride: Severity | undefined;
  if (failOnEnv !== undefined && failOnEnv !== '') {
    const level = failOnEnv.toLowerCase();
    if (!(FAIL_LEVELS as readonly string[]).includes(level))
      errors.push(`SECURITY_SCAN_FAIL_ON: '${failOnEnv}' is not one of ${FAIL_LEVELS.join(', ')}`);
    else failOnOverride = level as Severity;
  }
  if (errors.length || !parsed.success) return { errors, overrides };

  const policy = parsed.data;
  if (coverageOverride !== undefined) {
    // The pipeline's one coverage figure applies to the suite that stands for the whole test run
    // (environment.ts says why, and --help prints the same rule).
    const suiteName = COVERAGE_THRESHOLD_SUITES.find((name) => policy.coverage?.[name]);
    const suite = suiteName && policy.coverage?.[suiteName];
    if (!suiteName || !suite)
      errors.push(
        `COVERAGE_THRESHOLD: set to ${coverageOverride} but ${file} has no ${COVERAGE_THRESHOLD_SUITES.map((s) => `coverage.${s}`).join(' or ')} suite to apply it to`,
      );
    else {
      suite.lines = coverageOverride;
      overrides.push(`${coverageThresholdField(suiteName)} = ${coverageOverride} (COVERAGE_THRESHOLD)`);
    }
  }
  if (failOnOverride !== undefined) {
    if (!policy.security)
      errors.push(`SECURITY_SCAN_FAIL_ON: set to ${failOnOverride} but ${file} has no security section`);
    else {
      policy.security.failOn = failOnOverride as (typeof FAIL_LEVELS)[number];
      overrides.push(`security.failOn = ${failOnOverride} (SECURITY_SCAN_FAIL_ON)`);
    }
  }
  const gates = ['coverage', 'tests', 'security', 'performance', 'load', 'typecheck', 'lint'] as const;
  if (!gates.some((g) => policy[g] !== undefined))
    errors.push(`${file}: (root): no gate configured; add at least one of ${gates.join(', ')}`);
  return errors.length ? { errors, overrides } : { policy, errors, overrides };
}
