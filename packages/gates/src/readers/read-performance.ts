/**
 * Performance summaries as named metrics with k6-style statistics: k6 (`--summary-export` and
 * `handleSummary` JSON), autocannon (`--json`, mapped onto k6's metric names) and our own bench JSON
 * (any object with `p50Ms`/`p95Ms`/`minMs`… is a trend named by its path; numeric leaves are values).
 * Summaries are small: read whole, with a size guard.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { MetricStats } from '../thresholds.js';
import { checkAtMost, checkCount, checkNonNegative, checkRate } from './check-numbers.js';

export type PerformanceFormat = 'k6' | 'autocannon' | 'bench';
export type Metrics = Map<string, MetricStats>;

const MAX_SUMMARY_BYTES = 64 * 1024 * 1024;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function inferPerformanceFormat(path: string): PerformanceFormat | undefined {
  const name = basename(path).toLowerCase();
  for (const f of ['k6', 'autocannon', 'bench'] as const) if (name.includes(f)) return f;
  return undefined;
}

export async function readPerformance(file: string, format: PerformanceFormat): Promise<Metrics> {
  const size = (await stat(file)).size;
  if (size > MAX_SUMMARY_BYTES)
    throw new Error(
      `${size} bytes is too large for a ${format} summary (limit ${MAX_SUMMARY_BYTES}); did a raw results file get passed?`,
    );
  const text = await readFile(file, 'utf8');
  if (text.trim() === '') throw new Error('the file is empty');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObj(data)) throw new Error('expected a JSON object');
  switch (format) {
    case 'k6':
      return fromK6(data);
    case 'autocannon':
      return fromAutocannon(data);
    case 'bench':
      return fromBench(data);
  }
}

/** `p(95)` → 95; `p99_9` (autocannon) → 99.9. */
function percentileKey(key: string): number | undefined {
  const k6 = /^p\((\d+(?:\.\d+)?)\)$/.exec(key);
  if (k6) return Number(k6[1]);
  const ac = /^p(\d+)(?:_(\d+))?$/.exec(key);
  if (ac) return Number(`${ac[1]}.${ac[2] ?? '0'}`);
  return undefined;
}

/** k6's built-in counters and gauges (and their sub-metrics, `http_reqs{status:200}`): never negative. */
const K6_COUNTERS = new Set(['http_reqs', 'iterations', 'data_received', 'data_sent', 'dropped_iterations']);
const K6_GAUGES = new Set(['vus', 'vus_max']);
const K6_TREND_KEY = /^(avg|min|max|med|p\(\d+(?:\.\d+)?\))$/;

/**
 * What k6 can write: a Rate is a fraction of 0–1 with whole passes and fails; a timing trend has no
 * negative duration; a built-in counter or gauge no negative count. Custom counters and trends may
 * hold any number the script adds, so they are not judged here.
 */
function checkK6Metric(
  name: string,
  type: string | undefined,
  timing: boolean,
  values: Obj,
  at: string,
): void {
  const builtin = name.replace(/\{.*\}$/, '');
  for (const [key, v] of Object.entries(values)) {
    const n = num(v);
    if (n === undefined) continue;
    const field = `${at}.${key}`;
    if (type === 'rate' && (key === 'rate' || key === 'value')) checkRate(n, field);
    else if (type === 'rate' && (key === 'passes' || key === 'fails')) checkCount(n, field);
    else if (timing && K6_TREND_KEY.test(key)) checkNonNegative(n, field, 'a duration');
    else if (K6_COUNTERS.has(builtin) && key === 'count') checkCount(n, field);
    else if (K6_COUNTERS.has(builtin) && key === 'rate') checkNonNegative(n, field, 'a rate per second');
    else if (K6_GAUGES.has(builtin) && (key === 'value' || key === 'min' || key === 'max'))
      checkCount(n, field);
  }
}

function fromK6(data: Obj): Metrics {
  if (!isObj(data.metrics)) throw new Error('not a k6 summary (no "metrics" object)');
  const metrics: Metrics = new Map();
  for (const [name, raw] of Object.entries(data.metrics)) {
    if (!isObj(raw)) continue;
    // handleSummary() nests the numbers under "values" with a "type"; --summary-export does not.
    const values = isObj(raw.values) ? raw.values : raw;
    const type =
      typeof raw.type === 'string' ? raw.type : 'passes' in values && 'fails' in values ? 'rate' : undefined;
    const stats: MetricStats = {};
    const percentiles: Record<number, number> = {};
    for (const [key, v] of Object.entries(values)) {
      const n = num(v);
      if (n === undefined) continue;
      const p = percentileKey(key);
      if (p !== undefined) percentiles[p] = n;
      else if (key === 'avg' || key === 'min' || key === 'max' || key === 'med' || key === 'count')
        stats[key] = n;
      else if (key === 'rate') stats.rate = n;
      else if (key === 'value') stats.value = n;
    }
    // For a Rate metric --summary-export puts the ratio in "value"; k6 thresholds call it "rate".
    if (type === 'rate' && stats.rate === undefined && stats.value !== undefined) stats.rate = stats.value;
    if (Object.keys(percentiles).length) stats.percentiles = percentiles;
    // handleSummary says `contains: time`; --summary-export does not, but k6's timing trends are in ms.
    const timing = /duration|http_req_(blocked|connecting|tls_handshaking|sending|waiting|receiving)/.test(
      name,
    );
    if (raw.contains === 'time' || (raw.contains === undefined && timing && stats.avg !== undefined))
      stats.unit = 'ms';
    checkK6Metric(
      name,
      type,
      stats.unit === 'ms',
      values,
      isObj(raw.values) ? `metrics.${name}.values` : `metrics.${name}`,
    );
    metrics.set(name, stats);
  }
  if (metrics.size === 0) throw new Error('the k6 summary has no metrics');
  return metrics;
}

