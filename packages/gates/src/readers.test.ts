/**
 * Readers on real report samples: produced here by the real tools (vitest junit/json-summary/lcov/
 * cobertura, npm audit against the registry, autocannon against a local server, tsc, ESLint) and
 * written after the formats' published examples where the tool does not run here (Trivy, Grype,
 * SARIF, k6). Plus empty and malformed files, each naming the problem.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readCoverage, inferCoverageFormat } from './readers/read-coverage.js';
import { readJunit } from './readers/read-junit.js';
import { inferPerformanceFormat, readPerformance } from './readers/read-performance.js';
import { readEslintJson, readTscOutput } from './readers/read-static-checks.js';
import {
  inferVulnerabilityFormat,
  normaliseSeverity,
  readVulnerabilities,
  severityFromScore,
  type VulnerabilityFormat,
} from './readers/read-vulnerabilities.js';
import type { Finding } from './types.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'its-gate-readers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const temp = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

async function findingsOf(
  file: string,
  format: VulnerabilityFormat,
): Promise<{ findings: Finding[]; tool: string; incomplete?: string }> {
  const findings: Finding[] = [];
  const out = await readVulnerabilities(file, format, (f) => findings.push(f));
  return { findings, ...out };
}

describe('coverage', () => {
  it('reads vitest/istanbul json-summary totals as counts', async () => {
    const t = await readCoverage(fixture('istanbul-coverage-summary.json'), 'json-summary');
    expect(t).toEqual({
      lines: { covered: 3, total: 4 },
      statements: { covered: 3, total: 5 },
      functions: { covered: 2, total: 3 },
      branches: { covered: 1, total: 2 },
    });
  });

  it('sums an lcov tracefile', async () => {
    const t = await readCoverage(fixture('istanbul-lcov.info'), 'lcov');
    expect(t).toEqual({
      lines: { covered: 3, total: 4 },
      functions: { covered: 2, total: 3 },
      branches: { covered: 1, total: 2 },
    });
  });

  it('reads Cobertura counts, and rates where an older writer gives only rates', async () => {
    expect(await readCoverage(fixture('istanbul-cobertura.xml'), 'cobertura')).toEqual({
      lines: { covered: 3, total: 4 },
      branches: { covered: 1, total: 2 },
    });
    expect(await readCoverage(fixture('cobertura-rates-only.xml'), 'cobertura')).toEqual({
      lines: { covered: 81.25, total: 100 },
    });
  });

  it('infers the format from the file name', () => {
    expect(inferCoverageFormat('coverage/lcov.info')).toBe('lcov');
    expect(inferCoverageFormat('coverage/cobertura-coverage.xml')).toBe('cobertura');
    expect(inferCoverageFormat('coverage/coverage-summary.json')).toBe('json-summary');
    expect(inferCoverageFormat('coverage/report.txt')).toBeUndefined();
  });

  it.each([
    ['empty json-summary', 'empty.json', '', 'json-summary', /empty/],
    ['truncated json-summary', 'cut.json', '{"total": {"lines": {"total": 4,', 'json-summary', /.+/],
    ['json-summary without total', 'nototal.json', '{"files": {}}', 'json-summary', /no "total" entry/],
    ['empty lcov', 'empty.info', '', 'lcov', /no end_of_record/],
    ['garbage lcov', 'bad.info', 'hello world\n', 'lcov', /line 1: 'hello world' is not an lcov record/],
    ['empty cobertura', 'empty.xml', '', 'cobertura', /empty/],
    [
      'malformed cobertura',
      'bad.xml',
      '<coverage line-rate="0.5"><packages></coverage>',
      'cobertura',
      /\d+:\d+/,
    ],
    ['not cobertura', 'junit.xml', '<testsuites/>', 'cobertura', /root element is <testsuites>/],
  ] as const)('%s is an error naming the problem', async (_name, file, text, format, message) => {
    await expect(readCoverage(temp(file, text), format)).rejects.toThrow(message);
  });
});

describe('JUnit', () => {
  it('counts a real vitest report with a failure and a skipped test', async () => {
    const s = await readJunit(fixture('vitest-junit-failing.xml'));
    expect(s).toMatchObject({ suites: 1, tests: 4, failures: 1, errors: 0, skipped: 1, emptySuiteCount: 0 });
    expect(s.failed).toEqual([
      {
        suite: 'src/math.test.js',
        name: 'src/math.test.js › math > fails on purpose',
        message: expect.stringContaining('expected 4 to be 5'),
      },
    ]);
  });

  it('counts the passing run', async () => {
    expect(await readJunit(fixture('vitest-junit-passing.xml'))).toMatchObject({
      tests: 4,
      failures: 0,
      skipped: 1,
      failed: [],
    });
  });

  it('finds suites that ran nothing, errors and nested suites (Surefire style)', async () => {
    const file = temp(
      'surefire.xml',
      `<?xml version="1.0"?>
<testsuites>
  <testsuite name="outer">
    <testsuite name="inner"><testcase classname="a.B" name="works"/><testcase classname="a.B" name="throws"><error message="NullPointerException" type="java.lang.NullPointerException">trace</error></testcase></testsuite>
  </testsuite>
  <testsuite name="all-skipped"><testcase name="later"><skipped/></testcase></testsuite>
  <testsuite name="nothing" tests="0"/>
</testsuites>`,
    );
    const s = await readJunit(file);
    expect(s).toMatchObject({
      suites: 4,
      tests: 3,
      failures: 0,
      errors: 1,
      skipped: 1,
      emptySuiteCount: 2,
      emptySuites: ['all-skipped', 'nothing'],
    });
    expect(s.failed[0]).toEqual({ suite: 'inner', name: 'a.B › throws', message: 'NullPointerException' });
  });

  it.each([
    ['empty', '', /empty/],
    ['malformed', '<testsuites><testsuite name="x"><testcase name="a"></testsuite>', /\d+:\d+/],
    ['not JUnit', '<html><body/></html>', /root element is <html>/],
  ])('%s file is an error', async (name, text, message) => {
    await expect(readJunit(temp(`${name}.xml`, text))).rejects.toThrow(message);
  });

  it('a missing file is an ENOENT error', async () => {
    await expect(readJunit(join(dir, 'nope.xml'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('vulnerabilities', () => {
  it('npm audit v2: one finding per advisory, transitive-only packages once, severities normalised', async () => {
    const { findings, tool } = await findingsOf(fixture('npm-audit-v2.json'), 'npm-audit');
    expect(tool).toBe('npm audit');
    expect(findings.map((f) => [f.id, f.severity, f.target])).toEqual([
      ['GHSA-grv7-fg5c-xmjg', 'high', 'braces@<3.0.3'],
      ['npm:micromatch', 'high', 'micromatch@<=4.0.7'],
      ['GHSA-pxg6-pf52-xh8x', 'low', 'cookie@<0.7.0'],
      ['GHSA-mwcw-c2x4-8c55', 'medium', 'nanoid@<3.3.8'],
    ]);
    expect(findings[1]).toMatchObject({ title: 'vulnerable through braces', fixedIn: 'micromatch@4.0.8' });
  });

  it('npm audit: a clean report has no findings', async () => {
    expect((await findingsOf(fixture('npm-audit-clean.json'), 'npm-audit')).findings).toEqual([]);
  });

  it('npm audit: the error document npm prints when the advisory endpoint fails (captured here) is an error, never a pass', async () => {
    await expect(findingsOf(fixture('npm-audit-endpoint-error.json'), 'npm-audit')).rejects.toThrow(
      /npm audit did not complete \(HTTP 405\): 405 Method Not Allowed/,
    );
    await expect(
      findingsOf(
        temp(
          'npm-err.json',
          '{"error":{"code":"ENOLOCK","summary":"This command requires an existing lockfile."}}',
        ),
        'npm-audit',
      ),
    ).rejects.toThrow('npm audit did not complete: ENOLOCK: This command requires an existing lockfile.');
  });

  it('Trivy: OS and language packages, misconfigurations, targets kept', async () => {
    const { findings } = await findingsOf(fixture('trivy-image.json'), 'trivy');
    expect(findings.map((f) => [f.id, f.severity, f.target])).toEqual([
      ['CVE-2024-45491', 'critical', 'libexpat1@2.5.0-1 (its-camera-ai:production (debian 12.8))'],
      ['CVE-2023-50495', 'medium', 'libtinfo6@6.4-4 (its-camera-ai:production (debian 12.8))'],
      ['CVE-2011-3374', 'low', 'apt@2.6.1 (its-camera-ai:production (debian 12.8))'],
      ['CVE-2024-21538', 'high', 'cross-spawn@7.0.3 (app/package-lock.json)'],
      ['DS002', 'high', 'Dockerfile'],
    ]);
    expect(findings[0]!.fixedIn).toBe('2.5.0-1+deb12u1');
    expect((await findingsOf(fixture('trivy-clean.json'), 'trivy')).findings).toEqual([]);
  });

  it('Trivy: the pre-0.20 top-level array form is read too; another schema is refused', async () => {
    const legacy = temp(
      'trivy-legacy.json',
      JSON.stringify([
        {
          Target: 'alpine 3.7',
          Vulnerabilities: [
            {
              VulnerabilityID: 'CVE-2018-16840',
              PkgName: 'curl',
              InstalledVersion: '7.61.0-r0',
              Severity: 'HIGH',
            },
          ],
        },
      ]),
    );
    expect((await findingsOf(legacy, 'trivy')).findings.map((f) => f.id)).toEqual(['CVE-2018-16840']);
    await expect(
      findingsOf(temp('trivy-v3.json', '{"SchemaVersion": 3, "Results": []}'), 'trivy'),
    ).rejects.toThrow('SchemaVersion 3 is not supported');
    await expect(findingsOf(temp('trivy-other.json', '{"matches": []}'), 'trivy')).rejects.toThrow(
      'not a Trivy JSON report',
    );
  });

  it('Grype: Negligible is info, fixes listed', async () => {
    const { findings } = await findingsOf(fixture('grype-image.json'), 'grype');
    expect(findings.map((f) => [f.id, f.severity, f.target, f.fixedIn])).toEqual([
      ['CVE-2023-45853', 'critical', 'zlib1g@1:1.2.13.dfsg-1', undefined],
      ['GHSA-3h5v-q93c-6h6q', 'medium', 'ws@8.16.0', '8.17.1'],
      ['CVE-2005-2541', 'info', 'tar@1.34+dfsg-1.2', undefined],
    ]);
    await expect(findingsOf(temp('grype-none.json', '{"foo": 1}'), 'grype')).rejects.toThrow(
      'not a Grype JSON report',
    );
  });

  it('SARIF: security-severity scores first, then levels; rules by id or index; several runs', async () => {
    const { findings, tool } = await findingsOf(fixture('codeql-style.sarif'), 'sarif');
    expect(tool).toBe('CodeQL, hadolint');
    expect(findings.map((f) => [f.id, f.severity, f.target, f.tool])).toEqual([
      ['js/sql-injection', 'high', 'apps/api/src/routes/search.ts:42', 'CodeQL'],
      ['js/unused-local-variable', 'low', 'apps/web/src/app.ts:7', 'CodeQL'],
      ['js/insecure-randomness', 'high', 'apps/api/src/auth/api-keys.ts:12', 'CodeQL'],
      ['DL3007', 'medium', 'docker/Dockerfile:1', 'hadolint'],
    ]);
  });

  it('SARIF: a run whose tool did not complete is reported as incomplete with its notification', async () => {
    const out = await findingsOf(fixture('sarif-tool-failed.sarif'), 'sarif');
    expect(out.incomplete).toBe(
      'its-image-secrets did not complete: image its-camera-ai:production is not built',
    );
  });

  it.each([
    ['sarif', 'x.sarif', '{"version": "2.0.0", "runs": []}', /SARIF version 2.0.0 is not supported/],
    ['sarif', 'y.sarif', '{"runs": [}', /.+/],
    ['sarif', 'z.sarif', '', /empty/],
    ['npm-audit', 'a.json', '[]', /not an npm audit --json report/],
    ['npm-audit', 'b.json', '{"auditReportVersion": 1}', /version 1 is not supported/],
  ] as const)('%s: malformed %s is an error', async (format, file, text, message) => {
    await expect(findingsOf(temp(file, text), format)).rejects.toThrow(message);
  });

  it('severities and scores normalise as documented', () => {
    expect(['CRITICAL', 'moderate', 'Negligible', 'none', 'weird', undefined].map(normaliseSeverity)).toEqual(
      ['critical', 'medium', 'info', 'info', 'unknown', 'unknown'],
    );
    expect([9.8, 7, 6.9, 4, 0.1, 0].map(severityFromScore)).toEqual([
      'critical',
      'high',
      'medium',
      'medium',
      'low',
      'info',
    ]);
    expect(
      ['results.sarif', 'npm-audit.json', 'trivy-image.json', 'grype.json', 'scan.json'].map(
        inferVulnerabilityFormat,
      ),
    ).toEqual(['sarif', 'npm-audit', 'trivy', 'grype', undefined]);
  });
});

describe('performance', () => {
  it('autocannon (real run): k6 names, percentiles from its table, failure rate', async () => {
    const m = await readPerformance(fixture('autocannon-health.json'), 'autocannon');
    const d = m.get('http_req_duration')!;
    expect(d).toMatchObject({ avg: 2.56, min: 1, max: 94, med: 2, count: 9889, unit: 'ms' });
    expect(d.percentiles).toMatchObject({ 90: 4, 97.5: 11, 99: 23, 99.9: 79 });
    expect(d.percentiles![95]).toBeUndefined();
    expect(m.get('http_req_failed')).toEqual({ rate: 0, count: 0 });
    expect(m.get('http_reqs')).toMatchObject({ count: 9889, rate: 3297 });
  });

  it('autocannon: every answer a 500 → failure rate 1', async () => {
    const m = await readPerformance(fixture('autocannon-500s.json'), 'autocannon');
    expect(m.get('http_req_failed')!.rate).toBe(1);
    expect(m.get('non2xx')!.count).toBe(32604);
  });

  it('k6 --summary-export: trends, rates from "value", counters', async () => {
    const m = await readPerformance(fixture('k6-summary-export.json'), 'k6');
    expect(m.get('http_req_duration')).toMatchObject({
      avg: 14.56,
      med: 13.44,
      percentiles: { 90: 18.9, 95: 21.44 },
    });
    expect(m.get('http_req_failed')).toMatchObject({ rate: 0 });
    expect(m.get('http_reqs')).toMatchObject({ count: 1671, rate: 39.461455 });
    expect(m.has('http_req_duration{expected_response:true}')).toBe(true);
  });

  it('k6 handleSummary JSON: values nested with a type', async () => {
    const m = await readPerformance(fixture('k6-handle-summary.json'), 'k6');
    expect(m.get('http_req_duration')).toMatchObject({ med: 160.3, percentiles: { 95: 264.1 }, unit: 'ms' });
    expect(m.get('http_req_failed')).toMatchObject({ rate: 0.0213 });
    expect(m.get('vus_max')).toMatchObject({ value: 50 });
  });

  it('our bench JSON (packages/vision bench --json): trends from *Ms keys, numeric leaves as values', async () => {
    const m = await readPerformance(fixture('vision-bench.json'), 'bench');
    expect(m.get('inference')).toEqual({
      unit: 'ms',
      med: 38.2,
      min: 33.1,
      max: 71.4,
      count: 100,
      percentiles: { 50: 38.2, 95: 47.9 },
    });
    expect(m.get('pipeline.0.fpsPerCamera')).toEqual({ value: 12.2 });
    expect(m.get('threads')).toEqual({ value: 2 });
  });

  it.each([
    ['k6', '{"metrics": {}}', /no metrics/],
    ['k6', '{"state": {}}', /no "metrics" object/],
    ['autocannon', '{"url": "x"}', /not an autocannon --json result/],
    ['bench', '{"name": "x"}', /no numbers/],
    ['bench', '', /empty/],
    ['k6', '{"metrics": ', /not valid JSON/],
    ['k6', '[1, 2]', /expected a JSON object/],
  ] as const)('%s: %s is an error', async (format, text, message) => {
    await expect(readPerformance(temp(`perf-${Math.random()}.json`, text), format)).rejects.toThrow(message);
  });

  it('infers the format from the name', () => {
    expect(
      ['reports/load/autocannon.json', 'k6-summary.json', 'vision-bench.json', 'x.json'].map(
        inferPerformanceFormat,
      ),
    ).toEqual(['autocannon', 'k6', 'bench', undefined]);
  });
});

describe('type check and lint', () => {
  it('tsc --pretty false output (real run)', async () => {
    const s = await readTscOutput(fixture('tsc-errors.txt'));
    expect(s).toMatchObject({ errors: 2, warnings: 0, filesWithProblems: 1 });
    expect(s.diagnostics[0]).toEqual({
      file: 'bad.ts',
      line: 1,
      code: 'TS2322',
      message: "Type 'string' is not assignable to type 'number'.",
      severity: 'error',
    });
  });

  it('tsc pretty output with colours (real run)', async () => {
    const s = await readTscOutput(fixture('tsc-errors-pretty.txt'));
    expect(s.errors).toBe(2);
    expect(s.diagnostics.map((d) => `${d.file}:${d.line} ${d.code}`)).toEqual([
      'bad.ts:1 TS2322',
      'bad.ts:2 TS2339',
    ]);
  });

  it('an empty tsc log is a clean run; project-level errors count', async () => {
    expect((await readTscOutput(temp('tsc-clean.txt', ''))).errors).toBe(0);
    expect(
      (await readTscOutput(temp('tsc-global.txt', "error TS5083: Cannot read file '/x/tsconfig.json'.\n")))
        .errors,
    ).toBe(1);
  });

  it('ESLint --format json (real run): errors, warnings and parse errors', async () => {
    const s = await readEslintJson(fixture('eslint-problems.json'));
    expect(s).toMatchObject({ errors: 3, warnings: 1, filesWithProblems: 2 });
    expect(s.diagnostics.map((d) => d.code)).toEqual([
      'no-unused-vars',
      'prefer-const',
      'no-undef',
      'parse error',
    ]);
    expect(await readEslintJson(fixture('eslint-clean.json'))).toMatchObject({ errors: 0, warnings: 0 });
    expect(await readEslintJson(temp('eslint-none.json', '[]'))).toMatchObject({ errors: 0 });
    await expect(readEslintJson(temp('eslint-obj.json', '{"errors": 0}'))).rejects.toThrow(
      'not ESLint --format json output',
    );
    await expect(readEslintJson(temp('eslint-bad.json', '[{"filePath": "a"}]'))).rejects.toThrow(
      'an entry has no "messages"',
    );
  });
});
