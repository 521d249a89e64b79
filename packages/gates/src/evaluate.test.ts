/** Pure verdicts and renderers, from tables of named cases. */
import { describe, expect, it } from 'vitest';
import {
  coveragePercent,
  evaluateCoverage,
  evaluateFindings,
  evaluateStaticChecks,
  evaluateTests,
  evaluateThresholds,
} from './evaluate.js';
import { renderJunit, renderMarkdown, renderTable } from './render-report.js';
import { summarise } from './run-gates.js';
import {
  interpolatePercentile,
  percentileOfSamples,
  resolveAggregate,
  type MetricStats,
} from './thresholds.js';
import type { Finding, Severity } from './types.js';

describe('percentiles', () => {
  it('interpolates p95 between autocannon p90 and p97.5 and says so', () => {
    expect(interpolatePercentile({ 90: 4, 97.5: 11 }, 95)).toEqual({
      value: 8.667,
      note: 'p(95) interpolated linearly between p(90)=4 and p(97.5)=11 (the tool does not report p(95))',
    });
  });

  it('uses min and max at the edges, and an exact point when there is one', () => {
    expect(interpolatePercentile({ 50: 10 }, 75, 1, 30)!.value).toBe(20);
    expect(interpolatePercentile({ 50: 10 }, 25, 2, 30)!.note).toMatch(/between min=2 and p\(50\)=10/);
    expect(interpolatePercentile({ 95: 7 }, 95)).toEqual({ value: 7 });
    expect(interpolatePercentile({ 50: 10 }, 99)).toBeUndefined();
  });

  it('nearest-rank percentile of samples', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentileOfSamples(samples, 95)).toBe(95);
    expect(percentileOfSamples(samples, 50)).toBe(50);
    expect(percentileOfSamples([5], 99)).toBe(5);
  });

  it.each<
    [string, MetricStats, Parameters<typeof resolveAggregate>[1], number | undefined, RegExp | undefined]
  >([
    ['direct avg', { avg: 3 }, { kind: 'avg' }, 3, undefined],
    ['med from p50', { percentiles: { 50: 4 } }, { kind: 'med' }, 4, undefined],
    ['p50 from med', { med: 6 }, { kind: 'percentile', p: 50 }, 6, undefined],
    ['p95 from samples', { samples: [1, 2, 3, 4, 100] }, { kind: 'percentile', p: 95 }, 100, undefined],
    ['missing rate', { avg: 1 }, { kind: 'rate' }, undefined, /no rate/],
    ['no percentiles', { avg: 1 }, { kind: 'percentile', p: 95 }, undefined, /too few percentiles/],
  ])('%s', (_name, stats, aggregate, value, error) => {
    const r = resolveAggregate(stats, aggregate);
    expect(r.value).toBe(value);
    if (error) expect(r.error).toMatch(error);
  });
});

describe('evaluateCoverage', () => {
  it('passes at the threshold, fails below, floors rather than rounds up', () => {
    expect(coveragePercent(8999, 10000)).toBe(89.99);
    expect(coveragePercent(2, 3)).toBe(66.66);
    const [pass] = evaluateCoverage(
      'unit',
      { lines: 90 },
      { lines: { covered: 900, total: 1000 } },
      'c.json',
    );
    expect(pass).toMatchObject({ status: 'pass', actual: '90.00 % (900/1000)', threshold: '≥ 90 %' });
    const [fail] = evaluateCoverage(
      'unit',
      { lines: 90 },
      { lines: { covered: 89999, total: 100000 } },
      'c.json',
    );
    expect(fail).toMatchObject({
      status: 'fail',
      gate: 'coverage.unit',
      check: 'lines',
      file: 'c.json',
      message: 'unit lines coverage 89.99 % is below 90 %',
    });
  });

  it('defaults to the founding numbers by suite name', () => {
    const totals = { lines: { covered: 85, total: 100 } };
    expect(evaluateCoverage('unit', {}, totals, 'u')[0]).toMatchObject({
      status: 'fail',
      threshold: '≥ 90 %',
    });
    expect(evaluateCoverage('integration', {}, totals, 'i')[0]).toMatchObject({
      status: 'pass',
      threshold: '≥ 80 %',
    });
  });

  it('a metric the report lacks, or nothing instrumented, fails', () => {
    expect(
      evaluateCoverage('unit', { statements: 90 }, { lines: { covered: 1, total: 1 } }, 'lcov.info')[0],
    ).toMatchObject({ status: 'fail', actual: 'not reported' });
    expect(
      evaluateCoverage('unit', { lines: 90 }, { lines: { covered: 0, total: 0 } }, 'x')[0],
    ).toMatchObject({ status: 'fail', actual: '0 of 0' });
  });
});

