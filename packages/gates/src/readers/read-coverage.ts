/**
 * Coverage totals from istanbul's json-summary and coverage-final.json, lcov tracefiles and Cobertura
 * XML. Each gives covered and total counts (not only percentages), so several reports of one suite can
 * be summed. Streamed.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { checkAtMost, checkCount, checkPercentage, checkRate } from './check-numbers.js';
import { streamJsonValues } from './stream-json.js';
import { streamXml } from './xml-stream.js';

export type CoverageFormat = 'json-summary' | 'coverage-final' | 'lcov' | 'cobertura';
export type CoverageMetric = 'lines' | 'statements' | 'functions' | 'branches';

export type CoverageTotals = Partial<Record<CoverageMetric, { covered: number; total: number }>>;

export function inferCoverageFormat(path: string): CoverageFormat | undefined {
  const name = basename(path).toLowerCase();
  if (name.endsWith('.info') || name.includes('lcov')) return 'lcov';
  if (name.endsWith('.xml')) return 'cobertura';
  if (name.includes('coverage-final')) return 'coverage-final';
  if (name.endsWith('.json')) return 'json-summary';
  return undefined;
}

export async function readCoverage(file: string, format: CoverageFormat): Promise<CoverageTotals> {
  switch (format) {
    case 'json-summary':
      return readJsonSummary(file);
    case 'coverage-final':
      return readCoverageFinal(file);
    case 'lcov':
      return readLcov(file);
    case 'cobertura':
      return readCobertura(file);
  }
}

type SummaryMetric = { covered?: unknown; total?: unknown; skipped?: unknown; pct?: unknown };

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
    const m = (total as Record<string, SummaryMetric | undefined>)[metric];
    if (m && typeof m.covered === 'number' && typeof m.total === 'number') {
      const field = `total.${metric}`;
      checkCount(m.total, `${field}.total`);
      checkCount(m.covered, `${field}.covered`);
      checkAtMost(m.covered, `${field}.covered`, m.total, `${field}.total`);
      if (typeof m.skipped === 'number') checkCount(m.skipped, `${field}.skipped`);
      // istanbul writes "Unknown" when nothing was instrumented.
      if (typeof m.pct === 'number') checkPercentage(m.pct, `${field}.pct`);
      totals[metric] = { covered: m.covered, total: m.total };
    }
  }
  if (!totals.lines)
    throw new Error('not an istanbul json-summary report ("total.lines" has no covered/total counts)');
  return totals;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * istanbul's coverage map (the `json` reporter's coverage-final.json, also what vitest's v8 provider
 * writes): per file, hit counts of statements (`s`), functions (`f`) and branch paths (`b`). Totals are
 * computed as istanbul computes its summary: a line is the start line of a statement, hit when any
 * statement starting there was. Each file's entry is read on its own, so the map may be any size.
 */
