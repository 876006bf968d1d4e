/**
 * Groups ground-truth and predicted rows by frame, the way py-motmetrics' `compare_to_groundtruth`
 * walks a sequence: every frame present in either file, ascending; within a frame, rows in file
 * order. Frames present in neither file are not visited at all (this matters for "was matched in
 * the previous frame", which means the previous visited frame).
 */
import { PaddockError } from '../errors/index.ts';
import type { MotRow } from './mot-format.ts';

export interface FrameSlice {
  frame: number;
  /** Indices into the ground-truth rows, file order. */
  gt: number[];
  /** Indices into the predicted rows, file order. */
  pred: number[];
}

export function groupByFrame(gt: readonly MotRow[], pred: readonly MotRow[]): FrameSlice[] {
  const byFrame = new Map<number, FrameSlice>();
  const slice = (frame: number): FrameSlice => {
    let found = byFrame.get(frame);
    if (found === undefined) {
      found = { frame, gt: [], pred: [] };
      byFrame.set(frame, found);
    }
    return found;
  };
  gt.forEach((row, index) => slice(row.frame).gt.push(index));
  pred.forEach((row, index) => slice(row.frame).pred.push(index));
  const frames = [...byFrame.values()].sort((a, b) => a.frame - b.frame);
  for (const frame of frames) {
    assertUniqueIds(gt, frame.gt, frame.frame, 'ground truth');
    assertUniqueIds(pred, frame.pred, frame.frame, 'predictions');
  }
  return frames;
}

/** Dense indices 0..n-1 for the distinct IDs, in ascending ID order (TrackEval's relabelling). */
export function denseIds(rows: readonly MotRow[]): Map<number, number> {
  const ids = [...new Set(rows.map((row) => row.id))].sort((a, b) => a - b);
  return new Map(ids.map((id, index) => [id, index]));
}

function assertUniqueIds(rows: readonly MotRow[], indices: readonly number[], frame: number, what: string): void {
  if (indices.length < 2) return;
  const ids = new Set<number>();
  for (const index of indices) {
    const id = rows[index]!.id;
    if (ids.has(id)) {
      throw new PaddockError('MOT_INVALID', `${what}: id ${id} appears more than once in frame ${frame}`, { details: { frame, id } });
    }
    ids.add(id);
  }
}
