/**
 * Reports of 50 MB and more (a monorepo's JUnit, a SARIF log of a big scan, npm audit of a large tree)
 * are streamed: generated here into a temp dir (not committed), read with the heap sampled throughout;
 * the growth stays far below the file size, which a whole-file JSON.parse or DOM could not do.
 */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { readJunit } from './readers/read-junit.js';
import { readVulnerabilities } from './readers/read-vulnerabilities.js';
import type { Severity } from './types.js';

const MB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'its-gate-large-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes head, then body(i) until the file passes `bytes`, then tail (of the count); returns the item count. */
async function generate(
  file: string,
  bytes: number,
  head: string,
  body: (i: number) => string,
  tail: string | ((count: number) => string),
): Promise<number> {
  const out = createWriteStream(file);
  let written = 0;
  let i = 0;
  const write = async (s: string) => {
    written += Buffer.byteLength(s);
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(head);
  while (written < bytes) await write(body(i++));
  await write(typeof tail === 'string' ? tail : tail(i));
  out.end();
  await once(out, 'finish');
  return i;
}

// A forced collection before each reading makes the figure the live heap, not live + garbage the
// collector has not reached yet (which varies with machine load and made a raw heapUsed bound flaky).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * Runs `fn` while reading the live heap (after a forced GC) every 100 ms and whenever `fn` calls
 * sample() (from the finding callbacks: a whole-file parser would call them while the whole document
 * sits in memory).
 */
async function withHeapPeak<T>(
  fn: (sample: () => void) => Promise<T>,
): Promise<{ result: T; peakGrowth: number }> {
  collectGarbage();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const sample = () => {
    collectGarbage();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  };
  const timer = setInterval(sample, 100);
  try {
    const result = await fn(sample);
    sample();
    return { result, peakGrowth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

const pad = 'x'.repeat(300);
const SEVERITIES: Severity[] = ['critical', 'high', 'medium', 'low'];

describe('reports of 50 MB and more are streamed in bounded memory', () => {
  it('JUnit XML', async () => {
    const file = join(dir, 'huge-junit.xml');
    const n = await generate(
      file,
      52 * MB,
      '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="monorepo">\n',
      (i) =>
        `<testsuite name="suite-${i}" tests="3"><testcase classname="pkg.Suite${i}" name="passes"><system-out>${pad}</system-out></testcase><testcase classname="pkg.Suite${i}" name="also passes"/>` +
        (i % 5000 === 4999
          ? `<testcase classname="pkg.Suite${i}" name="breaks"><failure message="boom ${i}">${pad}</failure></testcase>`
          : `<testcase name="skipped"><skipped/></testcase>`) +
        '</testsuite>\n',
      '</testsuites>\n',
    );
    expect(statSync(file).size).toBeGreaterThanOrEqual(50 * MB);
    const { result, peakGrowth } = await withHeapPeak(() => readJunit(file));
    expect(result.suites).toBe(n);
    expect(result.tests).toBe(n * 3);
    expect(result.failures).toBe(Math.floor(n / 5000));
    expect(result.failed[0]).toMatchObject({
      suite: 'suite-4999',
      name: 'pkg.Suite4999 › breaks',
      message: 'boom 4999',
    });
    // A whole-file parse keeps the text and its tree alive (more than the file size); a streaming
    // reader keeps a window and the findings it was asked to keep.
    expect(peakGrowth).toBeLessThan(statSync(file).size / 4);
  }, 120_000);

  it('SARIF', async () => {
    const file = join(dir, 'huge.sarif');
    const n = await generate(
      file,
      52 * MB,
      '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"big-scan","rules":[{"id":"R1","properties":{"security-severity":"9.1"}},{"id":"R2","defaultConfiguration":{"level":"note"}}]}},"results":[',
      (i) =>
        `${i ? ',' : ''}{"ruleId":"R${(i % 1000) + 1 === 1 ? 1 : 2}","message":{"text":"finding ${i} ${pad}"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"src/file-${i}.ts"},"region":{"startLine":${(i % 500) + 1}}}}]}`,
      ']}]}\n',
    );
    expect(statSync(file).size).toBeGreaterThanOrEqual(50 * MB);
    const counts: Record<string, number> = {};
    const { result, peakGrowth } = await withHeapPeak((sample) =>
      readVulnerabilities(file, 'sarif', (f) => {
        counts[f.severity] = (counts[f.severity] ?? 0) + 1;
        if (counts[f.severity]! % 20_000 === 0) sample();
      }),
    );
    expect(result.tool).toBe('big-scan');
    expect(counts.critical).toBe(Math.ceil(n / 1000));
    expect(counts.critical! + counts.low!).toBe(n);
    // A whole-file parse keeps the text and its tree alive (more than the file size); a streaming
    // reader keeps a window and the findings it was asked to keep.
    expect(peakGrowth).toBeLessThan(statSync(file).size / 4);
  }, 120_000);

  it('npm audit --json', async () => {
    const file = join(dir, 'huge-npm-audit.json');
    const n = await generate(
      file,
      51 * MB,
      '{"auditReportVersion":2,"vulnerabilities":{',
      (i) =>
        `${i ? ',' : ''}"pkg-${i}":{"name":"pkg-${i}","severity":"${SEVERITIES[i % 4]}","isDirect":false,"via":[{"source":${i},"name":"pkg-${i}","dependency":"pkg-${i}","title":"advisory ${i} ${pad}","url":"https://github.com/advisories/GHSA-${i}","severity":"${SEVERITIES[i % 4]}","range":"<1.0.0"}],"effects":[],"range":"<1.0.0","nodes":["node_modules/pkg-${i}"],"fixAvailable":true}`,
      // npm's summary, consistent with the entries (the reader checks it).
      (count) => {
        const by: Record<string, number> = { info: 0, low: 0, moderate: 0, high: 0, critical: 0 };
        for (let i = 0; i < count; i++)
          by[SEVERITIES[i % 4] === 'medium' ? 'moderate' : SEVERITIES[i % 4]!]!++;
        return `},"metadata":{"vulnerabilities":${JSON.stringify({ ...by, total: count })}}}\n`;
      },
    );
    expect(statSync(file).size).toBeGreaterThanOrEqual(50 * MB);
    let seen = 0;
    let high = 0;
    const { peakGrowth } = await withHeapPeak((sample) =>
      readVulnerabilities(file, 'npm-audit', (f) => {
        if (++seen % 20_000 === 0) sample();
        if (f.severity === 'high') high++;
      }),
    );
    expect(seen).toBe(n);
    expect(high).toBe(Math.floor((n + 2) / 4));
    // A whole-file parse keeps the text and its tree alive (more than the file size); a streaming
    // reader keeps a window and the findings it was asked to keep.
    expect(peakGrowth).toBeLessThan(statSync(file).size / 4);
  }, 120_000);
});
