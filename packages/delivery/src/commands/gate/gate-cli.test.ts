/**
 * `itsctl gate` end to end: a workspace laid out as CI leaves it (the repository's own policy and
 * ignore file, reports from the fixtures), then broken one way at a time. Exit codes: 0 pass, 1 a gate
 * failed, 2 the policy or environment is invalid.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runItsctl } from '../../../test/helpers/cli.js';
import { readJunit } from '@its/gates';

// A report's parsed JSON, changed by path in the cases.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../../gates/src/fixtures/${name}`, import.meta.url));
const REPO = fileURLToPath(new URL('../../../../../', import.meta.url));
let ws: string;

function put(path: string, from: string | { text: string }): void {
  const target = join(ws, path);
  mkdirSync(dirname(target), { recursive: true });
  if (typeof from === 'string') copyFileSync(fixture(from), target);
  else writeFileSync(target, from.text);
}

const summary = (pct: number) => ({
  text: JSON.stringify({
    total: {
      lines: { total: 1000, covered: pct * 10, skipped: 0, pct },
      statements: { total: 1000, covered: pct * 10, skipped: 0, pct },
      functions: { total: 10, covered: 10, skipped: 0, pct: 100 },
      branches: { total: 10, covered: 9, skipped: 0, pct: 90 },
    },
  }),
});
const cleanSarif = {
  text: JSON.stringify({
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'its-security-scan', rules: [] } },
        invocations: [{ executionSuccessful: true }],
        results: [],
      },
    ],
  }),
};

beforeEach(() => {
  ws = mkdtempSync(join(tmpdir(), 'its-gate-cli-'));
  mkdirSync(join(ws, 'deploy'));
  copyFileSync(join(REPO, 'deploy/quality-gates.yml'), join(ws, 'deploy/quality-gates.yml'));
  copyFileSync(join(REPO, 'deploy/security-ignore.yml'), join(ws, 'deploy/security-ignore.yml'));
  put('coverage/all/coverage-summary.json', summary(93.5));
  put('coverage/unit/coverage-summary.json', summary(72));
  put('coverage/integration/coverage-summary.json', summary(64));
  put('reports/junit/vitest.xml', 'vitest-junit-passing.xml');
  put('reports/security/npm-audit.json', 'npm-audit-clean.json');
  put('reports/security/security-scan.sarif', cleanSarif);
  put('reports/perf/vision-bench.json', 'vision-bench.json');
  put('reports/perf/api-autocannon.json', 'autocannon-health.json');
  put('reports/load/autocannon.json', 'autocannon-health.json');
  put('reports/typecheck.txt', { text: '' });
  put('reports/eslint.json', 'eslint-clean.json');
});
afterEach(() => rmSync(ws, { recursive: true, force: true }));

const gate = (args: string[] = [], env: Record<string, string> = {}) =>
  runItsctl(['gate', ...args], { cwd: ws, env });

describe('itsctl gate', () => {
  it('passes when every report meets the policy (exit 0) and prints the table last', async () => {
    const r = await gate();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PASS {2}coverage\.combined\s+lines\s+≥ 90 %\s+93\.50 % \(935\/1000\)/);
    expect(r.stdout).toMatch(
      /PASS {2}performance\.inference\s+inference p\(95\)<100\s+p\(95\)<100\s+p\(95\)=47\.9 ms/,
    );
    expect(r.stdout).toMatch(
      /PASS {2}performance\.api\s+http_req_duration p\(95\)<200\s+p\(95\)<200\s+p\(95\)=8\.667 ms/,
    );
    expect(r.stdout).toContain(
      'p(95) interpolated linearly between p(90)=4 and p(97.5)=11 (the tool does not report p(95))',
    );
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(
      'Quality gate: PASSED — 17 passed, 0 failed, 0 warnings',
    );
  });

  it('fails (exit 1) on a red test, a high finding and a slow p95, naming file, threshold and actual', async () => {
    put('reports/junit/vitest.xml', 'vitest-junit-failing.xml');
    put('reports/security/npm-audit.json', 'npm-audit-v2.json');
    const slow = JSON.parse(readFileSync(fixture('autocannon-health.json'), 'utf8')) as {
      latency: Record<string, number>;
    };
    slow.latency.p90 = 240;
    slow.latency.p97_5 = 260;
    put('reports/perf/api-autocannon.json', { text: JSON.stringify(slow) });
    const r = await gate();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'FAIL tests · failures: 1 test failed (1 failures, 0 errors) [reports/junit/vitest.xml]',
    );
    expect(r.stdout).toContain(
      'reports/junit/vitest.xml: src/math.test.js › src/math.test.js › math > fails on purpose: expected 4 to be 5 // Object.is equality',
    );
    expect(r.stdout).toContain(
      'FAIL security · findings ≥ high: 2 findings at or above high [reports/security/npm-audit.json, reports/security/security-scan.sarif]',
    );
    expect(r.stdout).toContain(
      '[high] GHSA-grv7-fg5c-xmjg braces@<3.0.3 — Uncontrolled resource consumption in braces (fixed in npm audit fix) · npm audit',
    );
    expect(r.stdout).toContain('security · findings < high: 2 findings below high (listed, not failing)');
    expect(r.stdout).toContain(
      'FAIL performance.api · http_req_duration p(95)<200: http_req_duration p(95)=253.333 ms breaks p(95)<200 [reports/perf/api-autocannon.json]',
    );
    // The verdict is said once, by the table's last line; runCli adds only the exit code.
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^Quality gate: FAILED — \d+ passed, 3 failed/);
    expect(`${r.stdout}${r.stderr}`.match(/3 (checks )?failed/g)).toHaveLength(1);
    expect(r.stderr).not.toContain('quality gate failed');
  });

  it('a missing or malformed report is a failed gate naming the file and the parse error', async () => {
    // The repository's policy lets npm audit's unreachable endpoint warn (our offline machines);
    // a strict policy, as a release pipeline keeps it, fails on it.
    const policy = join(ws, 'deploy/quality-gates.yml');
    writeFileSync(
      policy,
      readFileSync(policy, 'utf8').replace(
        '{ path: reports/security/npm-audit.json, format: npm-audit, onUnavailable: warn }',
        '{ path: reports/security/npm-audit.json, format: npm-audit }',
      ),
    );
    rmSync(join(ws, 'reports/perf/vision-bench.json'));
    put('reports/eslint.json', { text: '[{"filePath": "a.ts", "messages": [' });
    put('reports/security/npm-audit.json', 'npm-audit-endpoint-error.json');
    const r = await gate();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'FAIL performance.inference · bench report: reports/perf/vision-bench.json: no such file (did the step that writes it run?)',
    );
    expect(r.stdout).toMatch(/FAIL lint · ESLint JSON: reports\/eslint\.json: .+/);
    expect(r.stdout).toContain(
      'FAIL security · npm-audit report: reports/security/npm-audit.json: npm audit did not complete (HTTP 405): 405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
    );
  });

  it('a forged report (impossible numbers) fails the gate (exit 1) as invalid, naming the file and the field, even where the policy lets it warn', async () => {
    const forged = (name: string, change: (json: Loose) => void) => {
      const json = JSON.parse(readFileSync(fixture(name), 'utf8')) as Loose;
      change(json);
      return { text: JSON.stringify(json) };
    };
    // Every answer a 500, hidden by errors: -100 (the failure rate would drop below the threshold).
    put(
      'reports/load/autocannon.json',
      forged('autocannon-500s.json', (j) => (j.errors = -100)),
    );
    put('coverage/all/coverage-summary.json', {
      text: JSON.stringify({ total: { lines: { total: 1000, covered: 1200, skipped: 0, pct: 120 } } }),
    });
    // The repository's policy lets npm audit's report warn when it is unavailable; a forged one still fails.
    put(
      'reports/security/npm-audit.json',
      forged('npm-audit-clean.json', (j) => (j.metadata.vulnerabilities.critical = -1)),
    );
    const r = await gate();
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toContain(
      'FAIL load.sustained · autocannon report: reports/load/autocannon.json: invalid report: errors is -100, not a count (a whole number ≥ 0) [reports/load/autocannon.json]',
    );
    expect(r.stdout).toContain(
      'FAIL coverage.combined · json-summary report: coverage/all/coverage-summary.json: invalid report: total.lines.covered (1200) is more than total.lines.total (1000) [coverage/all/coverage-summary.json]',
    );
    expect(r.stdout).toContain(
      'FAIL security · npm-audit report: reports/security/npm-audit.json: invalid report: metadata.vulnerabilities.critical is -1, not a count (a whole number ≥ 0) [reports/security/npm-audit.json]',
    );
    expect(r.stdout).toMatch(
      /FAIL {2}load\.sustained +autocannon report +invalid +reports\/load\/autocannon\.json/,
    );
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(
      'Quality gate: FAILED — 12 passed, 3 failed, 0 warnings',
    );
  });

  it("onUnavailable: warn (the repository's policy for npm audit) turns an unavailable report into a warning (exit 0)", async () => {
    put('reports/security/npm-audit.json', 'npm-audit-endpoint-error.json');
    const r = await gate();
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain(
      'WARN security · npm-audit report: reports/security/npm-audit.json: npm audit did not complete',
    );
  });

  it('ignores need a live entry: an expired one fails the gate', async () => {
    put('reports/security/npm-audit.json', 'npm-audit-v2.json');
    put('deploy/security-ignore.yml', {
      text: `ignores:
  - { id: GHSA-grv7-fg5c-xmjg, reason: dev-only dependency of the test runner, expires: 2026-12-31 }
  - { id: npm:micromatch, reason: comes with braces above, expires: 2026-11-25 }
`,
    });
    const r = await gate();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'FAIL security · ignore npm:micromatch: ignore entry for npm:micromatch expired on 2026-11-25',
    );
    expect(r.stdout).toContain('FAIL security · findings ≥ high: 1 finding at or above high');
    expect(r.stdout).toMatch(/PASS {2}security\s+ignored\s+1 high/);
  });

  it('COVERAGE_THRESHOLD and SECURITY_SCAN_FAIL_ON change the verdict and are printed', async () => {
    put('reports/security/npm-audit.json', 'npm-audit-v2.json');
    const r = await gate([], { COVERAGE_THRESHOLD: '95', SECURITY_SCAN_FAIL_ON: 'critical' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}coverage\.combined\s+lines\s+≥ 95 %\s+93\.50 %/);
    expect(r.stdout).toMatch(/PASS {2}security\s+findings ≥ critical/);
    expect(r.stdout).toContain(
      'Overrides from the environment: coverage.combined.lines = 95 (COVERAGE_THRESHOLD); security.failOn = critical (SECURITY_SCAN_FAIL_ON)',
    );
  });

  it('COVERAGE_THRESHOLD overrides the threshold --help, the policy file and docs/quality-gates.md name', async () => {
    const r = await gate([], { COVERAGE_THRESHOLD: '95' });
    const applied = /Overrides from the environment: (\S+) = 95 \(COVERAGE_THRESHOLD\)/.exec(r.stdout)?.[1];
    // The whole run's figure (unit + integration merged), the one `npm test` holds to the same setting;
    // never the unit floor (70), which the pipeline's 90 would fail on every run.
    expect(applied).toBe('coverage.combined.lines');
    expect(r.stdout).toMatch(/FAIL {2}coverage\.combined\s+lines\s+≥ 95 %/);
    expect(r.stdout).toMatch(/PASS {2}coverage\.unit\s+lines\s+≥ 70 %/);

    const help = await gate(['--help']);
    expect(help.code).toBe(0);
    const flat = (text: string) => text.replace(/\n\s*#?\s*/g, ' ').replace(/[`|]/g, '');
    expect(flat(help.stdout)).toContain(
      `COVERAGE_THRESHOLD overrides ${applied} (coverage.unit.lines in a policy without a combined suite);`,
    );
    const mentions = (text: string) =>
      [...flat(text).matchAll(/COVERAGE_THRESHOLD (?:\([^)]*\) )?overrides (\S+)/g)].map((m) => m[1]);
    expect(mentions(readFileSync(join(REPO, 'deploy/quality-gates.yml'), 'utf8'))).toEqual([applied]);
    expect(mentions(readFileSync(join(REPO, 'docs/quality-gates.md'), 'utf8'))).toEqual([applied]);
  });

  it('an invalid policy is exit 2 with every field-path error, before any report is read', async () => {
    writeFileSync(
      join(ws, 'deploy/quality-gates.yml'),
      'version: 1\ncoverage:\n  unit: { reports: [x.json], lines: 101 }\nload:\n  s: { report: a.json, thresholds: { http_req_failed: [rate<2] } }\ntypo: 1\n',
    );
    rmSync(join(ws, 'reports'), { recursive: true });
    const r = await gate([], { COVERAGE_THRESHOLD: 'abc' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'deploy/quality-gates.yml: coverage.unit.lines: a coverage percentage cannot be above 100',
    );
    expect(r.stderr).toContain(
      "deploy/quality-gates.yml: load.s.thresholds.http_req_failed.0: 'rate<2' can never fail: a rate is between 0 and 1, so it gates nothing",
    );
    expect(r.stderr).toContain('Unrecognized key: "typo"');
    expect(r.stderr).toContain("COVERAGE_THRESHOLD: 'abc' is not a percentage");
    expect(r.stderr).toContain('fix: correct each field above');
    expect((await gate(['--policy', 'nope.yml'])).stderr).toContain('nope.yml: no such file');
  });

  it('--json, --markdown, --junit and GITHUB_STEP_SUMMARY', async () => {
    const stepSummary = join(ws, 'step-summary.md');
    writeFileSync(stepSummary, '# earlier step\n');
    put('reports/junit/vitest.xml', 'vitest-junit-failing.xml');
    const r = await gate(['--json', '--markdown', 'out/gate.md', '--junit', 'out/junit/gate.xml'], {
      GITHUB_STEP_SUMMARY: stepSummary,
    });
    expect(r.code).toBe(1);
    // Exactly one JSON document (the report says it failed); the one-line verdict goes to stderr.
    expect(r.stderr).toContain('itsctl: quality gate failed: 1 check failed');
    const first = JSON.parse(r.stdout) as {
      status: string;
      policy: string;
      summary: { fail: number };
      results: { gate: string; status: string }[];
    };
    expect(first).toMatchObject({ status: 'fail', policy: 'deploy/quality-gates.yml', summary: { fail: 1 } });
    expect(first.results.find((x) => x.status === 'fail')).toMatchObject({
      gate: 'tests',
      check: 'failures',
      file: 'reports/junit/vitest.xml',
      threshold: '≤ 0',
    });
    const md = readFileSync(join(ws, 'out/gate.md'), 'utf8');
    expect(md).toMatch(/^## Quality gate: ❌ failed/);
    expect(readFileSync(stepSummary, 'utf8')).toBe(`# earlier step\n${md}`);
    // Our JUnit output is valid JUnit: our own reader reads the failure back.
    const junit = await readJunit(join(ws, 'out/junit/gate.xml'));
    expect(junit).toMatchObject({ failures: 1, tests: first.results.length });
    expect(junit.failed[0]).toMatchObject({ suite: 'tests', name: 'tests › failures' });
  });

  it('the installed bin passes the exit code through (real process)', () => {
    const bin = join(REPO, 'packages/delivery/bin/itsctl.js');
    const ok = spawnSync(process.execPath, [bin, 'gate'], { cwd: ws, encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    rmSync(join(ws, 'reports/typecheck.txt'));
    const failed = spawnSync(process.execPath, [bin, 'gate'], { cwd: ws, encoding: 'utf8' });
    expect(failed.status).toBe(1);
    expect(failed.stdout).toContain('FAIL typecheck · tsc output: reports/typecheck.txt: no such file');
    expect(existsSync(join(ws, 'reports/typecheck.txt'))).toBe(false);
  }, 60_000);

  it('reads every format in one policy: summed coverage reports, a JUnit directory, four scanners, k6, tsc, ESLint', async () => {
    for (const f of [
      'istanbul-lcov.info',
      'istanbul-cobertura.xml',
      'trivy-image.json',
      'grype-image.json',
      'codeql-style.sarif',
      'k6-summary-export.json',
      'k6-handle-summary.json',
      'tsc-errors.txt',
      'eslint-problems.json',
    ])
      put(`all/${f}`, f);
    put('all/junit/vitest.xml', 'vitest-junit-passing.xml');
    // Reports that are none of the formats their gate reads (the content says so, whatever the name).
    put('all/report.txt', { text: 'All files | 93.5 | 90 | 100 | 93.5\n' });
    put('all/scan.json', { text: '{"scanner": "homegrown", "found": []}' });
    mkdirSync(join(ws, 'all/empty-dir'));
    writeFileSync(
      join(ws, 'all.yml'),
      `version: 1
coverage:
  unit: { reports: [all/istanbul-lcov.info, all/istanbul-cobertura.xml], lines: 70, branches: 50 }
  e2e: { reports: [all/report.txt] }
tests: { reports: [all/junit, all/empty-dir] }
security:
  failOn: critical
  reports: [all/trivy-image.json, all/grype-image.json, all/codeql-style.sarif, all/scan.json]
performance:
  export: { report: all/k6-summary-export.json, thresholds: { http_req_duration: ['p(95)<200', 'med<20'], http_req_failed: ['rate<0.01'] } }
  handle: { report: all/k6-handle-summary.json, thresholds: { http_req_duration: ['p(95)<200'], http_req_failed: ['rate<0.01'] } }
  unknown: { report: all/perf.json, thresholds: { x: ['avg<1'] } }
typecheck: { reports: [all/tsc-errors.txt] }
lint: { reports: [all/eslint-problems.json], maxErrors: 5, maxWarnings: 0 }
`,
    );
    const r = await gate(['--policy', 'all.yml', '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout.slice(0, r.stdout.indexOf('\n}\n') + 2)) as {
      results: { gate: string; check: string; status: string; actual?: string; message: string }[];
      findings: { id: string }[];
    };
    const row = (gate: string, check: string) =>
      report.results.find((x) => x.gate === gate && x.check === check);
    // lcov and Cobertura of the same run, summed: 6 of 8 lines, 2 of 4 branches.
    expect(row('coverage.unit', 'lines')).toMatchObject({ status: 'pass', actual: '75.00 % (6/8)' });
    expect(row('coverage.unit', 'branches')).toMatchObject({ status: 'pass', actual: '50.00 % (2/4)' });
    expect(row('coverage.e2e', 'report')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(
        /^all\/report\.txt: its content \(text starting "All files \| 93\.5 .*"\) fits none of the formats coverage\.e2e reads\. Tried json-summary: .+; coverage-final: .+; lcov: .+; cobertura: .+\. If it is one of them, set format: json-summary \| coverage-final \| lcov \| cobertura$/,
      ),
    });
    expect(row('tests', 'JUnit report')).toMatchObject({
      status: 'fail',
      message: 'all/empty-dir: directory all/empty-dir has no *.xml JUnit files',
    });
    expect(row('tests', 'tests ran')).toMatchObject({ status: 'pass', actual: '3' });
    expect(row('security', 'findings ≥ critical')).toMatchObject({ status: 'fail', actual: '2 critical' });
    expect(row('security', 'findings < critical')).toMatchObject({
      status: 'pass',
      actual: '4 high, 3 medium, 2 low, 1 info',
    });
    expect(row('security', 'report')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^all\/scan\.json: .+set format: npm-audit \| trivy \| grype \| sarif$/),
    });
    expect(report.findings).toHaveLength(12);
    expect(row('performance.export', 'http_req_duration med<20')).toMatchObject({
      status: 'pass',
      actual: 'med=13.44 ms',
    });
    expect(row('performance.handle', 'http_req_duration p(95)<200')).toMatchObject({
      status: 'fail',
      actual: 'p(95)=264.1 ms',
    });
    expect(row('performance.handle', 'http_req_failed rate<0.01')).toMatchObject({
      status: 'fail',
      actual: 'rate=0.0213',
    });
    expect(row('performance.unknown', 'report')).toMatchObject({ status: 'fail' });
    expect(row('typecheck', 'errors')).toMatchObject({ status: 'fail', actual: '2' });
    expect(row('lint', 'errors')).toMatchObject({ status: 'pass', actual: '3' });
    expect(row('lint', 'warnings')).toMatchObject({ status: 'fail', actual: '1' });
  });
});
