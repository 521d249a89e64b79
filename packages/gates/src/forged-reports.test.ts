/**
 * Reports whose numbers cannot be true (the security probe's forged reports: covered > total,
 * negative totals, autocannon `errors: -100`…): every reader refuses them naming the field, and the
 * gate fails on an `invalid` row naming the file, even where the policy says `onUnavailable: warn`.
 * Each case starts from a real sample (fixtures/) or the format's published shape and changes one number.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePolicy } from './policy.js';
import { InvalidReportError } from './readers/check-numbers.js';
import { readCoverage, type CoverageFormat } from './readers/read-coverage.js';
import { readJunit } from './readers/read-junit.js';
import { readPerformance, type PerformanceFormat } from './readers/read-performance.js';
import { readEslintJson } from './readers/read-static-checks.js';
import { readVulnerabilities, type VulnerabilityFormat } from './readers/read-vulnerabilities.js';
import { runGates } from './run-gates.js';

// A report's parsed JSON, changed by path in the cases.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const dir = mkdtempSync(join(tmpdir(), 'its-gate-forged-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fixtureText = (name: string) =>
  readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8');
/** A fixture's JSON with one change. */
const forge = (name: string, change: (json: Loose) => void): string => {
  const json = JSON.parse(fixtureText(name)) as Loose;
  change(json);
  return JSON.stringify(json);
};
let written = 0;
const temp = (name: string, text: string) => {
  const path = join(dir, `${written++}-${name}`);
  writeFileSync(path, text);
  return path;
};

/** Rejects with an InvalidReportError whose message matches. */
async function expectInvalid(read: Promise<unknown>, message: RegExp): Promise<void> {
  const error = await read.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the forged report was accepted').toBeInstanceOf(InvalidReportError);
  expect((error as Error).message).toMatch(/^invalid report: /);
  expect((error as Error).message).toMatch(message);
}

describe('coverage: counts, covered ≤ total, percentages and rates', () => {
  const lcov = (records: [string, number, number][]) =>
    records
      .map(([file, found, hit]) => `TN:\nSF:${file}\nDA:1,1\nLF:${found}\nLH:${hit}\nend_of_record\n`)
      .join('');

  it.each<[string, CoverageFormat, string, string, RegExp]>([
    [
      'json-summary: covered > total',
      'json-summary',
      'coverage-summary.json',
      forge('istanbul-coverage-summary.json', (j) => (j.total.lines = { total: 10, covered: 12, pct: 120 })),
      /total\.lines\.covered \(12\) is more than total\.lines\.total \(10\)/,
    ],
    [
      'json-summary: a negative total',
      'json-summary',
      'coverage-summary.json',
      forge('istanbul-coverage-summary.json', (j) => (j.total.branches = { total: -5, covered: -10 })),
      /total\.branches\.total is -5, not a count/,
    ],
    [
      'json-summary: a fractional count',
      'json-summary',
      'coverage-summary.json',
      forge('istanbul-coverage-summary.json', (j) => (j.total.functions.covered = 2.5)),
      /total\.functions\.covered is 2\.5, not a count/,
    ],
    [
      'json-summary: a percentage above 100',
      'json-summary',
      'coverage-summary.json',
      forge('istanbul-coverage-summary.json', (j) => (j.total.lines.pct = 150)),
      /total\.lines\.pct is 150, not a percentage \(0–100\)/,
    ],
    [
      'lcov: a record hits more lines than it found',
      'lcov',
      'lcov.info',
      lcov([['src/a.ts', 3, 5]]),
      /LH of src\/a\.ts \(5\) is more than LF \(3\)/,
    ],
    [
      'lcov: one impossible record, even when the file’s sums are possible',
      'lcov',
      'lcov.info',
      lcov([
        ['src/a.ts', 3, 5],
        ['src/b.ts', 10, 0],
      ]),
      /LH of src\/a\.ts \(5\) is more than LF \(3\)/,
    ],
    [
      'lcov: a negative count',
      'lcov',
      'lcov.info',
      lcov([['src/a.ts', -4, 0]]),
      /line 4: LF is -4, not a count/,
    ],
    [
      'Cobertura: lines-covered > lines-valid',
      'cobertura',
      'cobertura.xml',
      fixtureText('istanbul-cobertura.xml').replace(/lines-covered="\d+"/, 'lines-covered="99"'),
      /lines-covered \(99\) is more than lines-valid \(4\)/,
    ],
    [
      'Cobertura: a negative branches-valid',
      'cobertura',
      'cobertura.xml',
      fixtureText('istanbul-cobertura.xml').replace(/branches-valid="\d+"/, 'branches-valid="-2"'),
      /branches-valid is -2, not a count/,
    ],
    [
      'Cobertura: a line-rate above 1',
      'cobertura',
      'cobertura.xml',
      fixtureText('cobertura-rates-only.xml').replace(/line-rate="[\d.]+"/, 'line-rate="1.5"'),
      /line-rate is 1\.5, not a rate \(0–1\)/,
    ],
  ])('%s', async (_name, format, file, text, message) => {
    await expectInvalid(readCoverage(temp(file, text), format), message);
  });
});