describe('evaluateTests', () => {
  const base = {
    suites: 2,
    tests: 10,
    failures: 0,
    errors: 0,
    skipped: 1,
    emptySuites: [],
    emptySuiteCount: 0,
    failed: [],
  };
  it('all green', () => {
    expect(evaluateTests(base, { maxFailures: 0, failEmptySuites: true }, 'r').map((r) => r.status)).toEqual([
      'pass',
      'pass',
      'pass',
    ]);
  });
  it('a failure fails, naming the test', () => {
    const r = evaluateTests(
      { ...base, failures: 1, errors: 1, failed: [{ suite: 's', name: 'n', message: 'boom' }] },
      { maxFailures: 0, failEmptySuites: true },
      'r',
    );
    expect(r[0]).toMatchObject({
      status: 'fail',
      actual: '2 failed of 9 run (1 skipped)',
      message: '2 tests failed (1 failures, 1 errors)',
      details: ['s › n: boom'],
    });
  });
  it('zero tests run fails; an empty suite fails unless the policy allows it', () => {
    expect(
      evaluateTests({ ...base, tests: 3, skipped: 3 }, { maxFailures: 0, failEmptySuites: false }, 'r')[1],
    ).toMatchObject({ status: 'fail', message: 'no test ran: a run of zero tests proves nothing' });
    const empty = { ...base, emptySuiteCount: 1, emptySuites: ['lonely'] };
    expect(evaluateTests(empty, { maxFailures: 0, failEmptySuites: true }, 'r')[2]).toMatchObject({
      status: 'fail',
      details: ['lonely'],
    });
    expect(evaluateTests(empty, { maxFailures: 0, failEmptySuites: false }, 'r')).toHaveLength(2);
  });
});

describe('evaluateFindings', () => {
  const zero = (): Record<Severity, number> => ({
    critical: 0,
    high: 0,
    medium: 0,
    low: 0,
    info: 0,
    unknown: 0,
  });
  const f = (severity: Severity): Finding => ({
    id: `X-${severity}`,
    severity,
    target: 'p@1',
    title: 't',
    tool: 'Trivy',
    file: 'trivy.json',
  });

  it('fails at or above the level and still lists everything below', () => {
    const active = { ...zero(), critical: 1, medium: 2, low: 1 };
    const r = evaluateFindings(
      { active, ignored: zero() },
      [f('critical')],
      [f('medium'), f('medium'), f('low')],
      'high',
      'trivy.json',
    );
    expect(r[0]).toMatchObject({
      status: 'fail',
      check: 'findings ≥ high',
      actual: '1 critical',
      message: '1 finding at or above high',
    });
    expect(r[0]!.details![0]).toBe('[critical] X-critical p@1 — t · Trivy');
    expect(r[1]).toMatchObject({
      status: 'pass',
      actual: '2 medium, 1 low',
      message: '3 findings below high (listed, not failing)',
    });
    expect(r[1]!.details).toHaveLength(3);
  });

  it('a lower fail level catches more; ignored findings are counted apart', () => {
    const active = { ...zero(), medium: 2 };
    const r = evaluateFindings(
      { active, ignored: { ...zero(), high: 1 } },
      [f('medium'), f('medium')],
      [],
      'medium',
      'a',
    );
    expect(r[0]).toMatchObject({ status: 'fail', actual: '2 medium' });
    expect(r[2]).toMatchObject({ check: 'ignored', actual: '1 high' });
  });

  it('clean', () => {
    expect(
      evaluateFindings({ active: zero(), ignored: zero() }, [], [], 'high', 'a').map((r) => [
        r.status,
        r.actual,
      ]),
    ).toEqual([
      ['pass', 'none'],
      ['pass', 'none'],
    ]);
  });
});

