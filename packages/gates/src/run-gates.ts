/**
 * Reads every report the policy names and turns it into result rows. The gate families are data
 * (families/, GATE_FAMILIES below); one read path serves them all, so a report that is missing,
 * unreadable or of an unknown format becomes a failed row naming the file and the reason (a warning
 * only where the policy says `onUnavailable: warn`, and never for a report the gate does not read) in
 * every family alike, never a pass. A report's format is the policy's `format`, else what its content
 * shows (choose-format.ts), the file name breaking ties. The only effect is reading files.
 */
import { resolve } from 'node:path';
import { coverageFamily } from './families/coverage.js';
import { performanceFamily } from './families/performance.js';
import { securityFamily } from './families/security.js';
import { staticChecksFamily } from './families/static-checks.js';
import { testsFamily } from './families/tests.js';
import { UnrecognisedReportError, chooseFormat } from './choose-format.js';
import { unavailable, type ConfiguredGate, type GateFamily, type RunGatesOptions } from './gate-family.js';
import { normaliseRef, type Policy, type ReportRef } from './policy.js';
import type { Finding, GateReport, GateResult } from './types.js';

export type { RunGatesOptions } from './gate-family.js';

/** In the order their rows appear in the report. */
const GATE_FAMILIES: readonly GateFamily<unknown, string, unknown>[] = [
  coverageFamily,
  testsFamily,
  securityFamily,
  performanceFamily,
  staticChecksFamily,
];

export async function runGates(policy: Policy, options: RunGatesOptions): Promise<GateReport> {
  const results: GateResult[] = [];
  let findings: Finding[] = [];
  for (const family of GATE_FAMILIES)
    for (const gate of family.configured(policy)) {
      const outcome = await runGate(family, gate, options);
      results.push(...outcome.rows);
      if (outcome.findings) findings = outcome.findings;
    }
  return summarise(results, findings);
}

export function summarise(results: GateResult[], findings: Finding[]): GateReport {
  const summary = { pass: 0, fail: 0, warn: 0 };
  for (const r of results) summary[r.status]++;
  return { status: summary.fail > 0 ? 'fail' : 'pass', results, findings, summary };
}

/** The one read path: open the tally, read each report into it, then settle and judge. */
async function runGate<Config, Format extends string, Tally>(
  family: GateFamily<Config, Format, Tally>,
  gate: ConfiguredGate<Config>,
  options: RunGatesOptions,
): Promise<{ rows: GateResult[]; findings?: Finding[] }> {
  const { tally, rows } = await family.open(gate, options);
  const read: string[] = [];
  const unreadable: GateResult[] = [];
  for (const input of family.reports(gate.config)) {
    const outcome = await readReport(family, gate, normaliseRef(input), tally, options);
    read.push(...outcome.read);
    unreadable.push(...outcome.unreadable);
  }
  rows.push(...unreadable, ...(family.settle?.(gate, tally, options) ?? []));
  const withheld = family.whenUnavailable === 'skip-verdict' && unreadable.some((r) => r.status === 'fail');
  if (read.length && !withheld) rows.push(...family.evaluate(gate, tally, read.join(', ')));
  const findings = family.findings?.(tally);
  return findings ? { rows, findings } : { rows };
}

/** Reads the file(s) one policy entry names into the tally; what could not be read becomes a row. */
async function readReport<Config, Format extends string, Tally>(
  family: GateFamily<Config, Format, Tally>,
  gate: ConfiguredGate<Config>,
  ref: ReportRef,
  tally: Tally,
  options: RunGatesOptions,
): Promise<{ read: string[]; unreadable: GateResult[] }> {
  const formats = family.formats;
  const fromName = 'fixed' in formats ? undefined : formats.infer(ref.path);
  // Until the content is read, a row is labelled by what the policy or the name says the report is.
  const label = (format: string | undefined) =>
    format === undefined ? 'report' : family.describe(format as Format);
  const expected = 'fixed' in formats ? formats.fixed(gate) : (ref.format ?? fromName);
  let files: string[];
  try {
    files = family.expand ? await family.expand(ref, options) : [ref.path];
  } catch (err) {
    return { read: [], unreadable: [unavailable(gate.name, label(expected), ref, err)] };
  }
  const outcome = { read: [] as string[], unreadable: [] as GateResult[] };
  for (const file of files) {
    const path = resolve(options.cwd, file);
    let format: Format | undefined;
    try {
      format = await formatOf(formats, gate, ref, path, fromName);
      await family.read(tally, { file, path, format });
      outcome.read.push(file);
    } catch (err) {
      const check = label(format ?? (err instanceof UnrecognisedReportError ? undefined : expected));
      outcome.unreadable.push(unavailable(gate.name, check, { ...ref, path: file }, err));
    }
  }
  return outcome;
}

/**
 * The gate's own format, else the policy's, else (coverage, security) what the content shows, the name
 * breaking ties; else (performance) what the name says. An unknown format is a policy mistake, not a
 * missing report: UnrecognisedReportError fails even where `onUnavailable: warn`.
 */
async function formatOf<Config, Format extends string>(
  formats: GateFamily<Config, Format, unknown>['formats'],
  gate: ConfiguredGate<Config>,
  ref: ReportRef,
  path: string,
  fromName: Format | undefined,
): Promise<Format> {
  if ('fixed' in formats) return formats.fixed(gate);
  if (ref.format !== undefined) return ref.format as Format;
  if (formats.detect)
    return chooseFormat({
      gate: gate.name,
      accepts: formats.accepts,
      clues: await formats.detect(path),
      fromName,
    });
  if (fromName !== undefined) return fromName;
  throw new UnrecognisedReportError(
    `cannot tell the format from the name: set format: ${formats.accepts.join(' | ')}`,
  );
}