describe('JUnit: the summary attributes are counts and durations', () => {
  it.each([
    [
      'a negative tests count',
      '<testsuites><testsuite name="api" tests="-1" failures="0"><testcase name="a"/></testsuite></testsuites>',
      /<testsuite name="api"> tests is -1, not a count/,
    ],
    [
      'negative failures on the root',
      '<testsuites tests="1" failures="-3"><testsuite name="api"><testcase name="a"/></testsuite></testsuites>',
      /<testsuites> failures is -3, not a count/,
    ],
    [
      'a fractional skipped count',
      '<testsuite name="api" skipped="0.5"><testcase name="a"/></testsuite>',
      /<testsuite name="api"> skipped is 0\.5, not a count/,
    ],
    [
      'a negative duration on a case',
      '<testsuite name="api"><testcase name="fast" time="-2"/></testsuite>',
      /<testcase name="fast"> time is -2; a duration cannot be negative/,
    ],
  ])('%s', async (_name, xml, message) => {
    await expectInvalid(readJunit(temp('junit.xml', xml)), message);
  });

  it('a real report and a locale-formatted Surefire time are still read', async () => {
    const file = temp(
      'surefire.xml',
      '<testsuite name="s" tests="1" failures="0" errors="0" skipped="0" time="1,234.5"><testcase name="a" time="0.01"/></testsuite>',
    );
    expect(await readJunit(file)).toMatchObject({ tests: 1, failures: 0 });
    expect(await readJunit(temp('vitest.xml', fixtureText('vitest-junit-failing.xml')))).toMatchObject({
      failures: 1,
    });
  });
});

