/** Policy, threshold-expression and ignore-file validation: every mistake with its field path, all at once. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeEnvironmentOverrides } from './environment.js';
import { applyIgnores, parseIgnoreFile } from './ignore-file.js';
import { normaliseRef, parsePolicy } from './policy.js';
import { parseThreshold } from './thresholds.js';
import type { Finding } from './types.js';

/** A "billion laughs" document: `levels` levels of 9 aliases each, 9^levels strings from a few hundred bytes. */
const aliasBomb = (levels: number, head = ''): string =>
  [
    head,
    'x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
    ...Array.from(
      { length: levels },
      (_, i) => `x${i + 1}: &x${i + 1} [${Array(9).fill(`*x${i}`).join(', ')}]`,
    ),
    '',
  ].join('\n');

const repoPolicy = readFileSync(
  fileURLToPath(new URL('../../../deploy/quality-gates.yml', import.meta.url)),
  'utf8',
);
const repoIgnore = readFileSync(
  fileURLToPath(new URL('../../../deploy/security-ignore.yml', import.meta.url)),
  'utf8',
);

describe('parsePolicy', () => {
  it("the repository's policy is valid and holds the founding document's numbers", () => {
    const { policy, errors } = parsePolicy(repoPolicy, 'deploy/quality-gates.yml', {});
    expect(errors).toEqual([]);
    // The whole run holds the founding document's 90 %; the per-suite floors stand where they were
    // measured (see the comments in deploy/quality-gates.yml).
    expect(policy!.coverage!.combined!.lines).toBe(90);
    expect(policy!.coverage!.unit!.lines).toBe(70);
    expect(policy!.coverage!.integration!.lines).toBe(60);
    expect(policy!.tests).toMatchObject({ maxFailures: 0, failEmptySuites: true });
    expect(policy!.security!.failOn).toBe('high');
    expect(policy!.performance!.inference!.thresholds).toEqual({ inference: ['p(95)<100'] });
    expect(policy!.performance!.api!.thresholds.http_req_duration).toEqual(['p(95)<200']);
    expect(policy!.typecheck!.maxErrors).toBe(0);
    expect(parseIgnoreFile(repoIgnore, 'deploy/security-ignore.yml')).toEqual({ entries: [], errors: [] });
  });

  it('reports unknown keys and impossible thresholds together, each with its field path', () => {
    const text = `
version: 1
coverage:
  unit: { reports: [c.json], lines: 120, brnaches: 50 }
tests: { reports: [], maxFailures: -1 }
security: { reports: [a.json], failOn: severe }
performance:
  api:
    report: api.json
    thresholds:
      http_req_duration: ['p(95)<0', 'p95<200', 'p(150)<10']
      http_req_failed: ['rate<1.5', 'rate>1']
lint: { reports: [e.json], maxWarning: 3 }
colour: blue
`;
    const { policy, errors } = parsePolicy(text, 'gates.yml', {});
    expect(policy).toBeUndefined();
    expect(errors).toEqual(
      expect.arrayContaining([
        'gates.yml: coverage.unit.lines: a coverage percentage cannot be above 100',
        expect.stringMatching(/^gates\.yml: coverage\.unit: Unrecognized key: "brnaches"/),
        'gates.yml: tests.reports: at least one JUnit XML file or directory',
        'gates.yml: tests.maxFailures: cannot be negative',
        expect.stringMatching(/^gates\.yml: security\.failOn: /),
        "gates.yml: performance.api.thresholds.http_req_duration.0: 'p(95)<0' can never pass: p(95) is never negative",
        expect.stringMatching(
          /^gates\.yml: performance\.api\.thresholds\.http_req_duration\.1: 'p95<200' is not a k6 threshold/,
        ),
        "gates.yml: performance.api.thresholds.http_req_duration.2: 'p(150)<10': the percentile must be in (0, 100], got 150",
        "gates.yml: performance.api.thresholds.http_req_failed.0: 'rate<1.5' can never fail: a rate is between 0 and 1, so it gates nothing",
        "gates.yml: performance.api.thresholds.http_req_failed.1: 'rate>1' can never pass: a rate is between 0 and 1",
        expect.stringMatching(/^gates\.yml: lint: Unrecognized key: "maxWarning"/),
        expect.stringMatching(/^gates\.yml: \(root\): Unrecognized key: "colour"/),
      ]),
    );
    expect(errors).toHaveLength(12);
  });

  it.each([
    ['not YAML', 'version: [1', /gates\.yml: not valid YAML/],
    ['a scalar', '42', /\(root\): expected a mapping/],
    ['wrong version', 'version: 2\ntests: {reports: [r]}', /version: only version 1 exists/],
    ['no gate', 'version: 1', /no gate configured/],
  ])('%s is refused', (_name, text, message) => {
    const { policy, errors } = parsePolicy(text, 'gates.yml', {});
    expect(policy).toBeUndefined();
    expect(errors.join('\n')).toMatch(message);
  });

  it('a YAML alias bomb is refused naming the file and saying what to do', () => {
    const { policy, errors } = parsePolicy(aliasBomb(8, 'version: 1'), 'gates.yml', {});
    expect(policy).toBeUndefined();
    expect(errors).toEqual([
      'gates.yml: its YAML aliases expand more than 100 times (an alias bomb?): write the values out instead of nesting aliases',
    ]);
  });

  it('COVERAGE_THRESHOLD and SECURITY_SCAN_FAIL_ON override the policy and say so', () => {
    const { policy, overrides } = parsePolicy(repoPolicy, 'p.yml', {
      COVERAGE_THRESHOLD: '95',
      SECURITY_SCAN_FAIL_ON: 'MEDIUM',
    });
    expect(policy!.coverage!.combined!.lines).toBe(95);
    expect(policy!.coverage!.unit!.lines).toBe(70);
    expect(policy!.security!.failOn).toBe('medium');
    expect(overrides).toEqual([
      'coverage.combined.lines = 95 (COVERAGE_THRESHOLD)',
      'security.failOn = medium (SECURITY_SCAN_FAIL_ON)',
    ]);
  });

  it('bad environment values are errors too, reported with the policy errors', () => {
    const { errors } = parsePolicy('version: 1\ntests: {reports: []}', 'p.yml', {
      COVERAGE_THRESHOLD: 'ninety',
      SECURITY_SCAN_FAIL_ON: 'severe',
    });
    expect(errors).toEqual([
      'p.yml: tests.reports: at least one JUnit XML file or directory',
      "COVERAGE_THRESHOLD: 'ninety' is not a percentage between 0 and 100 (e.g. 90)",
      "SECURITY_SCAN_FAIL_ON: 'severe' is not one of critical, high, medium, low, info",
    ]);
    const noTarget = parsePolicy('version: 1\ntests: {reports: [r]}', 'p.yml', {
      COVERAGE_THRESHOLD: '90',
      SECURITY_SCAN_FAIL_ON: 'low',
    });
    expect(noTarget.errors).toEqual([
      'COVERAGE_THRESHOLD: set to 90 but p.yml has no coverage.combined or coverage.unit suite to apply it to',
      'SECURITY_SCAN_FAIL_ON: set to low but p.yml has no security section',
    ]);
  });

  it('COVERAGE_THRESHOLD applies to the combined suite when the policy has one, else to unit', () => {
    const both =
      'version: 1\ncoverage:\n  unit: {reports: [u.json], lines: 70}\n  combined: {reports: [a.json], lines: 90}\n';
    const withCombined = parsePolicy(both, 'p.yml', { COVERAGE_THRESHOLD: '95' });
    expect(withCombined.overrides).toEqual(['coverage.combined.lines = 95 (COVERAGE_THRESHOLD)']);
    expect(withCombined.policy?.coverage?.combined?.lines).toBe(95);
    expect(withCombined.policy?.coverage?.unit?.lines).toBe(70);
    const unitOnly = parsePolicy('version: 1\ncoverage:\n  unit: {reports: [u.json], lines: 70}\n', 'p.yml', {
      COVERAGE_THRESHOLD: '95',
    });
    expect(unitOnly.overrides).toEqual(['coverage.unit.lines = 95 (COVERAGE_THRESHOLD)']);
    expect(unitOnly.policy?.coverage?.unit?.lines).toBe(95);
  });

  it('the sentence --help prints about the environment states the rule parsePolicy applies', () => {
    const applied = (text: string) =>
      parsePolicy(text, 'p.yml', { COVERAGE_THRESHOLD: '95', SECURITY_SCAN_FAIL_ON: 'low' }).overrides.map(
        (o) => o.replace(/ = .*$/, ''),
      );
    const [combined, failOn] = applied(repoPolicy);
    const [unit] = applied(
      'version: 1\ncoverage:\n  unit: {reports: [u.json]}\nsecurity: {reports: [a.sarif]}\n',
    );
    expect(describeEnvironmentOverrides()).toBe(
      `COVERAGE_THRESHOLD overrides ${combined} (${unit} in a policy without a combined suite); SECURITY_SCAN_FAIL_ON overrides ${failOn}`,
    );
    expect([combined, unit, failOn]).toEqual([
      'coverage.combined.lines',
      'coverage.unit.lines',
      'security.failOn',
    ]);
  });

  it('empty environment values mean unset', () => {
    expect(
      parsePolicy(repoPolicy, 'p.yml', { COVERAGE_THRESHOLD: '', SECURITY_SCAN_FAIL_ON: '' }).overrides,
    ).toEqual([]);
  });

  it('report references: a path, or an object with defaults', () => {
    expect(normaliseRef('a.json')).toEqual({ path: 'a.json', onUnavailable: 'fail' });
    expect(normaliseRef({ path: 'b.json', format: 'sarif' })).toEqual({
      path: 'b.json',
      format: 'sarif',
      onUnavailable: 'fail',
    });
  });
});

