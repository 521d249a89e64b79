#!/usr/bin/env node
// `npm test`: the whole suite in two runs — unit tests (*.test.ts) and integration tests
// (*.int.test.ts, real PostgreSQL, Redis, ffmpeg, browsers, Docker Engine, registry, HAProxy) — each
// with its own coverage and JUnit report, then both coverage maps merged into coverage/all.
// Exit code: non-zero when a test fails or when merged line coverage is below COVERAGE_THRESHOLD
// (default 90). The per-suite figures are judged by `itsctl gate` (deploy/quality-gates.yml).
//   npm test                 both runs
//   npm test -- unit         unit tests only (fast; no servers needed)
//   npm test -- integration  integration tests only
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const libCoverage = require('istanbul-lib-coverage');
const libReport = require('istanbul-lib-report');
const reports = require('istanbul-reports');

const threshold = Number(process.env.COVERAGE_THRESHOLD ?? 90);
if (!Number.isFinite(threshold) || threshold < 0 || threshold > 100) {
  console.error(
    `COVERAGE_THRESHOLD=${process.env.COVERAGE_THRESHOLD}: must be a number from 0 to 100 (e.g. 90).`,
  );
  process.exit(2);
}
const only = process.argv[2];
if (only && only !== 'unit' && only !== 'integration') {
  console.error(`unknown suite "${only}": use "unit", "integration" or nothing for both.`);
  process.exit(2);
}

const suites = [
  { name: 'unit', args: ['--exclude', '**/*.int.test.ts', '--exclude', '**/node_modules/**'] },
  { name: 'integration', args: ['.int.test.ts'] },
].filter((s) => !only || s.name === only);

let failed = false;
for (const suite of suites) {
  console.log(`\n=== ${suite.name} tests ===`);
  const r = spawnSync(
    'npx',
    [
      'vitest',
      'run',
      ...suite.args,
      '--coverage',
      `--coverage.reportsDirectory=coverage/${suite.name}`,
      '--coverage.reporter=text-summary',
      '--coverage.reporter=json-summary',
      '--coverage.reporter=json',
      '--coverage.reporter=lcov',
      '--coverage.thresholds.lines=0',
      // A red test must not hide the coverage figures from the gate (vitest skips them by default).
      '--coverage.reportOnFailure',
      '--reporter=default',
      '--reporter=junit',
      `--outputFile.junit=reports/junit/${suite.name}.xml`,
    ],
    { stdio: 'inherit' },
  );
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