describe('vulnerability reports: scores, line numbers and npm’s summary', () => {
  const sarif = (result: Record<string, unknown>, rule: Record<string, unknown> = { id: 'R1' }) =>
    JSON.stringify({
      version: '2.1.0',
      runs: [{ tool: { driver: { name: 'scan', rules: [rule] } }, results: [{ ruleId: 'R1', ...result }] }],
    });

  it.each<[string, VulnerabilityFormat, string, string, RegExp]>([
    [
      'SARIF: a negative security-severity on a result (would turn critical into info)',
      'sarif',
      'scan.sarif',
      sarif({ properties: { 'security-severity': '-5' } }),
      /runs\.0\.results\.0\.properties\.security-severity is -5, not a score \(0–10\)/,
    ],
    [
      'SARIF: a rule’s security-severity above 10',
      'sarif',
      'scan.sarif',
      sarif({}, { id: 'R1', properties: { 'security-severity': '11' } }),
      /runs\.0\.tool\.driver\.rules\.0\.properties\.security-severity is 11, not a score/,
    ],
    [
      'SARIF: line 0',
      'sarif',
      'scan.sarif',
      sarif({
        locations: [{ physicalLocation: { artifactLocation: { uri: 'a.ts' }, region: { startLine: 0 } } }],
      }),
      /region\.startLine is 0, not a line number/,
    ],
    [
      'SARIF: a negative ruleIndex',
      'sarif',
      'scan.sarif',
      sarif({ ruleIndex: -1 }),
      /runs\.0\.results\.0\.ruleIndex is -1, not a count/,
    ],
    [
      'npm audit: a negative count in the summary',
      'npm-audit',
      'npm-audit.json',
      forge('npm-audit-v2.json', (j) => (j.metadata.vulnerabilities.critical = -1)),
      /metadata\.vulnerabilities\.critical is -1, not a count/,
    ],
    [
      'npm audit: severities that do not add up to the total',
      'npm-audit',
      'npm-audit.json',
      forge('npm-audit-v2.json', (j) => (j.metadata.vulnerabilities.total = 40)),
      /metadata\.vulnerabilities\.total is 40 but its severities add up to 4/,
    ],
    [
      'npm audit: entries cut out while the summary still counts them',
      'npm-audit',
      'npm-audit.json',
      forge('npm-audit-v2.json', (j) => {
        const [first] = Object.keys(j.vulnerabilities);
        j.vulnerabilities = { [first!]: j.vulnerabilities[first!] };
      }),
      /metadata\.vulnerabilities\.total is 4 but the report lists 1 vulnerable packages/,
    ],
    [
      'Trivy: a secret on line -3',
      'trivy',
      'trivy.json',
      JSON.stringify({
        SchemaVersion: 2,
        Results: [
          { Target: 'app/.env', Secrets: [{ RuleID: 'aws-key', Severity: 'CRITICAL', StartLine: -3 }] },
        ],
      }),
      /Results\.0\.Secrets\.0\.StartLine is -3, not a line number/,
    ],
  ])('%s', async (_name, format, file, text, message) => {
    await expectInvalid(
      readVulnerabilities(temp(file, text), format, () => {}),
      message,
    );
  });
});

describe('ESLint: counts agree with the messages, severities are 1 or 2', () => {
  const eslint = (change: (entries: Loose[]) => void) =>
    forge('eslint-problems.json', (j) => change(j as Loose[]));

  it.each([
    [
      'a negative errorCount',
      eslint((e) => (e[0]!.errorCount = -100)),
      /\[0\]\.errorCount is -100, not a count/,
    ],
    [
      'errorCount 0 beside error messages',
      eslint((e) => {
        const i = e.findIndex((r) => r.errorCount > 0);
        e[i]!.errorCount = 0;
      }),
      /\]\.errorCount is 0 but the report lists \d+ errors/,
    ],
    [
      'a severity ESLint never writes (it would count as a warning)',
      eslint((e) => {
        const i = e.findIndex((r) => r.messages.length > 0);
        e[i]!.messages[0].severity = 5;
        e[i]!.messages[0].fatal = undefined;
      }),
      /\]\.messages\[0\]\.severity is 5; ESLint writes 1 \(warning\) or 2 \(error\)/,
    ],
  ])('%s', async (_name, text, message) => {
    await expectInvalid(readEslintJson(temp('eslint.json', text)), message);
  });
});