describe('parseThreshold (k6 syntax)', () => {
  it.each([
    ['p(95)<200', { kind: 'percentile', p: 95 }, '<', 200],
    ['p(99.9) <= 1500', { kind: 'percentile', p: 99.9 }, '<=', 1500],
    ['rate<0.01', { kind: 'rate' }, '<', 0.01],
    ['avg<150', { kind: 'avg' }, '<', 150],
    ['med>=1', { kind: 'med' }, '>=', 1],
    ['max<2000', { kind: 'max' }, '<', 2000],
    ['min>0', { kind: 'min' }, '>', 0],
    ['count>100', { kind: 'count' }, '>', 100],
    ['value===1', { kind: 'value' }, '==', 1],
    ['rate!=0', { kind: 'rate' }, '!=', 0],
  ])('%s', (source, aggregate, operator, value) => {
    expect(parseThreshold(source).threshold).toEqual({ source: source.trim(), aggregate, operator, value });
  });

  it.each([
    'p95<200',
    'p(95)',
    '<200',
    'avg < fast',
    'rate<-1',
    'rate>=2',
    'count<0',
    'p(0)<5',
    'rate<2',
    'rate>=0',
    'avg>=0',
    'p(95)>-1',
  ])('%s is refused', (source) => {
    expect(parseThreshold(source).error).toBeDefined();
  });
});

