/**
 * Type-check and lint results: `tsc --noEmit` output (text, `--pretty false` or pretty) and ESLint's
 * `--format json`. tsc prints nothing when clean, so an empty tsc log is a clean run — the pipeline
 * must write the file even then (`tsc … > reports/typecheck.txt`), and a missing file still fails.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { InvalidReportError, checkCount, checkEqual } from './check-numbers.js';
import { streamJsonValues } from './stream-json.js';

export interface Diagnostic {
  file: string;
  line?: number;
  code: string;
  message: string;
  severity: 'error' | 'warning';
}

export interface StaticCheckSummary {
  errors: number;
  warnings: number;
  /** The first diagnostics, for the report. */
  diagnostics: Diagnostic[];
  filesWithProblems: number;
}

const KEEP = 30;
// file(12,5): error TS2322: … (--pretty false) and file:12:5 - error TS2322: … (pretty)
const TSC_LINE = /^(.+?)(?:\((\d+),\d+\)|:(\d+):\d+)\s*[:-]\s*(error|warning)\s+(TS\d+):\s*(.*)$/;
const TSC_GLOBAL = /^(error|warning)\s+(TS\d+):\s*(.*)$/;

export async function readTscOutput(file: string): Promise<StaticCheckSummary> {
  const summary: StaticCheckSummary = { errors: 0, warnings: 0, diagnostics: [], filesWithProblems: 0 };
  const files = new Set<string>();
  let reportedTotal: number | undefined;
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const raw of lines) {
    // eslint-disable-next-line no-control-regex -- strip the colour codes of `--pretty` output
    const line = raw.replace(/\u001b\[[0-9;]*m/g, '');
    const m = TSC_LINE.exec(line);
    const g = m ? undefined : TSC_GLOBAL.exec(line);
    const found = /^Found (\d+) errors?/.exec(line);
    if (found) reportedTotal = Number(found[1]);
    if (!m && !g) continue;
    const severity = (m?.[4] ?? g![1]) as 'error' | 'warning';
    const d: Diagnostic = m
      ? { file: m[1]!.trim(), line: Number(m[2] ?? m[3]), code: m[5]!, message: m[6]!, severity }
      : { file: '(project)', code: g![2]!, message: g![3]!, severity };
    if (severity === 'error') summary.errors++;
    else summary.warnings++;
    files.add(d.file);
    if (summary.diagnostics.length < KEEP) summary.diagnostics.push(d);
  }
  // Pretty output repeats the count at the end; trust the larger, never the smaller.
  if (reportedTotal !== undefined && reportedTotal > summary.errors) summary.errors = reportedTotal;
  summary.filesWithProblems = files.size;
  return summary;
}

export async function readEslintJson(file: string): Promise<StaticCheckSummary> {
  const summary: StaticCheckSummary = { errors: 0, warnings: 0, diagnostics: [], filesWithProblems: 0 };
  let root = false;
  await streamJsonValues(
    file,
    (p) => p.length === 1 && typeof p[0] === 'number',
    (path, value) => {
      root = true;
      const r = value as {
        filePath?: string;
        messages?: {
          ruleId?: string | null;
          severity?: number;
          message?: string;
          line?: number;
          fatal?: boolean;
        }[];
        errorCount?: number;
        warningCount?: number;
      };
      if (typeof r !== 'object' || r === null || !Array.isArray(r.messages))
        throw new Error('not ESLint --format json output (an entry has no "messages")');
      const where = `[${path[0] as number}]`;
      let problems = 0;
      let errors = 0;
      for (const [i, msg] of r.messages.entries()) {
        // ESLint reports 1 (warn) or 2 (error); anything else would be counted as a mere warning.
        if (!msg.fatal && msg.severity !== 1 && msg.severity !== 2)
          throw new InvalidReportError(
            `${where}.messages[${i}].severity`,
            `is ${String(msg.severity)}; ESLint writes 1 (warning) or 2 (error)`,
          );
        const severity = msg.severity === 2 || msg.fatal ? 'error' : 'warning';
        if (severity === 'error') errors++;
        problems++;
        if (summary.diagnostics.length < KEEP)
          summary.diagnostics.push({
            file: r.filePath ?? '?',
            ...(msg.line ? { line: msg.line } : {}),
            code: msg.ruleId ?? (msg.fatal ? 'parse error' : '?'),
            message: msg.message ?? '',
            severity,
          });
      }
      // ESLint derives its counts from the same messages (shared/message-counts.js): they must agree.
      for (const key of [
        'errorCount',
        'warningCount',
        'fatalErrorCount',
        'fixableErrorCount',
        'fixableWarningCount',
      ] as const) {
        const value = (r as Record<string, unknown>)[key];
        if (typeof value === 'number') checkCount(value, `${where}.${key}`);
      }
      if (typeof r.errorCount === 'number') checkEqual(r.errorCount, `${where}.errorCount`, errors, 'errors');
      if (typeof r.warningCount === 'number')
        checkEqual(r.warningCount, `${where}.warningCount`, problems - errors, 'warnings');
      summary.errors += errors;
      summary.warnings += problems - errors;
      if (problems) summary.filesWithProblems++;
    },
  );
  if (!root) {
    // `[]` is a clean run over no files; anything but an array is not ESLint output.
    let isArray = false;
    await streamJsonValues(
      file,
      (p) => p.length === 0,
      (_p, v) => (isArray = Array.isArray(v)),
    );
    if (!isArray) throw new Error('not ESLint --format json output (expected an array of file results)');
  }
  return summary;
}
