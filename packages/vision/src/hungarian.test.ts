import { describe, expect, it } from 'vitest';
import { createRandom } from './synthetic/prng.js';
import { assignWithGate, solveAssignment } from './hungarian.js';

function totalCost(cost: number[][], assignment: number[]): number {
  return assignment.reduce((s, c, r) => (c >= 0 ? s + cost[r]![c]! : s), 0);
}

/** Exhaustive minimum over all injective row→column maps, for small matrices. */
function bruteForce(cost: number[][]): number {
  const rows = cost.length;
  const cols = cost[0]!.length;
  const k = Math.min(rows, cols);
  let best = Infinity;
  const usedC = new Set<number>();
  const go = (r: number, assigned: number, sum: number) => {
    if (assigned === k) {
      best = Math.min(best, sum);
      return;
    }
    if (r >= rows) return;
    if (rows - r > k - assigned) go(r + 1, assigned, sum);
    for (let c = 0; c < cols; c++) {
      if (usedC.has(c)) continue;
      usedC.add(c);
      go(r + 1, assigned + 1, sum + cost[r]![c]!);
      usedC.delete(c);
    }
  };
  go(0, 0, 0);
  return best;
}

describe('solveAssignment', () => {
  it.each([
    { name: 'empty', cost: [] as number[][], want: [] as number[] },
    { name: 'no columns', cost: [[], []] as number[][], want: [-1, -1] },
    {
      name: 'identity is best',
      cost: [
        [0, 1],
        [1, 0],
      ],
      want: [0, 1],
    },
    {
      name: 'anti-diagonal is best',
      cost: [
        [1, 0],
        [0, 1],
      ],
      want: [1, 0],
    },
    {
      name: 'greedy trap: the locally best pair is globally wrong',
      cost: [
        [0.1, 0.2],
        [0.15, 0.9],
      ],
      want: [1, 0],
    },
    { name: 'more columns than rows', cost: [[5, 1, 3]], want: [1] },
    { name: 'more rows than columns', cost: [[5], [1], [3]], want: [-1, 0, -1] },
  ])('$name', ({ cost, want }) => {
    expect(solveAssignment(cost)).toEqual(want);
  });

  it('matches brute force on 200 random rectangular matrices', () => {
    const rnd = createRandom(7);
    for (let trial = 0; trial < 200; trial++) {
      const rows = rnd.int(1, 5);
      const cols = rnd.int(1, 5);
      const cost = Array.from({ length: rows }, () =>
        Array.from({ length: cols }, () => Math.round(rnd.next() * 100) / 100),
      );
      const a = solveAssignment(cost);
      expect(new Set(a.filter((c) => c >= 0)).size).toBe(Math.min(rows, cols));
      expect(totalCost(cost, a)).toBeCloseTo(bruteForce(cost), 9);
    }
  });
});

describe('assignWithGate', () => {
  it('drops pairs above the gate and reports the leftovers', () => {
    const r = assignWithGate(
      [
        [0.1, 0.95],
        [0.99, 0.97],
        [0.96, 0.2],
      ],
      0.8,
    );
    expect(r.matches).toEqual([
      { row: 0, col: 0 },
      { row: 2, col: 1 },
    ]);
    expect(r.unmatchedRows).toEqual([1]);
    expect(r.unmatchedCols).toEqual([]);
  });
  it('never trades an allowed match for a forbidden one', () => {
    // Unconstrained optimum pairs (0,1) and (1,0) at 0.9 + 0.0 = 0.9 < 0.5 + 0.5; with (0,1) forbidden
    // the solver must keep both allowed pairs.
    const r = assignWithGate(
      [
        [0.5, 0.9],
        [0.0, 0.5],
      ],
      0.6,
    );
    expect(r.matches).toHaveLength(2);
  });
  it('handles an empty side', () => {
    expect(assignWithGate([], 0.5)).toEqual({ matches: [], unmatchedRows: [], unmatchedCols: [] });
    expect(assignWithGate([[], []], 0.5)).toEqual({ matches: [], unmatchedRows: [0, 1], unmatchedCols: [] });
  });
});