describe('ignore file', () => {
  const finding = (id: string, target = 'pkg@1'): Finding => ({
    id,
    severity: 'high',
    target,
    title: 't',
    tool: 'npm audit',
    file: 'a.json',
  });

  it('entries need a reason and a real expiry date', () => {
    const { errors } = parseIgnoreFile(
      `ignores:
  - id: CVE-1
  - id: CVE-2
    reason: short
    expires: 2027-02-30
  - id: CVE-3
    reason: a long enough reason here
    expires: soon
    owner: me
`,
      'ignore.yml',
    );
    expect(errors).toEqual([
      'ignore.yml: ignores.0.reason: a reason is required: why is this finding acceptable?',
      'ignore.yml: ignores.0.expires: an expiry date, YYYY-MM-DD',
      'ignore.yml: ignores.1.reason: a reason of at least 10 characters: why is this finding acceptable?',
      'ignore.yml: ignores.1.expires: not a real date',
      'ignore.yml: ignores.2.expires: an expiry date, YYYY-MM-DD',
      expect.stringMatching(/^ignore\.yml: ignores\.2: Unrecognized key: "owner"/),
    ]);
    expect(parseIgnoreFile('ignores: [', 'i.yml').errors[0]).toMatch(/^i\.yml: not valid YAML/);
    expect(parseIgnoreFile('', 'i.yml')).toEqual({ entries: [], errors: [] });
    expect(parseIgnoreFile(aliasBomb(8, 'version: 1'), 'i.yml')).toEqual({
      entries: [],
      errors: [
        'i.yml: its YAML aliases expand more than 100 times (an alias bomb?): write the values out instead of nesting aliases',
      ],
    });
  });

  it('a live entry ignores its finding (and only for its target); an expired one fails and ignores nothing; an unused one warns', () => {
    const { entries } = parseIgnoreFile(
      `ignores:
  - { id: CVE-1, target: lodash@, reason: not reachable from our code, expires: 2026-12-31 }
  - { id: CVE-2, reason: waiting for the base image, expires: 2026-11-01 }
  - { id: CVE-3, reason: kept for the next release, expires: 2027-01-01 }
`,
      'ignore.yml',
    );
    const { findings, results } = applyIgnores(
      [finding('CVE-1', 'lodash@4.17.4'), finding('CVE-1', 'other@1'), finding('CVE-2')],
      entries,
      'ignore.yml',
      '2026-11-26',
    );
    expect(findings.map((f) => Boolean(f.ignoredBy))).toEqual([true, false, false]);
    expect(findings[0]!.ignoredBy).toEqual({ reason: 'not reachable from our code', expires: '2026-12-31' });
    expect(results.map((r) => [r.status, r.check, r.actual])).toEqual([
      ['fail', 'ignore CVE-2', 'expired 2026-11-01'],
      ['warn', 'ignore CVE-3', undefined],
    ]);
    expect(results[0]!.message).toMatch(/expired on 2026-11-01: fix the finding or renew the entry/);
  });

  it('YAML dates (unquoted) are accepted', () => {
    const { entries } = parseIgnoreFile(
      'ignores:\n  - {id: X, reason: a good reason indeed, expires: 2027-03-01}\n',
      'i.yml',
    );
    expect(entries[0]!.expires).toBe('2027-03-01');
  });
});
