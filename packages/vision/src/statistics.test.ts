import { describe, expect, it } from 'vitest';
import { mean, percentile, roundTo } from './statistics.js';

describe('percentile (Hyndman–Fan type 7, linear between closest ranks)', () => {
  it.each([
    { name: 'empty', xs: [], p: 0.85, want: null },
    { name: 'single value', xs: [42], p: 0.85, want: 42 },
    { name: 'two values', xs: [10, 20], p: 0.85, want: 18.5 },
    { name: 'p = 0 is the minimum', xs: [3, 1, 2], p: 0, want: 1 },
    { name: 'p = 1 is the maximum', xs: [3, 1, 2], p: 1, want: 3 },
    { name: 'median of an odd count', xs: [5, 1, 3], p: 0.5, want: 3 },
    { name: 'median of an even count', xs: [4, 1, 3, 2], p: 0.5, want: 2.5 },
    // numpy.percentile([1..10], 85) = 8.65
    { name: 'numpy reference: 1..10 at 85 %', xs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], p: 0.85, want: 8.65 },
    // numpy.percentile([52, 61, 48, 70, 66, 59, 73], 85) = 70.3 (sorted 48 52 59 61 66 70 73; h = 6 × 0.85 = 5.1)
    { name: 'numpy reference: speeds', xs: [52, 61, 48, 70, 66, 59, 73], p: 0.85, want: 70.3 },
    { name: 'ties', xs: [50, 50, 50, 60], p: 0.85, want: 55.5 },
  ])('$name', ({ xs, p, want }) => {
    const v = percentile(xs, p);
    if (want === null) expect(v).toBeNull();
    else expect(v).toBeCloseTo(want, 9);
  });
  it('does not reorder its input', () => {
    const xs = [3, 1, 2];
    percentile(xs, 0.5);
    expect(xs).toEqual([3, 1, 2]);
  });
  it('rejects p outside 0..1', () => {
    expect(() => percentile([1], 85)).toThrow(/p: must be within 0\.\.1/);
  });
});

describe('mean and roundTo', () => {
  it('mean', () => {
    expect(mean([])).toBeNull();
    expect(mean([1, 2, 3, 4])).toBe(2.5);
  });
  it('roundTo', () => {
    expect(roundTo(12.3456, 2)).toBe(12.35);
    expect(roundTo(12.3449, 2)).toBe(12.34);
  });
});