describe('performance: counts, latencies ≥ 0, rates 0–1', () => {
  it.each<[string, PerformanceFormat, string, RegExp]>([
    [
      'autocannon: errors -100 (lowers the failure rate)',
      'autocannon',
      forge('autocannon-500s.json', (j) => (j.errors = -100)),
      /^invalid report: errors is -100, not a count/,
    ],
    [
      'autocannon: a negative latency',
      'autocannon',
      forge('autocannon-health.json', (j) => (j.latency.p99 = -3)),
      /latency\.p99 is -3; a latency cannot be negative/,
    ],
    [
      'autocannon: more non-2xx answers than answers',
      'autocannon',
      forge('autocannon-500s.json', (j) => (j.non2xx = j.requests.total + 1)),
      /non2xx \(32605\) is more than requests\.total \(32604\)/,
    ],
    [
      'autocannon: a negative request total',
      'autocannon',
      forge('autocannon-health.json', (j) => (j.requests.total = -1)),
      /requests\.total is -1, not a count/,
    ],
    [
      'k6 handleSummary: a failure rate above 1',
      'k6',
      forge('k6-handle-summary.json', (j) => (j.metrics.http_req_failed.values.rate = 1.5)),
      /metrics\.http_req_failed\.values\.rate is 1\.5, not a rate \(0–1\)/,
    ],
    [
      'k6 --summary-export: a negative p(95) duration',
      'k6',
      forge('k6-summary-export.json', (j) => (j.metrics.http_req_duration['p(95)'] = -10)),
      /metrics\.http_req_duration\.p\(95\) is -10; a duration cannot be negative/,
    ],
    [
      'k6 --summary-export: a negative rate "value"',
      'k6',
      forge('k6-summary-export.json', (j) => (j.metrics.http_req_failed.value = -0.5)),
      /metrics\.http_req_failed\.value is -0\.5, not a rate/,
    ],
    [
      'k6: a negative request count',
      'k6',
      forge('k6-handle-summary.json', (j) => (j.metrics.http_reqs.values.count = -5)),
      /metrics\.http_reqs\.values\.count is -5, not a count/,
    ],
    [
      'bench: a negative p95',
      'bench',
      forge('vision-bench.json', (j) => (j.inference.p95Ms = -1)),
      /inference\.p95Ms is -1; a duration cannot be negative/,
    ],
    [
      'bench: a fractional iteration count',
      'bench',
      forge('vision-bench.json', (j) => (j.inference.iterations = 2.5)),
      /inference\.iterations is 2\.5, not a count/,
    ],
  ])('%s', async (_name, format, text, message) => {
    await expectInvalid(readPerformance(temp(`${format}.json`, text), format), message);
  });
});

describe('itsctl gate on a forged report', () => {
  it('fails with an invalid row naming the file and the field, even with onUnavailable: warn', async () => {
    writeFileSync(
      join(dir, 'autocannon.json'),
      forge('autocannon-500s.json', (j) => (j.errors = -100)),
    );
    writeFileSync(
      join(dir, 'coverage-summary.json'),
      forge('istanbul-coverage-summary.json', (j) => (j.total.lines = { total: 10, covered: 12, pct: 120 })),
    );
    const { policy, errors } = parsePolicy(
      [
        'version: 1',
        'coverage:',
        '  unit: { reports: [coverage-summary.json], lines: 50 }',
        'load:',
        '  api:',
        '    report: { path: autocannon.json, onUnavailable: warn }',
        '    thresholds: { http_req_failed: ["rate<0.5"] }',
      ].join('\n'),
      'gates.yml',
      {},
    );
    expect(errors).toEqual([]);
    const report = await runGates(policy!, { cwd: dir, today: '2026-01-01' });
    expect(report.status).toBe('fail');
    expect(report.results).toEqual([
      expect.objectContaining({
        gate: 'coverage.unit',
        status: 'fail',
        file: 'coverage-summary.json',
        actual: 'invalid',
        message:
          'coverage-summary.json: invalid report: total.lines.covered (12) is more than total.lines.total (10)',
      }),
      expect.objectContaining({
        gate: 'load.api',
        status: 'fail',
        file: 'autocannon.json',
        actual: 'invalid',
        message: 'autocannon.json: invalid report: errors is -100, not a count (a whole number ≥ 0)',
      }),
    ]);
  });
});
