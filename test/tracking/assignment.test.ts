import { describe, expect, it } from 'vitest';
import { assignmentCost, linearSumAssignment } from '../../src/tracking/assignment.ts';
import { PaddockError } from '../../src/errors/index.ts';
import { mulberry32 } from '../../src/synth/random.ts';

/**
 * Brute force reference: fewest forbidden pairs first, then least finite cost, over all
 * assignments of min(rows, cols) pairs.
 */
function bruteForce(cost: Float64Array, rows: number, cols: number): { forbidden: number; total: number } {
  let best = { forbidden: Number.POSITIVE_INFINITY, total: Number.POSITIVE_INFINITY };
  const usedCols = new Array<boolean>(cols).fill(false);
  const usedRows = new Array<boolean>(rows).fill(false);
  const pairs = Math.min(rows, cols);
  const rowsLeCols = rows <= cols;
  // Choose, for each of the smaller side's indices in order, a distinct partner on the larger side.
  const visit = (k: number, forbidden: number, total: number): void => {
    if (k === pairs) {
      if (forbidden < best.forbidden || (forbidden === best.forbidden && total < best.total - 1e-12)) best = { forbidden, total };
      return;
    }
    const limit = rowsLeCols ? cols : rows;
    for (let other = 0; other < limit; other += 1) {
      const used = rowsLeCols ? usedCols : usedRows;
      if (used[other]) continue;
      used[other] = true;
      const value = rowsLeCols ? cost[k * cols + other]! : cost[other * cols + k]!;
      if (value === Number.POSITIVE_INFINITY) visit(k + 1, forbidden + 1, total);
      else visit(k + 1, forbidden, total + value);
      used[other] = false;
    }
  };
  visit(0, 0, 0);
  return best;
}

function checkValid(result: Int32Array, cost: Float64Array, rows: number, cols: number): void {
  expect(result.length).toBe(rows);
  const seen = new Set<number>();
  for (let r = 0; r < rows; r += 1) {
    const c = result[r]!;
    if (c === -1) continue;
    expect(c).toBeGreaterThanOrEqual(0);
    expect(c).toBeLessThan(cols);
    expect(seen.has(c)).toBe(false);
    seen.add(c);
    expect(cost[r * cols + c]).not.toBe(Number.POSITIVE_INFINITY);
  }
}

describe('linearSumAssignment', () => {
  it('matches brute force on random small matrices (square and rectangular, float costs)', () => {
    const random = mulberry32(42);
    for (let trial = 0; trial < 400; trial += 1) {
      const rows = 1 + Math.floor(random() * 6);
      const cols = 1 + Math.floor(random() * 6);
      const cost = new Float64Array(rows * cols);
      const integer = trial % 3 === 0; // integer costs create many ties
      for (let k = 0; k < cost.length; k += 1) cost[k] = integer ? Math.floor(random() * 4) : (random() - 0.3) * 10;
      const result = linearSumAssignment(cost, rows, cols);
      checkValid(result, cost, rows, cols);
      const assigned = result.reduce((n, c) => n + (c >= 0 ? 1 : 0), 0);
      expect(assigned).toBe(Math.min(rows, cols));
      expect(assignmentCost(cost, cols, result)).toBeCloseTo(bruteForce(cost, rows, cols).total, 9);
    }
  });

  it('never assigns forbidden (+Infinity) pairs and otherwise stays optimal', () => {
    const random = mulberry32(7);
    for (let trial = 0; trial < 300; trial += 1) {
      const rows = 1 + Math.floor(random() * 5);
      const cols = 1 + Math.floor(random() * 5);
      const cost = new Float64Array(rows * cols);
      for (let k = 0; k < cost.length; k += 1) cost[k] = random() < 0.4 ? Number.POSITIVE_INFINITY : random() * 5;
      const result = linearSumAssignment(cost, rows, cols);
      checkValid(result, cost, rows, cols);
      const reference = bruteForce(cost, rows, cols);
      const assigned = result.reduce((n, c) => n + (c >= 0 ? 1 : 0), 0);
      expect(assigned).toBe(Math.min(rows, cols) - reference.forbidden);
      expect(assignmentCost(cost, cols, result)).toBeCloseTo(reference.total, 9);
    }
  });

  it('handles empty dimensions and all-forbidden matrices', () => {
    expect(linearSumAssignment(new Float64Array(0), 0, 5)).toEqual(new Int32Array(0));
    expect(Array.from(linearSumAssignment(new Float64Array(0), 3, 0))).toEqual([-1, -1, -1]);
    const allForbidden = new Float64Array(4).fill(Number.POSITIVE_INFINITY);
    expect(Array.from(linearSumAssignment(allForbidden, 2, 2))).toEqual([-1, -1]);
  });

  it('leaves surplus rows unassigned when rows > cols', () => {
    // 3 rows, 1 column: the cheapest row takes it.
    const result = linearSumAssignment(new Float64Array([5, 1, 3]), 3, 1);
    expect(Array.from(result)).toEqual([-1, 0, -1]);
  });

  it('prefers a forbidden-free complete assignment over a cheaper partial one', () => {
    // Row 0 could take col 0 cheaply, but then row 1 (only allowed col 0) would be left out.
    const inf = Number.POSITIVE_INFINITY;
    const result = linearSumAssignment(new Float64Array([0, 100, 50, inf]), 2, 2);
    expect(Array.from(result)).toEqual([1, 0]);
  });

  it('rejects NaN, -Infinity and bad dimensions with a typed error', () => {
    expect(() => linearSumAssignment(new Float64Array([Number.NaN]), 1, 1)).toThrow(PaddockError);
    expect(() => linearSumAssignment(new Float64Array([Number.NEGATIVE_INFINITY]), 1, 1)).toThrow(PaddockError);
    expect(() => linearSumAssignment(new Float64Array(2), 2, 2)).toThrow(PaddockError);
    expect(() => linearSumAssignment(new Float64Array(2), -1, 2)).toThrow(PaddockError);
  });
});
