/**
 * Sanity checks for the numbers a report states. A report with covered > total, a negative error
 * count or a failure rate of 1.5 was not written by the tool it claims to come from: forged,
 * truncated, or produced by a broken writer. Such a report is invalid: it fails its gate naming the
 * file and the field, whatever `onUnavailable` says, and its counts are not added to the gate's totals
 * (a forged `errors: -100` would otherwise lower a failure rate until the gate passes).
 */

/** A report that was read, but whose numbers cannot be true. */
export class InvalidReportError extends Error {
  override name = 'InvalidReportError';
  constructor(
    /** Where in the report, e.g. `total.lines.covered`, `latency.p99`, `line 12: LH`. */
    readonly field: string,
    /** What is wrong with it, e.g. `is -100, not a count (a whole number ≥ 0)`. */
    readonly problem: string,
  ) {
    super(`invalid report: ${field} ${problem}`);
  }
}

/** A number of things (tests, lines, requests, errors): a whole number ≥ 0. */
export function checkCount(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new InvalidReportError(field, `is ${value}, not a count (a whole number ≥ 0)`);
  return value;
}

/** An amount that cannot be negative: a latency, a duration, a throughput. */
export function checkNonNegative(value: number, field: string, what: string): number {
  if (!Number.isFinite(value) || value < 0)
    throw new InvalidReportError(field, `is ${value}; ${what} cannot be negative`);
  return value;
}

/** A percentage: 0 to 100. */
export function checkPercentage(value: number, field: string): number {
  if (!Number.isFinite(value) || value < 0 || value > 100)
    throw new InvalidReportError(field, `is ${value}, not a percentage (0–100)`);
  return value;
}

/** A ratio: 0 to 1. */
export function checkRate(value: number, field: string): number {
  if (!Number.isFinite(value) || value < 0 || value > 1)
    throw new InvalidReportError(field, `is ${value}, not a rate (0–1)`);
  return value;
}

/** A part cannot exceed its whole: covered ≤ total, non-2xx answers ≤ answers. */
export function checkAtMost(part: number, partField: string, whole: number, wholeField: string): void {
  if (part > whole)
    throw new InvalidReportError(partField, `(${part}) is more than ${wholeField} (${whole})`);
}

/** Two figures the tool always writes equal (a summary and what it summarises). */
export function checkEqual(stated: number, statedField: string, counted: number, countedWhat: string): void {
  if (stated !== counted)
    throw new InvalidReportError(statedField, `is ${stated} but the report lists ${counted} ${countedWhat}`);
}
