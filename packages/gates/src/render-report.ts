/** The gate report as a terminal table, Markdown (GITHUB_STEP_SUMMARY, PR comments) and JUnit XML. Pure. */
import { describeCounts, countBySeverity, formatFinding } from './evaluate.js';
import type { GateReport, GateResult } from './types.js';

const MARK = { pass: 'PASS', fail: 'FAIL', warn: 'WARN' } as const;
const MAX_DETAILS = 10;

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

export function renderTable(report: GateReport, overrides: readonly string[] = []): string {
  const rows = report.results.map((r) => [
    MARK[r.status],
    r.gate,
    truncate(r.check, 40),
    truncate(r.threshold ?? '', 24),
    truncate(r.actual ?? '', 40),
    truncate(r.file ?? '', 60),
  ]);
  const header = ['', 'gate', 'check', 'threshold', 'actual', 'report'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => pad(c, widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows) out.push(line(r));
  const problems = report.results.filter((r) => r.status !== 'pass');
  if (problems.length) {
    out.push('', 'Problems:');
    for (const r of problems) {
      out.push(`  ${MARK[r.status]} ${r.gate} · ${r.check}: ${r.message}${r.file ? ` [${r.file}]` : ''}`);
      for (const d of (r.details ?? []).slice(0, MAX_DETAILS)) out.push(`       ${d}`);
      if ((r.details?.length ?? 0) > MAX_DETAILS)
        out.push(`       … and ${r.details!.length - MAX_DETAILS} more`);
    }
  }
  const notes = report.results.filter((r) => r.status === 'pass' && r.details?.length);
  if (notes.length) {
    out.push('', 'Notes:');
    for (const r of notes) {
      out.push(`  ${r.gate} · ${r.check}: ${r.message}`);
      for (const d of r.details!.slice(0, MAX_DETAILS)) out.push(`       ${d}`);
      if (r.details!.length > MAX_DETAILS) out.push(`       … and ${r.details!.length - MAX_DETAILS} more`);
    }
  }
  if (overrides.length) out.push('', `Overrides from the environment: ${overrides.join('; ')}`);
  const s = report.summary;
  out.push(
    '',
    `Quality gate: ${report.status === 'pass' ? 'PASSED' : 'FAILED'} — ${s.pass} passed, ${s.fail} failed, ${s.warn} warnings`,
  );
  return `${out.join('\n')}\n`;
}

const md = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderMarkdown(report: GateReport, overrides: readonly string[] = []): string {
  const s = report.summary;
  const icon = { pass: '✅', fail: '❌', warn: '⚠️' } as const;
  const out = [
    `## Quality gate: ${report.status === 'pass' ? '✅ passed' : '❌ failed'}`,
    '',
    `${s.pass} passed · ${s.fail} failed · ${s.warn} warnings`,
    '',
    '| | Gate | Check | Threshold | Actual | Report |',
    '|---|---|---|---|---|---|',
    ...report.results.map(
      (r) =>
        `| ${icon[r.status]} | ${md(r.gate)} | ${md(r.check)} | ${md(r.threshold ?? '')} | ${md(r.actual ?? '')} | ${r.file ? `\`${md(r.file)}\`` : ''} |`,
    ),
  ];
  const problems = report.results.filter((r) => r.status !== 'pass');
  if (problems.length) {
    out.push('', '### What failed');
    for (const r of problems) {
      out.push(
        `- ${icon[r.status]} **${md(r.gate)} · ${md(r.check)}**: ${md(r.message)}${r.file ? ` (\`${md(r.file)}\`)` : ''}`,
      );
      for (const d of (r.details ?? []).slice(0, MAX_DETAILS)) out.push(`  - ${md(d)}`);
      if ((r.details?.length ?? 0) > MAX_DETAILS)
        out.push(`  - … and ${r.details!.length - MAX_DETAILS} more`);
    }
  }
  if (report.findings.length) {
    const counts = countBySeverity(report.findings);
    out.push(
      '',
      `<details><summary>Security findings (${describeCounts(counts)}${report.findings.length >= 200 ? ', list capped' : ''})</summary>`,
      '',
    );
    for (const f of report.findings.slice(0, 100)) out.push(`- ${md(formatFinding(f))}`);
    out.push('', '</details>');
  }
  const notes = report.results.filter(
    (r) => r.status === 'pass' && r.details?.length && !r.check.startsWith('findings'),
  );
  if (notes.length) {
    out.push('', '### Notes');
    for (const r of notes) for (const d of r.details!) out.push(`- ${md(r.gate)} · ${md(r.check)}: ${md(d)}`);
  }
  if (overrides.length) out.push('', `Overrides from the environment: ${overrides.map(md).join('; ')}`);
  return `${out.join('\n')}\n`;
}

const xml = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // eslint-disable-next-line no-control-regex -- characters XML 1.0 does not allow
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/** One testsuite per gate, one testcase per check; warnings are passing cases with a system-out note. */
export function renderJunit(report: GateReport): string {
  const byGate = new Map<string, GateResult[]>();
  for (const r of report.results) byGate.set(r.gate, [...(byGate.get(r.gate) ?? []), r]);
  const suites = [...byGate.entries()].map(([gate, rows]) => {
    const failures = rows.filter((r) => r.status === 'fail').length;
    const cases = rows.map((r) => {
      const body =
        r.status === 'fail'
          ? `<failure message="${xml(r.message)}" type="gate">${xml([`threshold: ${r.threshold ?? '-'}`, `actual: ${r.actual ?? '-'}`, `report: ${r.file ?? '-'}`, ...(r.details ?? [])].join('\n'))}</failure>`
          : r.status === 'warn'
            ? `<system-out>${xml(`WARN: ${r.message}`)}</system-out>`
            : '';
      return `    <testcase classname="${xml(gate)}" name="${xml(r.check)}" time="0">${body}</testcase>`;
    });
    return `  <testsuite name="${xml(gate)}" tests="${rows.length}" failures="${failures}" errors="0" skipped="0">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="itsctl gate" tests="${report.results.length}" failures="${report.summary.fail}" errors="0">\n${suites.join('\n')}\n</testsuites>\n`;
}
