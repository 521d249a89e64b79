/** Text, JSON-ready and JUnit XML renderings of structure test reports. Pure. */
import type { TestResult } from './evaluate.js';
import type { StructureTestReport } from './run-structure-tests.js';

const KIND_LABEL: Record<TestResult['kind'], string> = {
  command: 'Command Test',
  fileExistence: 'File Existence Test',
  fileContent: 'File Content Test',
  metadata: 'Metadata Test',
};

export function formatResultLine(result: TestResult): string {
  const head = `${result.pass ? 'PASS' : 'FAIL'}  ${KIND_LABEL[result.kind]}: ${result.name} (${result.durationMs} ms)`;
  if (result.pass) return head;
  return [
    head,
    ...result.failures.map((f) => `        expected: ${f.expectation}\n        found:    ${f.found}`),
  ].join('\n');
}

export function renderText(reports: StructureTestReport[]): string {
  const out: string[] = [];
  for (const report of reports) {
    out.push(`=== ${report.image} with ${report.config}`);
    for (const result of report.results) out.push(formatResultLine(result));
    out.push(
      `--- ${report.passed} passed, ${report.failed} failed of ${report.total} (${report.durationMs} ms)${report.pass ? '' : ' — FAILED'}`,
    );
    out.push('');
  }
  return out.join('\n');
}

function xml(text: string): string {
  // XML 1.0 cannot carry most control characters even escaped: drop them.
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
      .replace(
        /[<>&"']/g,
        (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
      )
  );
}

export function renderJunit(reports: StructureTestReport[]): string {
  const tests = reports.reduce((n, r) => n + r.total, 0);
  const failures = reports.reduce((n, r) => n + r.failed, 0);
  const time = (ms: number) => (ms / 1000).toFixed(3);
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="structure-tests" tests="${tests}" failures="${failures}" errors="0">`,
  ];
  for (const report of reports) {
    lines.push(
      `  <testsuite name="${xml(`${report.image} (${report.config})`)}" tests="${report.total}" failures="${report.failed}" errors="0" time="${time(report.durationMs)}">`,
    );
    for (const r of report.results) {
      const open = `    <testcase classname="${xml(KIND_LABEL[r.kind])}" name="${xml(r.name)}" time="${time(r.durationMs)}"`;
      if (r.pass) {
        lines.push(`${open}/>`);
        continue;
      }
      const message = r.failures.map((f) => `expected ${f.expectation}; found ${f.found}`).join('\n');
      lines.push(
        `${open}>`,
        `      <failure message="${xml(r.failures[0] ? `expected ${r.failures[0].expectation}` : 'failed')}">${xml(message)}</failure>`,
      );
      if (r.stdout) lines.push(`      <system-out>${xml(r.stdout)}</system-out>`);
      if (r.stderr) lines.push(`      <system-err>${xml(r.stderr)}</system-err>`);
      lines.push('    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
