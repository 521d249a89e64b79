/**
 * Minimum-cost assignment (Kuhn–Munkres with potentials, O(n²·m)) for rectangular cost matrices.
 *
 * The tracker uses it instead of greedy matching because greedy-by-IoU mis-assigns when two vehicles
 * pass close to each other: the locally best pair can force the other vehicle onto a wrong track.
 */

/** Assign rows to columns minimising the total cost. Returns, for each row, its column or -1. */
export function solveAssignment(cost: readonly (readonly number[])[]): number[] {
  const rows = cost.length;
  if (rows === 0) return [];
  const cols = cost[0]!.length;
  if (cols === 0) return new Array<number>(rows).fill(-1);
  // The algorithm needs rows ≤ cols; transpose when that does not hold.
  if (rows > cols) {
    const t = Array.from({ length: cols }, (_, j) => Array.from({ length: rows }, (_, i) => cost[i]![j]!));
    const colToRow = solveAssignment(t);
    const out = new Array<number>(rows).fill(-1);
    colToRow.forEach((r, c) => {
      if (r >= 0) out[r] = c;
    });
    return out;
  }
  const n = rows;
  const m = cols;
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1); // p[j]: row (1-based) assigned to column j
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Infinity);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost[i0 - 1]![j - 1]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]!] = u[p[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else {
          minv[j] = minv[j]! - delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const out = new Array<number>(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j]! > 0) out[p[j]! - 1] = j - 1;
  return out;
}

export interface Match {
  row: number;
  col: number;
}

export interface GatedAssignment {
  matches: Match[];
  unmatchedRows: number[];
  unmatchedCols: number[];
}

/**
 * Optimal assignment where pairs costing more than `maxCost` are forbidden. Forbidden pairs get a
 * cost above any sum of allowed ones, so the solver never trades an allowed match for a forbidden one,
 * and are then dropped from the answer.
 */
export function assignWithGate(cost: readonly (readonly number[])[], maxCost: number): GatedAssignment {
  const rows = cost.length;
  const cols = rows > 0 ? cost[0]!.length : 0;
  // Forbidden pairs (over the gate, or Infinity) get one finite cost above any sum of allowed ones.
  const big = (Math.max(0, maxCost) + 1) * (Math.max(rows, cols) + 1);
  const gated = cost.map((r) => r.map((c) => (c <= maxCost ? c : big)));
  const assignment = solveAssignment(gated);
  const matches: Match[] = [];
  const usedCols = new Set<number>();
  assignment.forEach((col, row) => {
    if (col >= 0 && cost[row]![col]! <= maxCost) {
      matches.push({ row, col });
      usedCols.add(col);
    }
  });
  const matchedRows = new Set(matches.map((m) => m.row));
  return {
    matches,
    unmatchedRows: [...Array(rows).keys()].filter((r) => !matchedRows.has(r)),
    unmatchedCols: [...Array(cols).keys()].filter((c) => !usedCols.has(c)),
  };
}