/** autocannon's counts of answers and failures, by kind. */
const AUTOCANNON_COUNTS = [
  'errors',
  'timeouts',
  'mismatches',
  'non2xx',
  'resets',
  '1xx',
  '2xx',
  '3xx',
  '4xx',
  '5xx',
] as const;

/**
 * What autocannon can write: whole, non-negative counts (a forged `errors: -100` would lower the
 * failure rate), no negative latency, request rate or throughput, and no more non-2xx answers than
 * answers.
 */
function checkAutocannon(data: Obj, latency: Obj, requests: Obj): void {
  for (const key of AUTOCANNON_COUNTS) {
    const n = num(data[key]);
    if (n !== undefined) checkCount(n, key);
  }
  for (const [key, v] of Object.entries(latency)) {
    const n = num(v);
    if (n === undefined) continue;
    if (key === 'totalCount') checkCount(n, `latency.${key}`);
    else checkNonNegative(n, `latency.${key}`, 'a latency');
  }
  for (const [key, v] of Object.entries(requests)) {
    const n = num(v);
    if (n === undefined) continue;
    if (key === 'total' || key === 'sent') checkCount(n, `requests.${key}`);
    else checkNonNegative(n, `requests.${key}`, 'a request rate');
  }
  if (isObj(data.throughput))
    for (const [key, v] of Object.entries(data.throughput)) {
      const n = num(v);
      if (n !== undefined) checkNonNegative(n, `throughput.${key}`, 'a throughput');
    }
  const total = num(requests.total);
  const non2xx = num(data.non2xx);
  if (total !== undefined && non2xx !== undefined) checkAtMost(non2xx, 'non2xx', total, 'requests.total');
}

function fromAutocannon(data: Obj): Metrics {
  const latency = data.latency;
  const requests = data.requests;
  if (!isObj(latency) || !isObj(requests))
    throw new Error('not an autocannon --json result (no "latency" and "requests")');
  checkAutocannon(data, latency, requests);
  const percentiles: Record<number, number> = {};
  for (const [key, v] of Object.entries(latency)) {
    const p = percentileKey(key);
    const n = num(v);
    if (p !== undefined && n !== undefined) percentiles[p] = n;
  }
  const duration: MetricStats = {
    avg: num(latency.average) ?? num(latency.mean),
    min: num(latency.min),
    max: num(latency.max),
    med: percentiles[50],
    count: num(latency.totalCount),
    percentiles,
    unit: 'ms',
  };
  const completed = num(requests.total) ?? 0;
  // autocannon counts timeouts among its errors (connection errors and timeouts: requests without a response).
  const errors = num(data.errors) ?? 0;
  const non2xx = num(data.non2xx) ?? 0;
  const attempts = completed + errors;
  const failed: MetricStats = {
    rate: attempts > 0 ? (non2xx + errors) / attempts : 0,
    count: non2xx + errors,
  };
  const reqs: MetricStats = {
    count: completed,
    rate: num(requests.average),
    min: num(requests.min),
    max: num(requests.max),
  };
  const metrics: Metrics = new Map([
    ['http_req_duration', duration],
    ['http_req_failed', failed],
    ['http_reqs', reqs],
    // autocannon's own names, for policies written against them.
    ['latency', duration],
    ['requests', reqs],
    ['errors', { count: errors, value: errors }],
    ['non2xx', { count: non2xx, value: non2xx }],
  ]);
  if (isObj(data.throughput))
    metrics.set('throughput', {
      avg: num(data.throughput.average),
      min: num(data.throughput.min),
      max: num(data.throughput.max),
    });
  return metrics;
}

const MS_KEY = /^(p\d+(?:_\d+)?|min|max|mean|avg|median|med)Ms$/;

function fromBench(data: Obj): Metrics {
  const metrics: Metrics = new Map();
  const walk = (value: unknown, path: string[]): void => {
    if (num(value) !== undefined) {
      metrics.set(path.join('.'), { value: value as number });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, [...path, String(i)]));
      return;
    }
    if (!isObj(value)) return;
    const trendKeys = Object.keys(value).filter((k) => MS_KEY.test(k) && num(value[k]) !== undefined);
    if (trendKeys.length && path.length) {
      const stats: MetricStats = { unit: 'ms' };
      const percentiles: Record<number, number> = {};
      const at = path.join('.');
      for (const key of trendKeys) {
        const base = key.slice(0, -2);
        const n = checkNonNegative(value[key] as number, `${at}.${key}`, 'a duration');
        if (base === 'min' || base === 'max') stats[base] = n;
        else if (base === 'mean' || base === 'avg') stats.avg = n;
        else if (base === 'median' || base === 'med') stats.med = n;
        else percentiles[percentileKey(base)!] = n;
      }
      if (percentiles[50] !== undefined && stats.med === undefined) stats.med = percentiles[50];
      stats.percentiles = percentiles;
      for (const key of ['iterations', 'count', 'samples']) {
        const n = num(value[key]);
        if (n !== undefined) checkCount(n, `${at}.${key}`);
      }
      const count = num(value.iterations) ?? num(value.count) ?? num(value.samples);
      if (count !== undefined) stats.count = count;
      if (Array.isArray(value.samplesMs))
        stats.samples = value.samplesMs.flatMap((s: unknown, i) =>
          num(s) === undefined ? [] : [checkNonNegative(s as number, `${at}.samplesMs.${i}`, 'a duration')],
        );
      metrics.set(path.join('.'), stats);
    }
    for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
  };
  walk(data, []);
  if (metrics.size === 0) throw new Error('the bench JSON has no numbers');
  return metrics;
}
