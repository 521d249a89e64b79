/**
 * k6's threshold language (`p(95)<200`, `rate<0.01`, `avg<=150`, `med>1`, `count>=100`), parsed once
 * and evaluated against a metric's statistics. Pure.
 */

export type Aggregate =
  { kind: 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' | 'value' } | { kind: 'percentile'; p: number };

export type Operator = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface Threshold {
  source: string;
  aggregate: Aggregate;
  operator: Operator;
  value: number;
}

const EXPRESSION =
  /^\s*(avg|min|max|med|count|rate|value|p\(\s*(\d+(?:\.\d+)?)\s*\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

export function aggregateName(aggregate: Aggregate): string {
  return aggregate.kind === 'percentile' ? `p(${aggregate.p})` : aggregate.kind;
}

/** Parses one expression; the error says what is wrong and what is allowed. */
export function parseThreshold(source: string): { threshold?: Threshold; error?: string } {
  const m = EXPRESSION.exec(source);
  if (!m)
    return {
      error: `'${source}' is not a k6 threshold: write <aggregate><op><number> with aggregate avg|min|max|med|count|rate|value|p(N) and op < <= > >= == !=, e.g. 'p(95)<200'`,
    };
  const op = (m[3] === '===' ? '==' : m[3]) as Operator;
  const value = Number(m[4]);
  const aggregate: Aggregate =
    m[2] !== undefined ? { kind: 'percentile', p: Number(m[2]) } : { kind: m[1] as 'avg' };
  if (aggregate.kind === 'percentile' && (aggregate.p <= 0 || aggregate.p > 100))
    return { error: `'${source}': the percentile must be in (0, 100], got ${aggregate.p}` };
  // Thresholds no run can ever meet are mistakes in the policy, not strict gates.
  if (
    aggregate.kind === 'rate' &&
    ((op === '<' && value <= 0) ||
      (op === '<=' && value < 0) ||
      (op === '>' && value >= 1) ||
      (op === '>=' && value > 1))
  )
    return { error: `'${source}' can never pass: a rate is between 0 and 1` };
  if (
    aggregate.kind !== 'rate' &&
    aggregate.kind !== 'value' &&
    ((op === '<' && value <= 0) || (op === '<=' && value < 0))
  )
    return { error: `'${source}' can never pass: ${aggregateName(aggregate)} is never negative` };
  // …and thresholds no run can ever break gate nothing: also a mistake (a typo in the number, usually).
  if (
    aggregate.kind === 'rate' &&
    ((op === '<' && value > 1) ||
      (op === '<=' && value >= 1) ||
      (op === '>' && value < 0) ||
      (op === '>=' && value <= 0))
  )
    return { error: `'${source}' can never fail: a rate is between 0 and 1, so it gates nothing` };
  if (
    aggregate.kind !== 'rate' &&
    aggregate.kind !== 'value' &&
    ((op === '>' && value < 0) || (op === '>=' && value <= 0))
  )
    return {
      error: `'${source}' can never fail: ${aggregateName(aggregate)} is never negative, so it gates nothing`,
    };
  return { threshold: { source: source.trim(), aggregate, operator: op, value } };
}

export function compare(actual: number, operator: Operator, value: number): boolean {
  switch (operator) {
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '==':
      return actual === value;
    case '!=':
      return actual !== value;
  }
}

/** A metric as the readers normalise it: known statistics plus, for some tools, a percentile table. */
export interface MetricStats {
  avg?: number;
  min?: number;
  max?: number;
  med?: number;
  count?: number;
  rate?: number;
  value?: number;
  /** Percentiles the tool reported, keyed by p (e.g. 95 → ms). */
  percentiles?: Record<number, number>;
  /** Raw samples when the tool kept them: exact percentiles. */
  samples?: number[];
  unit?: string;
}

export interface ResolvedAggregate {
  value?: number;
  /** How the value was obtained when it was not reported directly (e.g. interpolated). */
  note?: string;
  error?: string;
}

/** The value of an aggregate, computing a percentile when the tool did not report that one. */
export function resolveAggregate(stats: MetricStats, aggregate: Aggregate): ResolvedAggregate {
  if (aggregate.kind !== 'percentile') {
    const direct = stats[aggregate.kind];
    if (direct !== undefined) return { value: direct };
    if (aggregate.kind === 'med') return resolveAggregate(stats, { kind: 'percentile', p: 50 });
    return { error: `the report has no ${aggregate.kind} for this metric` };
  }
  const p = aggregate.p;
  if (stats.samples?.length)
    return {
      value: percentileOfSamples(stats.samples, p),
      note: `p(${p}) computed from ${stats.samples.length} samples`,
    };
  const table = stats.percentiles ?? {};
  if (table[p] !== undefined) return { value: table[p] };
  if (p === 50 && stats.med !== undefined) return { value: stats.med };
  const interpolated = interpolatePercentile(table, p, stats.min, stats.max);
  if (interpolated) return interpolated;
  return { error: `the report has no p(${p}) and too few percentiles to interpolate it` };
}

/** Nearest-rank percentile of raw samples (what k6 computes for a trend). */
export function percentileOfSamples(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * Linear interpolation between the two nearest percentiles a tool reported (autocannon reports p90
 * and p97.5 but no p95). min and max stand in for p0 and p100 at the edges. Says which it used.
 */
export function interpolatePercentile(
  table: Record<number, number>,
  p: number,
  min?: number,
  max?: number,
): ResolvedAggregate | undefined {
  const points = Object.entries(table).map(([k, v]) => [Number(k), v] as const);
  if (min !== undefined) points.push([0, min]);
  if (max !== undefined) points.push([100, max]);
  points.sort((a, b) => a[0] - b[0]);
  let lower: readonly [number, number] | undefined;
  let upper: readonly [number, number] | undefined;
  for (const point of points) {
    if (point[0] <= p) lower = point;
    if (point[0] >= p && !upper) upper = point;
  }
  if (!lower || !upper) return undefined;
  if (lower[0] === upper[0]) return { value: lower[1] };
  const value = lower[1] + ((upper[1] - lower[1]) * (p - lower[0])) / (upper[0] - lower[0]);
  const name = (q: number) => (q === 0 ? 'min' : q === 100 ? 'max' : `p(${q})`);
  return {
    value: Math.round(value * 1000) / 1000,
    note: `p(${p}) interpolated linearly between ${name(lower[0])}=${lower[1]} and ${name(upper[0])}=${upper[1]} (the tool does not report p(${p}))`,
  };
}
