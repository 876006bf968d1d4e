import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config/index.ts';
import type { MotRow } from '../../src/eval/index.ts';

export const MOT_DATA_DIR = path.resolve(PROJECT_ROOT, '..', 'shared', 'data', 'mot');

/** A MOT row with a 10×10 box unless told otherwise. */
export function row(frame: number, id: number, x: number, y: number, w = 10, h = 10, conf = 1): MotRow {
  return { frame, id, x, y, w, h, conf };
}
