/**
 * Optimal rectangular linear assignment (minimising), exact on float costs.
 *
 * Shortest-augmenting-path method of Jonker–Volgenant as formulated by Crouse ("On implementing
 * 2D rectangular assignment algorithms", IEEE TAES 2016) — the same algorithm scipy's
 * `linear_sum_assignment` uses, so on feasible inputs the optimum cost is identical.
 *
 * Forbidden pairs: a cost of +Infinity means "never pair these". scipy refuses matrices where
 * no complete assignment avoids them; here such a pair is left unassigned instead. Precisely:
 * among all assignments of min(rows, cols) pairs, the result has the fewest forbidden pairs and,
 * among those, the least total finite cost; the forbidden pairs are then reported as -1. This is
 * done by replacing +Infinity with a finite penalty larger than any possible difference in total
 * finite cost, which keeps the algorithm exact.
 */
import { PaddockError } from '../errors/index.ts';

/**
 * @param cost row-major `rows × cols` matrix (cost[r * cols + c]); finite values or +Infinity.
 * @returns rowToCol: for each row the assigned column, or -1 when unassigned (rows > cols, or
 *   only forbidden columns were left for it).
 */
export function linearSumAssignment(cost: Float64Array, rows: number, cols: number): Int32Array {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new PaddockError('TRACKING_INVALID', `assignment dimensions must be non-negative integers, got ${rows}×${cols}`);
  }
  if (cost.length < rows * cols) {
    throw new PaddockError('TRACKING_INVALID', `assignment cost has ${cost.length} entries, needs ${rows * cols}`);
  }
  const rowToCol = new Int32Array(rows).fill(-1);
  if (rows === 0 || cols === 0) return rowToCol;

  // Validate and find the penalty that stands in for +Infinity.
  let maxAbs = 0;
  let anyForbidden = false;
  for (let k = 0; k < rows * cols; k += 1) {
    const value = cost[k]!;
    if (value === Number.POSITIVE_INFINITY) {
      anyForbidden = true;
    } else if (!Number.isFinite(value)) {
      throw new PaddockError('TRACKING_INVALID', `assignment cost[${k}] is ${value}; only finite values or +Infinity are allowed`);
    } else if (Math.abs(value) > maxAbs) {
      maxAbs = Math.abs(value);
    }
  }
  const pairs = Math.min(rows, cols);
  // Any two assignments differ in total finite cost by at most 2·pairs·maxAbs < penalty, so one
  // forbidden pair fewer always wins.
  const penalty = 2 * (pairs + 1) * (maxAbs + 1);

  // Work on a matrix with rows ≤ cols (transpose if needed), forbidden entries replaced.
  const transposed = rows > cols;
  const nr = transposed ? cols : rows;
  const nc = transposed ? rows : cols;
  const work = new Float64Array(nr * nc);
  for (let r = 0; r < rows; r += 1) {
    for (let c = 0; c < cols; c += 1) {
      const value = cost[r * cols + c]!;
      const finite = value === Number.POSITIVE_INFINITY ? penalty : value;
      if (transposed) work[c * nc + r] = finite;
      else work[r * nc + c] = finite;
    }
  }

  const col4row = solveRowsLeCols(work, nr, nc);

  for (let i = 0; i < nr; i += 1) {
    const j = col4row[i]!;
    const r = transposed ? j : i;
    const c = transposed ? i : j;
    if (anyForbidden && cost[r * cols + c] === Number.POSITIVE_INFINITY) continue;
    rowToCol[r] = c;
  }
  return rowToCol;
}

/** Sum of cost over assigned pairs of a rowToCol result (helper for callers and tests). */
export function assignmentCost(cost: Float64Array, cols: number, rowToCol: Int32Array): number {
  let total = 0;
  for (let r = 0; r < rowToCol.length; r += 1) {
    const c = rowToCol[r]!;
    if (c >= 0) total += cost[r * cols + c]!;
  }
  return total;
}

/** Crouse's shortest augmenting path for a finite nr × nc matrix with nr ≤ nc; every row is assigned. */
function solveRowsLeCols(cost: Float64Array, nr: number, nc: number): Int32Array {
  const u = new Float64Array(nr);
  const v = new Float64Array(nc);
  const shortestPathCosts = new Float64Array(nc);
  const path = new Int32Array(nc).fill(-1);
  const col4row = new Int32Array(nr).fill(-1);
  const row4col = new Int32Array(nc).fill(-1);
  const visitedRows = new Uint8Array(nr);
  const visitedCols = new Uint8Array(nc);
  const remaining = new Int32Array(nc);

  for (let curRow = 0; curRow < nr; curRow += 1) {
    // Dijkstra-like search for the shortest augmenting path from curRow in reduced costs.
    let minVal = 0;
    let numRemaining = nc;
    for (let it = 0; it < nc; it += 1) remaining[it] = nc - it - 1;
    visitedRows.fill(0);
    visitedCols.fill(0);
    shortestPathCosts.fill(Number.POSITIVE_INFINITY);

    let sink = -1;
    let i = curRow;
    while (sink === -1) {
      let index = -1;
      let lowest = Number.POSITIVE_INFINITY;
      visitedRows[i] = 1;
      const base = i * nc;
      const ui = u[i]!;
      for (let it = 0; it < numRemaining; it += 1) {
        const j = remaining[it]!;
        const reduced = minVal + cost[base + j]! - ui - v[j]!;
        if (reduced < shortestPathCosts[j]!) {
          path[j] = i;
          shortestPathCosts[j] = reduced;
        }
        const spc = shortestPathCosts[j]!;
        if (spc < lowest || (spc === lowest && row4col[j] === -1)) {
          lowest = spc;
          index = it;
        }
      }
      minVal = lowest;
      if (index === -1 || minVal === Number.POSITIVE_INFINITY) {
        // Cannot happen with a finite matrix and nr ≤ nc; guard against silent corruption.
        throw new PaddockError('INTERNAL', 'linear assignment found no augmenting path');
      }
      const j = remaining[index]!;
      if (row4col[j] === -1) sink = j;
      else i = row4col[j]!;
      visitedCols[j] = 1;
      numRemaining -= 1;
      remaining[index] = remaining[numRemaining]!;
    }

    // Update the dual variables.
    u[curRow] = u[curRow]! + minVal;
    for (let r = 0; r < nr; r += 1) {
      if (visitedRows[r] === 1 && r !== curRow) u[r] = u[r]! + minVal - shortestPathCosts[col4row[r]!]!;
    }
    for (let c = 0; c < nc; c += 1) {
      if (visitedCols[c] === 1) v[c] = v[c]! - (minVal - shortestPathCosts[c]!);
    }

    // Augment along the path back to curRow.
    let j = sink;
    while (true) {
      const r = path[j]!;
      row4col[j] = r;
      const previous = col4row[r]!;
      col4row[r] = j;
      j = previous;
      if (r === curRow) break;
    }
  }
  return col4row;
}
