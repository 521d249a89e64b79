/**
 * Interval statistics.
 *
 * Percentile method: linear interpolation between closest ranks — Hyndman & Fan type 7, the default
 * of NumPy, R and spreadsheet PERCENTILE.INC. For sorted values x₀…xₙ₋₁ and p in [0, 1]:
 * h = (n − 1)·p, result = x⌊h⌋ + (h − ⌊h⌋)·(x⌊h⌋₊₁ − x⌊h⌋). With one value it is that value; it never
 * leaves the range of the data, so an 85th-percentile speed is always a speed someone drove near.
 */

/** The p-th quantile (0 ≤ p ≤ 1) of the values; null for no values. Does not mutate the input. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`p: must be within 0..1, got ${p}`);
  const xs = [...values].sort((a, b) => a - b);
  const h = (xs.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, xs.length - 1);
  return xs[lo]! + (h - lo) * (xs[hi]! - xs[lo]!);
}

export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Round to `digits` decimals, for tidy wire values. */
export function roundTo(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