describe('evaluateThresholds', () => {
  const metrics = new Map<string, MetricStats>([
    [
      'http_req_duration',
      { avg: 12, min: 1, max: 94, med: 2, percentiles: { 50: 2, 90: 4, 97.5: 11, 99: 23 }, unit: 'ms' },
    ],
    ['http_req_failed', { rate: 0.02, count: 20 }],
    ['http_reqs', { count: 1000, rate: 50 }],
  ]);

  it('passes, fails and explains computed percentiles', () => {
    const r = evaluateThresholds(
      'load.sustained',
      metrics,
      {
        http_req_duration: ['p(95)<200', { threshold: 'p(99)<20' }],
        http_req_failed: ['rate<0.01'],
        http_reqs: ['count>=1000'],
      },
      'ac.json',
    );
    expect(r.map((x) => [x.check, x.status, x.actual])).toEqual([
      ['http_req_duration p(95)<200', 'pass', 'p(95)=8.667 ms'],
      ['http_req_duration p(99)<20', 'fail', 'p(99)=23 ms'],
      ['http_req_failed rate<0.01', 'fail', 'rate=0.02'],
      ['http_reqs count>=1000', 'pass', 'count=1000'],
    ]);
    expect(r[0]!.details![0]).toMatch(/interpolated linearly between p\(90\)=4 and p\(97\.5\)=11/);
    expect(r[2]).toMatchObject({
      gate: 'load.sustained',
      file: 'ac.json',
      threshold: 'rate<0.01',
      message: 'http_req_failed rate=0.02 breaks rate<0.01',
    });
  });

  it('a metric missing from the report, or an aggregate it cannot give, fails', () => {
    const r = evaluateThresholds(
      'performance.x',
      metrics,
      { iteration_duration: ['avg<1'], http_reqs: ['p(95)<1'] },
      'k6.json',
    );
    expect(r[0]).toMatchObject({
      status: 'fail',
      actual: 'metric not in report',
      message: expect.stringContaining(
        'iteration_duration is not in the report (it has: http_req_duration, http_req_failed, http_reqs)',
      ),
    });
    expect(r[1]).toMatchObject({ status: 'fail', actual: 'not available' });
  });
});

describe('evaluateStaticChecks', () => {
  it('errors over the limit fail with the diagnostics; warnings only when limited', () => {
    const s = {
      errors: 2,
      warnings: 5,
      filesWithProblems: 1,
      diagnostics: [{ file: 'a.ts', line: 3, code: 'TS2322', message: 'bad', severity: 'error' as const }],
    };
    const r = evaluateStaticChecks('typecheck', s, { maxErrors: 0 }, 'tsc.txt');
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ status: 'fail', actual: '2', details: ['a.ts:3 error TS2322: bad'] });
    const lint = evaluateStaticChecks(
      'lint',
      { ...s, errors: 0 },
      { maxErrors: 0, maxWarnings: 3 },
      'eslint.json',
    );
    expect(lint.map((x) => x.status)).toEqual(['pass', 'fail']);
  });
});

