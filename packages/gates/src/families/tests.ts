/**
 * Tests: JUnit XML files, or directories of them, summed into one run and judged on failures, tests
 * that ran and empty suites.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { evaluateTests } from '../evaluate.js';
import type { GateFamily } from '../gate-family.js';
import type { Policy, ReportRefInput } from '../policy.js';
import { emptyJunitSummary, readJunit, type JunitSummary } from '../readers/read-junit.js';

/** How many failed tests and empty suites are kept by name, over all files; counts are complete. */
const KEEP_NAMES = 50;

export const testsFamily: GateFamily<NonNullable<Policy['tests']>, 'junit', JunitSummary> = {
  configured: (policy) => (policy.tests ? [{ name: 'tests', config: policy.tests }] : []),
  reports: (tests) => tests.reports as ReportRefInput[],
  formats: { fixed: () => 'junit' },
  describe: () => 'JUnit report',
  whenUnavailable: 'judge-the-rest',
  open: async () => ({ tally: emptyJunitSummary(), rows: [] }),
  expand: (ref, { cwd }) => expandXmlFiles(resolve(cwd, ref.path), ref.path),
  async read(summary, { file, path }) {
    const s = await readJunit(path);
    for (const k of ['suites', 'tests', 'failures', 'errors', 'skipped', 'emptySuiteCount'] as const)
      summary[k] += s[k];
    // Names carry their file: with a directory of reports, the suite name alone may not say which.
    summary.emptySuites.push(
      ...s.emptySuites.map((n) => `${n} (${file})`).slice(0, KEEP_NAMES - summary.emptySuites.length),
    );
    summary.failed.push(
      ...s.failed
        .map((f) => ({ ...f, suite: `${file}: ${f.suite}` }))
        .slice(0, KEEP_NAMES - summary.failed.length),
    );
  },
  evaluate: ({ config }, summary, files) => evaluateTests(summary, config, files),
};

/** A file, or every *.xml in a directory (sorted); an empty directory is an error, not zero tests. */
async function expandXmlFiles(path: string, shown: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [shown];
  const names = (await readdir(path)).filter((n) => n.endsWith('.xml')).sort();
  if (names.length === 0) throw new Error(`directory ${shown} has no *.xml JUnit files`);
  return names.map((n) => relative('.', join(shown, n)));
}
