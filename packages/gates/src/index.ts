/**
 * @its/gates: quality gates. A policy (policy.ts, zod, field-path errors) names the gates; run-gates reads
 * each suite's reports (readers/, streamed for large files) and judges them (evaluate.ts, thresholds.ts);
 * render-report prints the verdict as a table, Markdown, JSON or JUnit.
 */
export { parsePolicy } from './policy.js';
export type * from './policy.js';
export { runGates } from './run-gates.js';
export type * from './types.js';
export { renderJunit, renderMarkdown, renderTable } from './render-report.js';
export { readJunit } from './readers/read-junit.js';
