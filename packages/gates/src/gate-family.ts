/**
 * What a gate family (coverage, tests, security, performance, static checks) declares so that one read
 * path (run-gates.ts) can serve them all: where its gates sit in the policy, which formats its reports
 * come in, how one file is read into a tally, and how the tally is judged. Families hold no control
 * flow of their own, so "missing report", "unknown format" and "unreadable file" mean the same in each.
 */
import { UnrecognisedReportError } from './choose-format.js';
import type { Policy, ReportRef, ReportRefInput } from './policy.js';
import { InvalidReportError } from './readers/check-numbers.js';
import type { ContentClues } from './readers/detect-format.js';
import type { Finding, GateResult } from './types.js';

export interface RunGatesOptions {
  cwd: string;
  /** YYYY-MM-DD, for ignore-file expiry (passed in: no clock here). */
  today: string;
}

/** One gate the policy configures: its row prefix (`coverage.unit`, `load.api`, `lint`) and settings. */
export interface ConfiguredGate<Config> {
  name: string;
  config: Config;
}

/**
 * Formats the policy may name for a report. When it names none, `detect` reads what the content shows
 * and the file name (`infer`) only breaks ties (choose-format.ts); without `detect`, the name decides.
 */
export interface AcceptedFormats<Format extends string> {
  accepts: readonly Format[];
  infer(path: string): Format | undefined;
  detect?(path: string): Promise<ContentClues>;
}

/** One file to read: as the policy (or a directory listing) names it, and resolved against cwd. */
export interface ReportFile<Format extends string> {
  file: string;
  path: string;
  format: Format;
}

/**
 * Method syntax (not function-valued properties) is deliberate: it lets families with different
 * settings and tallies share one table, `GateFamily<unknown, string, unknown>[]`; each family's methods
 * only ever receive the gates and tallies that same family produced.
 */
export interface GateFamily<Config, Format extends string, Tally> {
  /** The family's gates the policy configures, in the order the report lists them. */
  configured(policy: Policy): ConfiguredGate<Config>[];
  /** The reports one gate reads, as the policy wrote them. */
  reports(config: Config): readonly ReportRefInput[];
  /** Named by the policy, told by the content or the file name; or fixed by the gate (JUnit, tsc, ESLint). */
  formats: AcceptedFormats<Format> | { fixed(gate: ConfiguredGate<Config>): Format };
  /** The check named on the row of a report that cannot be read, e.g. `lcov report`, `tsc output`. */
  describe(format: Format): string;
  /**
   * `skip-verdict`: a required report that is unavailable leaves the gate without a verdict, because
   * a figure over the other reports would be a different figure (coverage). `judge-the-rest`: the
   * unavailable report fails on its own row and what was read is judged too.
   */
  whenUnavailable: 'skip-verdict' | 'judge-the-rest';
  /** An empty tally, plus rows about side files read first (the security ignore file). */
  open(gate: ConfiguredGate<Config>, options: RunGatesOptions): Promise<{ tally: Tally; rows: GateResult[] }>;
  /** One policy entry may stand for several files (a directory of JUnit XML); default: the entry itself. */
  expand?(ref: ReportRef, options: RunGatesOptions): Promise<string[]>;
  /** Adds one file to the tally; throws when it is missing, unreadable or incomplete. */
  read(tally: Tally, report: ReportFile<Format>): Promise<void>;
  /** Rows owed whether or not any report was read (ignore entries that expired or matched nothing). */
  settle?(gate: ConfiguredGate<Config>, tally: Tally, options: RunGatesOptions): GateResult[];
  /** The verdict over the reports that were read (`files`, comma-separated). */
  evaluate(gate: ConfiguredGate<Config>, tally: Tally, files: string): GateResult[];
  /** Findings to list with the report (security only). */
  findings?(tally: Tally): Finding[];
}

function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return 'no such file (did the step that writes it run?)';
  if (e?.code === 'EISDIR') return 'is a directory, expected a file';
  if (e?.code === 'EACCES') return 'permission denied';
  return (e?.message ?? String(err)).split('\n')[0]!;
}

/**
 * A report that could not be read fails (or warns, where the policy says so); it never passes. A report
 * whose numbers cannot be true (covered > total, a negative count) always fails: `onUnavailable: warn`
 * is for a report that may be missing, not for one that was forged or written by a broken tool. Nor
 * for one that is not a report the gate reads (unrecognised): that is a policy or pipeline mistake.
 */
export function unavailable(gate: string, check: string, ref: ReportRef, err: unknown): GateResult {
  const reason = describeError(err);
  const invalid = err instanceof InvalidReportError;
  const unrecognised = err instanceof UnrecognisedReportError;
  return {
    gate,
    check,
    status: ref.onUnavailable === 'warn' && !invalid && !unrecognised ? 'warn' : 'fail',
    file: ref.path,
    actual: invalid ? 'invalid' : unrecognised ? 'unrecognised' : 'unreadable',
    message: `${ref.path}: ${reason}`,
  };
}
