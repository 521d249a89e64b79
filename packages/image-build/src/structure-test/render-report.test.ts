import { describe, expect, it } from 'vitest';
import { renderJunit, renderText } from './render-report.js';
import type { StructureTestReport } from './run-structure-tests.js';

const report: StructureTestReport = {
  image: 'app:1',
  config: 'p.yaml',
  pass: false,
  total: 2,
  passed: 1,
  failed: 1,
  durationMs: 1500,
  results: [
    { kind: 'command', name: 'node <version>', pass: true, failures: [], durationMs: 500 },
    {
      kind: 'fileExistence',
      name: 'no gcc',
      pass: false,
      failures: [{ expectation: '/usr/bin/gcc does not exist', found: '/usr/bin/gcc exists (-rwxr-xr-x)' }],
      durationMs: 20,
    },
  ],
};

describe('renderText', () => {
  it('names the failing test, the expectation and what was found', () => {
    const text = renderText([report]);
    expect(text).toContain('PASS  Command Test: node <version>');
    expect(text).toContain('FAIL  File Existence Test: no gcc');
    expect(text).toContain('expected: /usr/bin/gcc does not exist');
    expect(text).toContain('found:    /usr/bin/gcc exists (-rwxr-xr-x)');
    expect(text).toContain('1 passed, 1 failed of 2');
  });
});

describe('renderJunit', () => {
  it('writes one testsuite per report with escaped names and failure messages', () => {
    const xml = renderJunit([report]);
    expect(xml).toContain('<testsuites name="structure-tests" tests="2" failures="1" errors="0">');
    expect(xml).toContain('<testcase classname="Command Test" name="node &lt;version&gt;" time="0.500"/>');
    expect(xml).toContain(
      '<failure message="expected /usr/bin/gcc does not exist">expected /usr/bin/gcc does not exist; found /usr/bin/gcc exists (-rwxr-xr-x)</failure>',
    );
  });
  it('drops control characters XML cannot carry', () => {
    const xml = renderJunit([{ ...report, results: [{ ...report.results[1]!, stdout: 'a\u0001b' }] }]);
    expect(xml).toContain('<system-out>ab</system-out>');
  });
});
