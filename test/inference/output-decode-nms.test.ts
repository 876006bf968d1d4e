import { describe, expect, it } from 'vitest';
import { decodeDetections, gridCellCount, outputShapeProblem, type DecodeOptions } from '../../src/inference/output-decode.ts';
import { iou, nonMaxSuppression, type Candidate } from '../../src/inference/nms.ts';

const box = (x1: number, y1: number, x2: number, y2: number, score: number, classId = 0): Candidate => ({ x1, y1, x2, y2, score, classId });

describe('nonMaxSuppression', () => {
  it('computes IoU', () => {
    expect(iou(box(0, 0, 10, 10, 1), box(0, 0, 10, 10, 1))).toBe(1);
    expect(iou(box(0, 0, 10, 10, 1), box(5, 0, 15, 10, 1))).toBeCloseTo(50 / 150, 10);
    expect(iou(box(0, 0, 10, 10, 1), box(10, 0, 20, 10, 1))).toBe(0);
  });

  it('keeps the best of an overlapping group and separate boxes, best first', () => {
    const kept = nonMaxSuppression([box(0, 0, 10, 10, 0.5), box(1, 0, 11, 10, 0.9), box(50, 50, 60, 60, 0.7)], 0.45);
    expect(kept.map((candidate) => candidate.score)).toEqual([0.9, 0.7]);
  });

  it('is class-agnostic: one animal under two classes survives once', () => {
    const kept = nonMaxSuppression([box(0, 0, 10, 10, 0.6, 17), box(0, 1, 10, 11, 0.5, 19)], 0.45);
    expect(kept).toEqual([box(0, 0, 10, 10, 0.6, 17)]);
  });

  it('keeps boxes that overlap at or below the threshold (neighbouring horses)', () => {
    expect(nonMaxSuppression([box(0, 0, 10, 10, 0.9), box(5, 0, 15, 10, 0.8)], 0.45)).toHaveLength(2);
    expect(nonMaxSuppression([box(0, 0, 10, 10, 0.9), box(5, 0, 15, 10, 0.8)], 0.3)).toHaveLength(1);
  });

  it('stops at maxDetections', () => {
    const many = Array.from({ length: 10 }, (_, i) => box(i * 20, 0, i * 20 + 10, 10, 0.5 + i / 100));
    expect(nonMaxSuppression(many, 0.45, 3)).toHaveLength(3);
  });
});

const options = (extra: Partial<DecodeOptions> = {}): DecodeOptions => ({
  classCount: 3,
  horseClassIds: [1],
  scoreThreshold: 0.3,
  inputWidth: 64,
  inputHeight: 64,
  strides: [8, 16, 32],
  outputNames: ['out'],
  ...extra,
});

describe('decodeDetections', () => {
  it('reads YOLOv8 output channel-first or transposed alike, per batch item', () => {
    const anchor = [32, 16, 8, 4, 0.1, 0.9, 0.2];
    const channelFirst = new Float32Array(2 * 7 * 2);
    anchor.forEach((value, channel) => (channelFirst[7 * 2 + channel * 2 + 1] = value)); // batch 1, anchor 1
    const transposed = new Float32Array(2 * 2 * 7);
    transposed.set(anchor, 2 * 7 + 7); // batch 1, anchor 1
    const expected = [{ x1: 28, y1: 14, x2: 36, y2: 18, score: expect.closeTo(0.9, 6), classId: 1 }];
    expect(decodeDetections('yolov8', { out: { data: channelFirst, dims: [2, 7, 2] } }, 1, options())).toEqual(expected);
    expect(decodeDetections('yolov8', { out: { data: transposed, dims: [2, 2, 7] } }, 1, options())).toEqual(expected);
    expect(decodeDetections('yolov8', { out: { data: channelFirst, dims: [2, 7, 2] } }, 0, options())).toEqual([]);
  });

  it('scores YOLOv5 rows obj*cls and picks the best horse class of an anchor', () => {
    const data = Float32Array.from([20, 20, 10, 10, 0.8, 0.1, 0.5, 0.7]);
    expect(decodeDetections('yolov5', { out: { data, dims: [1, 1, 8] } }, 0, options({ horseClassIds: [1, 2] }))).toEqual([
      { x1: 15, y1: 15, x2: 25, y2: 25, score: expect.closeTo(0.56, 6), classId: 2 },
    ]);
    expect(decodeDetections('yolov5', { out: { data, dims: [1, 1, 8] } }, 0, options({ scoreThreshold: 0.6, horseClassIds: [1, 2] }))).toEqual([]);
  });

  it('walks YOLOX grid levels in stride order, row-major', () => {
    const cells = gridCellCount(64, 64, [8, 16, 32]);
    expect(cells).toBe(84);
    const data = new Float32Array(cells * 8);
    data.set([0, 0, 0, 0, 1, 0, 1, 0], 83 * 8); // last cell: stride 32, gx = 1, gy = 1
    data.set([0.5, 0.5, 0, 0, 1, 0, 1, 0], 9 * 8); // stride 8, gx = 1, gy = 1
    const found = decodeDetections('yolox', { out: { data, dims: [1, cells, 8] } }, 0, options());
    expect(found).toEqual([
      { x1: 8, y1: 8, x2: 16, y2: 16, score: 1, classId: 1 },
      { x1: 16, y1: 16, x2: 48, y2: 48, score: 1, classId: 1 },
    ]);
  });

  it('refuses an output whose shape does not fit, with a typed error', () => {
    expect(() => decodeDetections('yolov5', { out: { data: new Float32Array(14), dims: [1, 2, 7] } }, 0, options())).toThrow(/yolov5 output/);
    expect(() => decodeDetections('yolox', { out: { data: new Float32Array(80), dims: [1, 10, 8] } }, 0, options())).toThrow(/84/);
  });
});

describe('outputShapeProblem', () => {
  it('accepts symbolic dimensions and names the mismatch otherwise', () => {
    expect(outputShapeProblem('yolov8', [{ name: 'o', shape: ['batch', 7, 'anchors'] }], options())).toBeUndefined();
    expect(outputShapeProblem('yolov8', [{ name: 'o', shape: [1, 84, 8400] }], options())).toMatch(/4\+3/);
    expect(outputShapeProblem('yolox', [{ name: 'o', shape: [1, 84, 8] }], options())).toBeUndefined();
    expect(outputShapeProblem('nanodet', [{ name: 'o', shape: [1, 84, 8] }], options())).toMatch(/cls_pred_stride_8/);
  });
});
