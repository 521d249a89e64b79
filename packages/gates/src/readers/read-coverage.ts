/**
 * Coverage totals from istanbul's json-summary, lcov tracefiles and Cobertura XML. Each gives covered
 * and total counts (not only percentages), so several reports of one suite can be summed. Streamed.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { streamJsonValues } from './stream-json.js';
import { streamXml } from './xml-stream.js';

export type CoverageFormat = 'json-summary' | 'lcov' | 'cobertura';
export type CoverageMetric = 'lines' | 'statements' | 'functions' | 'branches';

export type CoverageTotals = Partial<Record<CoverageMetric, { covered: number; total: number }>>;

export function inferCoverageFormat(path: string): CoverageFormat | undefined {
  const name = basename(path).toLowerCase();
  if (name.endsWith('.info') || name.includes('lcov')) return 'lcov';
  if (name.endsWith('.xml')) return 'cobertura';
  if (name.endsWith('.json')) return 'json-summary';
  return undefined;
}

export async function readCoverage(file: string, format: CoverageFormat): Promise<CoverageTotals> {
  switch (format) {
    case 'json-summary':
      return readJsonSummary(file);
    case 'lcov':
      return readLcov(file);
    case 'cobertura':
      return readCobertura(file);
  }
}

async function readJsonSummary(file: string): Promise<CoverageTotals> {
  let total: unknown;
  await streamJsonValues(
    file,
    (p) => p.length === 1 && p[0] === 'total',
    (_p, v) => (total = v),
  );
  if (typeof total !== 'object' || total === null)
    throw new Error('not an istanbul json-summary report (no "total" entry)');
  const totals: CoverageTotals = {};
  for (const metric of ['lines', 'statements', 'functions', 'branches'] as const) {
    const m = (total as Record<string, { covered?: unknown; total?: unknown }>)[metric];
    if (m && typeof m.covered === 'number' && typeof m.total === 'number')
      totals[metric] = { covered: m.covered, total: m.total };
  }
  if (!totals.lines)
    throw new Error('not an istanbul json-summary report ("total.lines" has no covered/total counts)');
  return totals;
}

async function readLcov(file: string): Promise<CoverageTotals> {
  const sums = { LF: 0, LH: 0, FNF: 0, FNH: 0, BRF: 0, BRH: 0 };
  let records = 0;
  let lineNo = 0;
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    lineNo++;
    const m = /^([A-Z]+):(.*)$/.exec(line.trim());
    if (!m) {
      if (line.trim() === 'end_of_record') records++;
      else if (line.trim() !== '')
        throw new Error(`line ${lineNo}: '${line.slice(0, 60)}' is not an lcov record`);
      continue;
    }
    const key = m[1] as keyof typeof sums;
    if (key in sums) {
      const n = Number(m[2]);
      if (!Number.isFinite(n)) throw new Error(`line ${lineNo}: ${key} is not a number`);
      sums[key] += n;
    }
  }
  if (records === 0) throw new Error('not an lcov tracefile (no end_of_record)');
  return {
    lines: { covered: sums.LH, total: sums.LF },
    functions: { covered: sums.FNH, total: sums.FNF },
    branches: { covered: sums.BRH, total: sums.BRF },
  };
}

async function readCobertura(file: string): Promise<CoverageTotals> {
  let totals: CoverageTotals | undefined;
  await streamXml(file, {
    open(tag, depth) {
      if (depth !== 0) return;
      if (tag.name !== 'coverage')
        throw new Error(`not a Cobertura report: the root element is <${tag.name}>, expected <coverage>`);
      const a = tag.attributes;
      const num = (k: string) =>
        a[k] !== undefined && a[k] !== '' && Number.isFinite(Number(a[k])) ? Number(a[k]) : undefined;
      const lv = num('lines-valid');
      const lc = num('lines-covered');
      const bv = num('branches-valid');
      const bc = num('branches-covered');
      const rate = num('line-rate');
      totals = {};
      if (lv !== undefined && lc !== undefined) totals.lines = { covered: lc, total: lv };
      // Older Cobertura writers give rates only: keep the percentage as covered/100.
      else if (rate !== undefined) totals.lines = { covered: rate * 100, total: 100 };
      if (bv !== undefined && bc !== undefined) totals.branches = { covered: bc, total: bv };
    },
  });
  if (!totals?.lines)
    throw new Error('not a Cobertura report: <coverage> has neither lines-valid/lines-covered nor line-rate');
  return totals;
}
