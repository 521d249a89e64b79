/**
 * JUnit XML (vitest, Jest, pytest, Maven Surefire…): counts test cases per suite from the elements
 * themselves rather than trusting summary attributes. Streamed.
 */
import { checkCount, checkNonNegative } from './check-numbers.js';
import { streamXml } from './xml-stream.js';

export interface JunitFailure {
  suite: string;
  name: string;
  message: string;
}

export interface JunitSummary {
  suites: number;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  /** Suites in which no test ran (every case skipped, or none at all). */
  emptySuites: string[];
  emptySuiteCount: number;
  /** The first failures, with their messages (the total is failures + errors). */
  failed: JunitFailure[];
}

const KEEP = 50;

/** The summary attributes writers put on <testsuites> and <testsuite>: counts, never negative. */
const COUNT_ATTRIBUTES = ['tests', 'failures', 'errors', 'skipped', 'disabled'] as const;

/**
 * The cases are counted from the elements, but the summary attributes must still be possible: a
 * `failures="-3"` was not written by a test runner. `time` is checked only when it is a plain number
 * (Surefire has written locale-formatted times such as "1,234.5").
 */
function checkAttributes(tag: { name: string; attributes: Record<string, unknown> }): void {
  const a = tag.attributes;
  const where = `<${tag.name}${typeof a.name === 'string' ? ` name="${a.name}"` : ''}>`;
  if (tag.name !== 'testcase')
    for (const key of COUNT_ATTRIBUTES) {
      const value = a[key];
      if (typeof value !== 'string' || value.trim() === '') continue;
      checkCount(Number(value), `${where} ${key}`);
    }
  if (typeof a.time === 'string' && a.time.trim() !== '' && Number.isFinite(Number(a.time)))
    checkNonNegative(Number(a.time), `${where} time`, 'a duration');
}

/** A summary of nothing read yet; readers and the gate add reports into it. */
export function emptyJunitSummary(): JunitSummary {
  return {
    suites: 0,
    tests: 0,
    failures: 0,
    errors: 0,
    skipped: 0,
    emptySuites: [],
    emptySuiteCount: 0,
    failed: [],
  };
}

export async function readJunit(file: string): Promise<JunitSummary> {
  const summary = emptyJunitSummary();
  const suites: { name: string; ran: number; cases: number; hasChildSuites: boolean }[] = [];
  let testcase:
    { name: string; suite: string; outcome: 'pass' | 'failure' | 'error' | 'skipped' } | undefined;
  let sawJunitRoot = false;

  await streamXml(file, {
    open(tag, depth) {
      if (depth === 0) {
        if (tag.name !== 'testsuites' && tag.name !== 'testsuite')
          throw new Error(
            `not a JUnit report: the root element is <${tag.name}>, expected <testsuites> or <testsuite>`,
          );
        sawJunitRoot = true;
      }
      if (tag.name === 'testsuites' || tag.name === 'testsuite' || tag.name === 'testcase')
        checkAttributes(tag);
      switch (tag.name) {
        case 'testsuite':
          if (suites.length) suites.at(-1)!.hasChildSuites = true;
          suites.push({
            name: String(tag.attributes.name ?? tag.attributes.file ?? `suite ${summary.suites + 1}`),
            ran: 0,
            cases: 0,
            hasChildSuites: false,
          });
          break;
        case 'testcase': {
          const suite = suites.at(-1)?.name ?? '(no suite)';
          const classname = tag.attributes.classname ? `${tag.attributes.classname} › ` : '';
          testcase = { name: `${classname}${tag.attributes.name ?? '(unnamed)'}`, suite, outcome: 'pass' };
          break;
        }
        case 'failure':
        case 'error':
          if (testcase) {
            testcase.outcome = tag.name;
            if (summary.failed.length < KEEP)
              summary.failed.push({
                suite: testcase.suite,
                name: testcase.name,
                message: String(tag.attributes.message ?? tag.attributes.type ?? tag.name)
                  .split('\n')[0]!
                  .slice(0, 300),
              });
          }
          break;
        case 'skipped':
          if (testcase && testcase.outcome === 'pass') testcase.outcome = 'skipped';
          break;
      }
    },
    close(name) {
      if (name === 'testcase' && testcase) {
        summary.tests++;
        const suite = suites.at(-1);
        if (suite) suite.cases++;
        if (testcase.outcome === 'skipped') summary.skipped++;
        else {
          if (suite) suite.ran++;
          if (testcase.outcome === 'failure') summary.failures++;
          if (testcase.outcome === 'error') summary.errors++;
        }
        testcase = undefined;
      } else if (name === 'testsuite') {
        const suite = suites.pop()!;
        summary.suites++;
        if (suites.length) suites.at(-1)!.ran += suite.ran;
        // A suite that only groups other suites is judged by them.
        if (suite.ran === 0 && !suite.hasChildSuites) {
          summary.emptySuiteCount++;
          if (summary.emptySuites.length < KEEP) summary.emptySuites.push(suite.name);
        }
      }
    },
  });
  if (!sawJunitRoot) throw new Error('not a JUnit report');
  return summary;
}