async function readCoverageFinal(file: string): Promise<CoverageTotals> {
  const sums = {
    lines: { covered: 0, total: 0 },
    statements: { covered: 0, total: 0 },
    functions: { covered: 0, total: 0 },
    branches: { covered: 0, total: 0 },
  };
  await streamJsonValues(
    file,
    (p) => p.length === 1,
    (path, value) => {
      if (typeof path[0] === 'number')
        throw new Error(
          'not an istanbul coverage-final.json map (a JSON array, expected an object of files)',
        );
      const at = String(path[0]);
      if (!isObj(value) || !isObj(value.statementMap) || !isObj(value.s))
        throw new Error(`"${at}" is not a file's coverage (expected an object with statementMap and s)`);
      const hits = (counts: Obj, field: string) =>
        Object.entries(counts).map(([k, n]) => [k, checkCount(Number(n), `${at}.${field}.${k}`)] as const);
      const lines = new Map<number, number>();
      for (const [k, n] of hits(value.s, 's')) {
        sums.statements.total++;
        if (n > 0) sums.statements.covered++;
        const statement = value.statementMap[k];
        const start = isObj(statement) && isObj(statement.start) ? statement.start.line : undefined;
        if (typeof start !== 'number') continue;
        const line = checkCount(start, `${at}.statementMap.${k}.start.line`);
        lines.set(line, Math.max(lines.get(line) ?? 0, n));
      }
      sums.lines.total += lines.size;
      for (const n of lines.values()) if (n > 0) sums.lines.covered++;
      if (isObj(value.f))
        for (const [, n] of hits(value.f, 'f')) {
          sums.functions.total++;
          if (n > 0) sums.functions.covered++;
        }
      if (isObj(value.b))
        for (const [k, paths] of Object.entries(value.b)) {
          if (!Array.isArray(paths)) throw new Error(`"${at}.b.${k}" is not a list of branch hits`);
          paths.forEach((n, i) => {
            sums.branches.total++;
            if (checkCount(Number(n), `${at}.b.${k}.${i}`) > 0) sums.branches.covered++;
          });
        }
    },
  );
  return sums;
}

/** The lcov summary lines read, as hit/found pairs: a record cannot hit more than it found. */
const LCOV_PAIRS = [
  ['LH', 'LF'],
  ['FNH', 'FNF'],
  ['BRH', 'BRF'],
] as const;
type LcovKey = (typeof LCOV_PAIRS)[number][number];
const isLcovKey = (key: string): key is LcovKey =>
  LCOV_PAIRS.some((pair) => (pair as readonly string[]).includes(key));

async function readLcov(file: string): Promise<CoverageTotals> {
  const zero = (): Record<LcovKey, number> => ({ LF: 0, LH: 0, FNF: 0, FNH: 0, BRF: 0, BRH: 0 });
  const sums = zero();
  let record = zero();
  let source = '';
  let records = 0;
  let lineNo = 0;
  // Checked per record (SF … end_of_record): one file's LH above its LF is impossible even if the sums are not.
  const closeRecord = () => {
    for (const [hit, found] of LCOV_PAIRS) {
      checkAtMost(record[hit], `${hit} of ${source || 'a record'}`, record[found], found);
      sums[hit] += record[hit];
      sums[found] += record[found];
    }
    record = zero();
  };
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    lineNo++;
    const m = /^([A-Z]+):(.*)$/.exec(line.trim());
    if (!m) {
      if (line.trim() === 'end_of_record') {
        records++;
        closeRecord();
        source = '';
      } else if (line.trim() !== '')
        throw new Error(`line ${lineNo}: '${line.slice(0, 60)}' is not an lcov record`);
      continue;
    }
    const key = m[1]!;
    if (key === 'SF') source = m[2]!;
    else if (isLcovKey(key)) {
      const n = Number(m[2]);
      if (!Number.isFinite(n)) throw new Error(`line ${lineNo}: ${key} is not a number`);
      record[key] += checkCount(n, `line ${lineNo}: ${key}`);
    }
  }
  if (records === 0) throw new Error('not an lcov tracefile (no end_of_record)');
  // Counts after the last end_of_record (a truncated file) still count, as before.
  closeRecord();
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
      const count = (k: string) => {
        const n = num(k);
        return n === undefined ? undefined : checkCount(n, k);
      };
      const lv = count('lines-valid');
      const lc = count('lines-covered');
      const bv = count('branches-valid');
      const bc = count('branches-covered');
      if (lv !== undefined && lc !== undefined) checkAtMost(lc, 'lines-covered', lv, 'lines-valid');
      if (bv !== undefined && bc !== undefined) checkAtMost(bc, 'branches-covered', bv, 'branches-valid');
      const rate = num('line-rate');
      if (rate !== undefined) checkRate(rate, 'line-rate');
      const branchRate = num('branch-rate');
      if (branchRate !== undefined) checkRate(branchRate, 'branch-rate');
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
