#!/usr/bin/env node
// `npm test`: the whole suite in two runs — unit tests (*.test.ts) and integration tests
// (*.int.test.ts, real PostgreSQL, Redis, ffmpeg, browsers, Docker Engine, registry, HAProxy) — each
// with its own coverage and JUnit report, then both coverage maps merged into coverage/all.
// It first sets the machine up for what it runs (scripts/setup.sh: node_modules for the unit tests;
// the Debian packages and a running Docker Engine as well for the integration tests; ITS_SETUP=skip
// opts out), so `npm test` works on a fresh clone.
// Exit code: non-zero when a test fails or when merged line coverage is below COVERAGE_THRESHOLD
// (default 90); 2 for bad usage or a machine the setup cannot prepare (it says what to run). The
// per-suite figures are judged by `itsctl gate` (deploy/quality-gates.yml).
//   npm test                 both runs
//   npm test -- unit         unit tests only (fast; no servers needed)
//   npm test -- integration  integration tests only
//   npm test -- unit packages/vision -t tracker   further arguments go to vitest (file filters,
//                            options) and make a partial run, which writes no coverage or JUnit report
//                            (the gate must never judge a part of a suite as the whole)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const threshold = Number(process.env.COVERAGE_THRESHOLD ?? 90);
if (!Number.isFinite(threshold) || threshold < 0 || threshold > 100) {
  console.error(
    `COVERAGE_THRESHOLD=${process.env.COVERAGE_THRESHOLD}: must be a number from 0 to 100 (e.g. 90).`,
  );
  process.exit(2);
}
const [only, ...extra] = process.argv.slice(2);
if (only && only !== 'unit' && only !== 'integration') {
  console.error(
    `unknown suite "${only}": use "unit", "integration" or nothing for both (vitest arguments go after the suite name).`,
  );
  process.exit(2);
}
const partial = extra.length > 0;

// Set up before anything outside node's standard library is loaded: on a fresh clone there is no
// node_modules yet. The unit tests need only node_modules; the integration tests the servers, tools and
// Docker Engine too.
const setup = spawnSync(
  'bash',
  [join(dirname(fileURLToPath(import.meta.url)), 'setup.sh'), only === 'unit' ? 'unit' : 'integration'],
  { stdio: 'inherit' },
);
if (setup.status !== 0) {
  console.error(`✗ setting up the machine failed (scripts/setup.sh exit ${setup.status ?? setup.signal})`);
  process.exit(setup.status === 2 ? 2 : 1);
}

const require = createRequire(import.meta.url);
const libCoverage = require('istanbul-lib-coverage');
const libReport = require('istanbul-lib-report');
const reports = require('istanbul-reports');

const suites = [
  { name: 'unit', args: ['--exclude', '**/*.int.test.ts', '--exclude', '**/node_modules/**', ...extra] },
  // With filters of its own a run keeps to the integration tests by excluding every other test file
  // (a second filter would add files, not narrow them).
  {
    name: 'integration',
    args: partial ? ['--exclude', '**/!(*.int).test.ts', ...extra] : ['.int.test.ts'],
  },
].filter((s) => !only || s.name === only);
const reportArgs = (name) => [
  '--coverage',
  `--coverage.reportsDirectory=coverage/${name}`,
  '--coverage.reporter=text-summary',
  '--coverage.reporter=json-summary',
  '--coverage.reporter=json',
  '--coverage.reporter=lcov',
  '--coverage.thresholds.lines=0',
  // A red test must not hide the coverage figures from the gate (vitest skips them by default).
  '--coverage.reportOnFailure',
  '--reporter=default',
  '--reporter=junit',
  `--outputFile.junit=reports/junit/${name}.xml`,
];

let failed = false;
for (const suite of suites) {
  console.log(`\n=== ${suite.name} tests ===`);
  const r = spawnSync('npx', ['vitest', 'run', ...suite.args, ...(partial ? [] : reportArgs(suite.name))], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error(`✗ ${suite.name} tests failed (exit ${r.status})`);
    failed = true;
  }
}

if (!only) {
  const map = libCoverage.createCoverageMap({});
  for (const suite of suites) {
    const file = `coverage/${suite.name}/coverage-final.json`;
    if (existsSync(file)) map.merge(JSON.parse(readFileSync(file, 'utf8')));
    else failed = (console.error(`✗ ${file} is missing: the ${suite.name} run wrote no coverage`), true);
  }
  mkdirSync('coverage/all', { recursive: true });
  const context = libReport.createContext({ dir: 'coverage/all', coverageMap: map });
  for (const kind of ['json-summary', 'lcov', 'text-summary']) reports.create(kind).execute(context);
  const lines = map.getCoverageSummary().lines.pct;
  const verdict = lines >= threshold ? '✓' : '✗';
  console.log(
    `\n${verdict} line coverage, unit + integration: ${lines.toFixed(2)} % (threshold ${threshold} %, COVERAGE_THRESHOLD)`,
  );
  if (lines < threshold) failed = true;
}
process.exit(failed ? 1 : 0);
