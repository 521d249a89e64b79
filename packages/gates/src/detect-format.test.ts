/**
 * A report's format is told by its content (readers/detect-format.ts, choose-format.ts): real samples
 * from fixtures/ under names that say nothing, or the wrong thing, read through runGates as the
 * command reads them; the name only breaks ties and explains an empty file; what fits nothing fails
 * naming the file and every format tried.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { chooseFormat } from './choose-format.js';
import { parsePolicy } from './policy.js';
import { readCoverage } from './readers/read-coverage.js';
import { readVulnerabilities } from './readers/read-vulnerabilities.js';
import {
  CONTENT_SIGNATURES,
  detectFormat,
  matchText,
  matchXml,
  xmlRoot,
  type ContentClues,
} from './readers/detect-format.js';
import { outlineJson } from './readers/stream-json.js';
import { runGates } from './run-gates.js';
import type { GateReport } from './types.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'its-gate-detect-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let ws: string;
let n = 0;
beforeEach(() => {
  ws = join(root, String(n++));
  mkdirSync(ws);
});

function put(path: string, from: string | { text: string }): string {
  const target = join(ws, path);
  mkdirSync(dirname(target), { recursive: true });
  if (typeof from === 'string') copyFileSync(fixture(from), target);
  else writeFileSync(target, from.text);
  return target;
}

async function gate(policyText: string): Promise<GateReport> {
  const { policy, errors } = parsePolicy(policyText, 'p.yml', {});
  expect(errors).toEqual([]);
  return runGates(policy!, { cwd: ws, today: '2026-11-26' });
}
const row = (report: GateReport, gate: string, check: string) =>
  report.results.find((r) => r.gate === gate && r.check === check);

describe('a report is read by what its content shows, not its name', () => {
  it('security reports whose names say nothing (sarif-report.json, scan-1.json…) are read by content', async () => {
    put('reports/sarif-report.json', 'codeql-style.sarif');
    put('reports/scan-1.json', 'trivy-image.json');
    put('reports/results.json', 'grype-image.json');
    put('reports/audit.json', 'npm-audit-v2.json');
    const report = await gate(`version: 1
security:
  failOn: critical
  reports: [reports/sarif-report.json, reports/scan-1.json, reports/results.json, reports/audit.json]
`);
    expect(report.results.filter((r) => r.actual === 'unrecognised' || r.actual === 'unreadable')).toEqual(
      [],
    );
    expect(new Set(report.findings.map((f) => f.tool))).toEqual(
      // codeql-style.sarif holds two runs: CodeQL's and hadolint's.
      new Set(['CodeQL', 'hadolint', 'Trivy', 'Grype', 'npm audit']),
    );
    expect(new Set(report.findings.map((f) => f.file))).toEqual(
      new Set([
        'reports/sarif-report.json',
        'reports/scan-1.json',
        'reports/results.json',
        'reports/audit.json',
      ]),
    );
  });

  it('coverage reports by content: coverage-final.json, an lcov tracefile named .txt, Cobertura, a summary', async () => {
    put('cov/final.json', 'istanbul-coverage-final.json');
    put('cov/tracefile.txt', 'istanbul-lcov.info');
    put('cov/report.xml', 'istanbul-cobertura.xml');
    put('cov/totals.json', 'istanbul-coverage-summary.json');
    const report = await gate(`version: 1
coverage:
  final: { reports: [cov/final.json], lines: 70, statements: 60, functions: 60, branches: 50 }
  all: { reports: [cov/tracefile.txt, cov/report.xml, cov/totals.json], lines: 70 }
`);
    // One run (src/math.js) written four ways: 3 of 4 lines each.
    expect(row(report, 'coverage.final', 'lines')).toMatchObject({ status: 'pass', actual: '75.00 % (3/4)' });
    expect(row(report, 'coverage.final', 'statements')).toMatchObject({ actual: '60.00 % (3/5)' });
    expect(row(report, 'coverage.final', 'functions')).toMatchObject({ actual: '66.66 % (2/3)' });
    expect(row(report, 'coverage.final', 'branches')).toMatchObject({ actual: '50.00 % (1/2)' });
    expect(row(report, 'coverage.all', 'lines')).toMatchObject({ status: 'pass', actual: '75.00 % (9/12)' });
  });

  it('content beats a misleading name: Grype output named trivy-results.json is read as Grype', async () => {
    put('trivy-results.json', 'grype-image.json');
    const report = await gate('version: 1\nsecurity: { failOn: critical, reports: [trivy-results.json] }\n');
    expect(report.findings.length).toBeGreaterThan(0);
    expect(new Set(report.findings.map((f) => f.tool))).toEqual(new Set(['Grype']));
  });

  it("npm's error document (advisory endpoint down) is told as npm audit, so the gate says why", async () => {
    put('reports/audit.json', 'npm-audit-endpoint-error.json');
    const report = await gate('version: 1\nsecurity: { reports: [reports/audit.json] }\n');
    expect(row(report, 'security', 'npm-audit report')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^reports\/audit\.json: npm audit did not complete \(HTTP 405\)/),
    });
  });

  it('a report another gate reads fails, saying what it is: JUnit XML named coverage.xml', async () => {
    put('coverage.xml', 'vitest-junit-passing.xml');
    const report = await gate('version: 1\ncoverage: { unit: { reports: [coverage.xml] } }\n');
    expect(row(report, 'coverage.unit', 'report')).toMatchObject({
      status: 'fail',
      actual: 'unrecognised',
      message: `coverage.xml: it is ${CONTENT_SIGNATURES.junit} (XML with root <testsuites>), which coverage.unit does not read; it reads json-summary, coverage-final, lcov, cobertura`,
    });
  });

  it('a report that fits no format fails naming the file and every format tried, even where it may warn', async () => {
    put('reports/scan.json', { text: '{"scanner": "homegrown", "found": []}' });
    const report = await gate(
      'version: 1\nsecurity: { reports: [{ path: reports/scan.json, onUnavailable: warn }] }\n',
    );
    const failed = row(report, 'security', 'report');
    expect(failed).toMatchObject({ status: 'fail', actual: 'unrecognised', file: 'reports/scan.json' });
    expect(failed!.message).toMatch(
      /^reports\/scan\.json: its content \(a JSON object with keys scanner, found\) fits none of the formats security reads\. Tried /,
    );
    for (const format of ['npm-audit', 'trivy', 'grype', 'sarif'] as const)
      expect(failed!.message).toContain(`${format}: ${CONTENT_SIGNATURES[format]}`);
    expect(failed!.message).toMatch(/set format: npm-audit \| trivy \| grype \| sarif$/);
  });

  it('the name picks the reader for an empty file; without a telling name an empty file is unavailable', async () => {
    put('cov/lcov.info', { text: '' });
    put('reports/scan.json', { text: '\n' });
    const report = await gate(`version: 1
coverage: { unit: { reports: [cov/lcov.info] } }
security: { reports: [{ path: reports/scan.json, onUnavailable: warn }] }
`);
    expect(row(report, 'coverage.unit', 'lcov report')).toMatchObject({
      status: 'fail',
      message: 'cov/lcov.info: not an lcov tracefile (no end_of_record)',
    });
    expect(row(report, 'security', 'report')).toMatchObject({
      status: 'warn',
      actual: 'unreadable',
      message: expect.stringMatching(/^reports\/scan\.json: the file is empty/),
    });
  });

  it('a missing report is unavailable (onUnavailable applies), labelled by what its name suggests', async () => {
    const report = await gate(`version: 1
coverage: { unit: { reports: [coverage/coverage-summary.json] } }
security: { reports: [{ path: reports/scan.json, onUnavailable: warn }] }
`);
    expect(row(report, 'coverage.unit', 'json-summary report')).toMatchObject({
      status: 'fail',
      message: 'coverage/coverage-summary.json: no such file (did the step that writes it run?)',
    });
    expect(row(report, 'security', 'report')).toMatchObject({ status: 'warn', actual: 'unreadable' });
  });

  it('a format the policy names is never second-guessed', async () => {
    put('reports/scan.sarif', 'trivy-image.json');
    const report = await gate(
      'version: 1\nsecurity: { reports: [{ path: reports/scan.sarif, format: trivy }], failOn: critical }\n',
    );
    expect(new Set(report.findings.map((f) => f.tool))).toEqual(new Set(['Trivy']));
  });

  it('JSON is outlined only as far as its first deciding key: a report broken 2 MB later is still told', async () => {
    const item = JSON.stringify({ vulnerability: { id: 'CVE-1', severity: 'Low' }, artifact: { name: 'a' } });
    const file = put('big.json', { text: `{"matches": [${`${item},`.repeat(40_000)}` });
    expect(readFileSync(file).length).toBeGreaterThan(2 * 1024 * 1024);
    expect(await detectFormat(file)).toEqual({
      matches: [{ format: 'grype', strong: true }],
      seen: 'a JSON object with keys matches',
    });
    // Read to its end, the outline would carry the parse error of the unterminated array.
    const outline = await outlineJson(file, (o) => o.keys.includes('matches'));
    expect(outline).toMatchObject({ keys: ['matches'], items: 0 });
    expect(outline!.error).toBeUndefined();
    expect((await outlineJson(file, () => false))!.error).toBeDefined();
  });
});

describe('the file name breaks ties', () => {
  const clues: ContentClues = {
    matches: [
      { format: 'sarif', strong: false },
      { format: 'npm-audit', strong: false },
    ],
    seen: 'a JSON object with keys runs, vulnerabilities',
  };
  const accepts = ['npm-audit', 'trivy', 'grype', 'sarif'] as const;

  it.each([
    ['results.sarif', 'sarif'],
    ['npm-audit.json', 'npm-audit'],
  ] as const)('content that fits two formats equally, named %s, is read as %s', (_name, fromName) => {
    expect(chooseFormat({ gate: 'security', accepts, clues, fromName })).toBe(fromName);
  });

  it('and without a telling name it is a mistake the message explains', () => {
    expect(() => chooseFormat({ gate: 'security', accepts, clues, fromName: undefined })).toThrow(
      'its content (a JSON object with keys runs, vulnerabilities) fits sarif and npm-audit, and its name does not say which: set format: npm-audit | trivy | grype | sarif',
    );
  });

  it('a strong match wins over a weak one and over the name', () => {
    const strong: ContentClues = {
      matches: [
        { format: 'trivy', strong: false },
        { format: 'grype', strong: true },
      ],
      seen: '…',
    };
    expect(chooseFormat({ gate: 'security', accepts, clues: strong, fromName: 'trivy' })).toBe('grype');
  });
});

describe('content signatures', () => {
  const outline = async (text: string) => detectFormat(put(`f-${Math.random()}`, { text }));

  it.each([
    ['SARIF by version', '{"version": "2.1.0", "runs": []}', 'sarif'],
    ['SARIF by $schema', '{"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": []}', 'sarif'],
    ['Trivy schema 2', '{"SchemaVersion": 2, "ArtifactName": "x", "Results": []}', 'trivy'],
    ['Trivy before v0.20 (an array of results)', '[{"Target": "x", "Vulnerabilities": []}]', 'trivy'],
    ['Grype', '{"matches": [], "source": {}}', 'grype'],
    ['npm audit v2', '{"auditReportVersion": 2, "vulnerabilities": {}}', 'npm-audit'],
    ['npm audit v1 (npm 6)', '{"actions": [], "advisories": {}, "muted": []}', 'npm-audit'],
    ['istanbul summary', '{"total": {"lines": {"total": 1, "covered": 1}}}', 'json-summary'],
    [
      'istanbul coverage-final',
      '{"/a.js": {"path": "/a.js", "statementMap": {}, "s": {}}}',
      'coverage-final',
    ],
    ['lcov', 'TN:\nSF:src/a.js\nDA:1,1\nend_of_record\n', 'lcov'],
    ['Cobertura', '<?xml version="1.0"?>\n<coverage line-rate="0.5" branch-rate="0">', 'cobertura'],
    ['JUnit <testsuite>', '\uFEFF<!-- vitest -->\n<testsuite name="a" tests="0"/>', 'junit'],
  ])('%s', async (_name, text, format) => {
    expect((await outline(text)).matches).toEqual([{ format, strong: true }]);
  });

  it.each([
    ['SARIF without runs (it would read as a clean scan)', '{"version": "2.1.0"}', []],
    ['an ESLint report', '[{"filePath": "a.ts", "messages": []}]', []],
    ['a package.json', '{"name": "x", "version": "2.1.0"}', []],
    [
      'Clover XML (root <coverage>, no rates)',
      '<coverage generated="1" clover="4.4.1">',
      [{ format: 'cobertura', strong: false }],
    ],
  ])('%s', async (_name, text, matches) => {
    expect((await outline(text)).matches).toEqual(matches);
  });

  it('finds the XML root after the declaration, comments, processing instructions and a DOCTYPE', () => {
    const xml = `<?xml version="1.0"?>\n<!-- a -->\n<?xml-stylesheet href="s.xsl"?>\n<!DOCTYPE coverage [\n <!ENTITY x "y">\n]>\n<coverage lines-valid="4">`;
    expect(xmlRoot(xml)).toEqual({ name: 'coverage', attributes: ' lines-valid="4"' });
    expect(matchXml(xmlRoot(xml)!)).toEqual([{ format: 'cobertura', strong: true }]);
    expect(xmlRoot('<!-- never closed')).toBeUndefined();
    expect(matchText('hello\nworld')).toEqual([]);
  });

  it('an empty or broken JSON file is unreadable, not unrecognised', async () => {
    expect(await outline('  \n')).toMatchObject({ matches: [], unreadable: 'the file is empty' });
    expect((await outline('{"a": }')).unreadable).toMatch(/^not valid JSON: /);
  });
});

describe('readers the content check brings in', () => {
  it('coverage-final.json totals equal the summary istanbul writes for the same run', async () => {
    expect(await readCoverage(fixture('istanbul-coverage-final.json'), 'coverage-final')).toEqual(
      await readCoverage(fixture('istanbul-coverage-summary.json'), 'json-summary'),
    );
  });

  it('a forged coverage-final.json (a negative hit count) is invalid, naming the field', async () => {
    const json = JSON.parse(readFileSync(fixture('istanbul-coverage-final.json'), 'utf8')) as Record<
      string,
      { s: Record<string, number> }
    >;
    json['/tmp/gs/tiny/src/math.js']!.s['2'] = -4;
    const file = put('coverage-final.json', { text: JSON.stringify(json) });
    await expect(readCoverage(file, 'coverage-final')).rejects.toThrow(
      'invalid report: /tmp/gs/tiny/src/math.js.s.2 is -4, not a count',
    );
  });

  it("npm 6's report (version 1) is refused, saying which npm writes version 2", async () => {
    const file = put('audit.json', {
      text: '{"actions": [], "advisories": {"1": {}}, "muted": [], "metadata": {}}',
    });
    await expect(readVulnerabilities(file, 'npm-audit', () => {})).rejects.toThrow(
      'npm audit report version 1 (npm 6, with advisories) is not supported (use npm 7 or later: version 2)',
    );
  });
});