describe('renderers', () => {
  const report = summarise(
    [
      {
        gate: 'coverage.unit',
        check: 'lines',
        status: 'pass',
        file: 'coverage/unit/coverage-summary.json',
        threshold: '≥ 90 %',
        actual: '93.10 % (931/1000)',
        message: 'ok',
      },
      {
        gate: 'tests',
        check: 'failures',
        status: 'fail',
        file: 'reports/junit/vitest.xml',
        threshold: '≤ 0',
        actual: '1 failed of 9 run (0 skipped)',
        message: '1 test failed',
        details: ['s › a <b> | c: "boom" & more'],
      },
      {
        gate: 'security',
        check: 'npm-audit report',
        status: 'warn',
        file: 'npm-audit.json',
        actual: 'unreadable',
        message: 'npm-audit.json: npm audit did not complete (HTTP 405)',
      },
      {
        gate: 'load.sustained',
        check: 'http_req_duration p(95)<200',
        status: 'pass',
        file: 'ac.json',
        threshold: 'p(95)<200',
        actual: 'p(95)=8.7 ms',
        message: 'ok',
        details: ['p(95) interpolated'],
      },
    ],
    [{ id: 'CVE-1', severity: 'low', target: 'p@1', title: 't', tool: 'Trivy', file: 't.json' }],
  );

  it('the summary counts statuses; a warning alone does not fail', () => {
    expect(report.summary).toEqual({ pass: 2, fail: 1, warn: 1 });
    expect(report.status).toBe('fail');
    expect(summarise([{ gate: 'a', check: 'b', status: 'warn', message: 'm' }], []).status).toBe('pass');
  });

  it('terminal table: one row per check, problems with what/where/threshold/actual, verdict last', () => {
    const text = renderTable(report, ['coverage.combined.lines = 95 (COVERAGE_THRESHOLD)']);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s+gate\s+check\s+threshold\s+actual\s+report$/);
    expect(text).toMatch(
      /FAIL {2}tests\s+failures\s+≤ 0\s+1 failed of 9 run \(0 skipped\)\s+reports\/junit\/vitest\.xml/,
    );
    expect(text).toContain(
      '  FAIL tests · failures: 1 test failed [reports/junit/vitest.xml]\n       s › a <b> | c: "boom" & more',
    );
    expect(text).toContain(
      '  WARN security · npm-audit report: npm-audit.json: npm audit did not complete (HTTP 405) [npm-audit.json]',
    );
    expect(text).toContain(
      'Notes:\n  load.sustained · http_req_duration p(95)<200: ok\n       p(95) interpolated',
    );
    expect(text).toContain(
      'Overrides from the environment: coverage.combined.lines = 95 (COVERAGE_THRESHOLD)',
    );
    expect(lines.at(-1)).toBe('Quality gate: FAILED — 2 passed, 1 failed, 1 warnings');
  });

  it('Markdown escapes table cells and lists failures and findings', () => {
    const md = renderMarkdown(report);
    expect(md).toMatch(/^## Quality gate: ❌ failed\n/);
    expect(md).toContain(
      '| ❌ | tests | failures | ≤ 0 | 1 failed of 9 run (0 skipped) | `reports/junit/vitest.xml` |',
    );
    expect(md).toContain('  - s › a <b> \\| c: "boom" & more');
    expect(md).toContain('<details><summary>Security findings (1 low)</summary>');
    expect(md).toContain('- load.sustained · http_req_duration p(95)<200: p(95) interpolated');
  });

  it('JUnit: a testsuite per gate, failures carry threshold, actual and report, XML escaped', () => {
    const xml = renderJunit(report);
    expect(xml).toContain('<testsuites name="itsctl gate" tests="4" failures="1" errors="0">');
    expect(xml).toContain('<testsuite name="tests" tests="1" failures="1" errors="0" skipped="0">');
    expect(xml).toContain(
      '<failure message="1 test failed" type="gate">threshold: ≤ 0\nactual: 1 failed of 9 run (0 skipped)\nreport: reports/junit/vitest.xml\ns › a &lt;b&gt; | c: &quot;boom&quot; &amp; more</failure>',
    );
    expect(xml).toContain(
      '<system-out>WARN: npm-audit.json: npm audit did not complete (HTTP 405)</system-out>',
    );
  });
});
