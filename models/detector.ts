/**
 * The project's own horse detector for synthetic paddock scenes, written directly as an ONNX
 * graph. It has the Ultralytics YOLOv8 signature: input `images` [1,3,S,S] (RGB, 0..1, centre
 * letterbox with grey 114), output `output0` [1, 4 + 1, N] with pixel boxes (cx, cy, w, h) in
 * model-input space and one class score ("horse") per anchor, N anchors on a stride-8 grid.
 *
 * How it finds horses (every step is an ONNX op on pixels):
 *  1. Foreground mask: a pixel is horse when it is neither grass (green clearly above red and
 *     blue) nor the letterbox grey. The mask is pooled to a stride-4 cell grid.
 *  2. Blob extents: each cell's horizontal and vertical run of foreground cells is found with
 *     log-step prefix maxima (shift by 1, 2, 4, … with Pad, then Max). The run's box edges are
 *     then spread through the blob by alternating segmented maxima along rows and columns, so
 *     every cell of a horse ends up holding that horse's bounding box.
 *  3. Anchors: every second cell (stride 8) emits its blob's box; its score is high inside a
 *     blob and highest near the box centre, so NMS keeps one box per horse.
 * The synthetic renderer separates overlapping horses with a grass halo, so each visible horse is
 * its own blob.
 */
import { GraphBuilder } from './onnx-graph.ts';

export interface DetectorGeometry {
  /** Square model input side in pixels; a multiple of 8. */
  inputSize: number;
}

export const DETECTOR_INPUT_SIZE = 640;
export const DETECTOR_INPUT_NAME = 'images';
export const DETECTOR_OUTPUT_NAME = 'output0';
export const LETTERBOX_FILL = 114;

const CELL = 4;
const ANCHOR_STRIDE = 8;
/** Grass when green exceeds both red and blue by this much (0..1 scale, ≈ 25/255). */
const GRASS_MARGIN = 0.1;
/** Letterbox fill when |r-f| + |g-f| + |b-f| is below this (0..1 scale, ≈ 9/255). */
const FILL_TOLERANCE = 0.035;
const CELL_FOREGROUND_SHARE = 0.5;
const PROPAGATION_ROUNDS = 4;
/** Boxes whose shorter side is below FULL_SCORE_SIDE pixels score lower, down to 0 at MIN_SIDE: slivers of occluded horses. */
const MIN_SIDE = 12;
const FULL_SCORE_SIDE = 48;

/** Shifts `tensor` by `distance` along `axis` (of 4), filling with `fill`; forward moves values to higher indices. */
function shift(g: GraphBuilder, tensor: string, axis: number, distance: number, forward: boolean, fill: string): string {
  const pads = [0, 0, 0, 0, 0, 0, 0, 0];
  pads[forward ? axis : axis + 4] = distance;
  pads[forward ? axis + 4 : axis] = -distance;
  return g.op('Pad', [tensor, g.int64s(pads), fill], { mode: 'constant' });
}

/** Running maximum along an axis (forward: over indices ≤ i; backward: over indices ≥ i). */
function scanMax(g: GraphBuilder, tensor: string, axis: number, length: number, forward: boolean, fill: string): string {
  let result = tensor;
  for (let distance = 1; distance < length; distance *= 2) {
    result = g.op('Max', [result, shift(g, result, axis, distance, forward, fill)]);
  }
  return result;
}

export function buildDetectorModel(geometry: DetectorGeometry = { inputSize: DETECTOR_INPUT_SIZE }): Uint8Array {
  const size = geometry.inputSize;
  if (size % ANCHOR_STRIDE !== 0) throw new RangeError(`detector input size ${size} must be a multiple of ${ANCHOR_STRIDE}`);
  const cells = size / CELL;
  const anchorsPerSide = size / ANCHOR_STRIDE;
  const g = new GraphBuilder('paddock_detector');
  const images = g.input(DETECTOR_INPUT_NAME, [1, 3, size, size]);
  const channel = (index: number): string => g.op('Slice', [images, g.int64s([index]), g.int64s([index + 1]), g.int64s([1])]);
  const red = channel(0);
  const green = channel(1);
  const blue = channel(2);

  // 1. Foreground mask on the cell grid.
  const greenness = g.op('Sub', [green, g.op('Max', [red, blue])]);
  const isGrass = g.op('Cast', [g.op('Greater', [greenness, g.scalar(GRASS_MARGIN)])], { to: 1 });
  const fill = g.scalar(LETTERBOX_FILL / 255);
  const fillDistance = g.op('Sum', [
    g.op('Abs', [g.op('Sub', [red, fill])]),
    g.op('Abs', [g.op('Sub', [green, fill])]),
    g.op('Abs', [g.op('Sub', [blue, fill])]),
  ]);
  const isFill = g.op('Cast', [g.op('Less', [fillDistance, g.scalar(FILL_TOLERANCE)])], { to: 1 });
  const one = g.scalar(1);
  const foreground = g.op('Mul', [g.op('Sub', [one, isGrass]), g.op('Sub', [one, isFill])]);
  const pooled = g.op('AveragePool', [foreground], { kernel_shape: [CELL, CELL], strides: [CELL, CELL] });
  const mask = g.op('Cast', [g.op('Greater', [pooled, g.scalar(CELL_FOREGROUND_SHARE)])], { to: 1 });
  const background = g.op('Sub', [one, mask]);

  const xIndex = g.constant(Float32Array.from({ length: cells }, (_, i) => i), [1, 1, 1, cells]);
  const yIndex = g.constant(Float32Array.from({ length: cells }, (_, i) => i), [1, 1, cells, 1]);
  const veryLow = g.scalar(-1e6);
  const cellsScalar = g.scalar(cells);

  // 2a. Runs: index of the nearest background cell before / after each cell, per axis.
  const runBounds = (index: string, axis: number): { lastBackground: string; nextBackground: string } => {
    // background ? i : -1, running max forward
    const before = g.op('Sub', [g.op('Mul', [background, g.op('Add', [index, one])]), one]);
    const lastBackground = scanMax(g, before, axis, cells, true, veryLow);
    // background ? i : cells, running min backward (as max of negatives)
    const after = g.op('Add', [g.op('Mul', [background, index]), g.op('Mul', [mask, cellsScalar])]);
    const nextBackground = g.op('Neg', [scanMax(g, g.op('Neg', [after]), axis, cells, false, veryLow)]);
    return { lastBackground, nextBackground };
  };
  const rows = runBounds(xIndex, 3);
  const columns = runBounds(yIndex, 2);

  // 2b. Box edges as four channels, all turned into "larger is further out": [-x0, x1, -y0, y1] + offset.
  const offset = g.scalar(cells + 1);
  const encode = (value: string, negate: boolean): string => g.op('Add', [negate ? g.op('Neg', [value]) : value, offset]);
  let edges = g.op('Mul', [
    g.op('Concat', [
      encode(g.op('Add', [rows.lastBackground, one]), true),
      encode(g.op('Sub', [rows.nextBackground, one]), false),
      encode(g.op('Add', [columns.lastBackground, one]), true),
      encode(g.op('Sub', [columns.nextBackground, one]), false),
    ], { axis: 1 }),
    mask,
  ]);

  // Segmented maxima: prefixing a run id that grows along the scan keeps maxima inside a run.
  const segmentScale = g.scalar(4 * (cells + 2));
  const segmentedRunMax = (values: string, axis: number, bounds: { lastBackground: string; nextBackground: string }): string => {
    const forwardId = g.op('Mul', [g.op('Add', [bounds.lastBackground, one]), segmentScale]);
    const backwardId = g.op('Mul', [g.op('Sub', [cellsScalar, bounds.nextBackground]), segmentScale]);
    const forward = g.op('Sub', [scanMax(g, g.op('Add', [values, forwardId]), axis, cells, true, veryLow), forwardId]);
    const backward = g.op('Sub', [scanMax(g, g.op('Add', [values, backwardId]), axis, cells, false, veryLow), backwardId]);
    return g.op('Mul', [g.op('Max', [forward, backward]), mask]);
  };
  for (let round = 0; round < PROPAGATION_ROUNDS; round++) {
    edges = segmentedRunMax(edges, 3, rows);
    edges = segmentedRunMax(edges, 2, columns);
  }

  // 3. Anchors at stride 8 (cell centres (8i + 6, 8j + 6) in pixels).
  const sample = (tensor: string): string =>
    g.op('Slice', [tensor, g.int64s([1, 1]), g.int64s([cells, cells]), g.int64s([2, 3]), g.int64s([2, 2])]);
  const anchorEdges = sample(edges);
  const anchorMask = sample(mask);
  const edge = (index: number): string => g.op('Slice', [anchorEdges, g.int64s([index]), g.int64s([index + 1]), g.int64s([1])]);
  const cellSize = g.scalar(CELL);
  const left = g.op('Mul', [g.op('Sub', [offset, edge(0)]), cellSize]);
  const right = g.op('Mul', [g.op('Add', [g.op('Sub', [edge(1), offset]), one]), cellSize]);
  const top = g.op('Mul', [g.op('Sub', [offset, edge(2)]), cellSize]);
  const bottom = g.op('Mul', [g.op('Add', [g.op('Sub', [edge(3), offset]), one]), cellSize]);
  const half = g.scalar(0.5);
  const centreX = g.op('Mul', [g.op('Add', [left, right]), half]);
  const centreY = g.op('Mul', [g.op('Add', [top, bottom]), half]);
  const width = g.op('Sub', [right, left]);
  const height = g.op('Sub', [bottom, top]);

  const anchorX = g.constant(Float32Array.from({ length: anchorsPerSide }, (_, i) => i * ANCHOR_STRIDE + 6), [1, 1, 1, anchorsPerSide]);
  const anchorY = g.constant(Float32Array.from({ length: anchorsPerSide }, (_, i) => i * ANCHOR_STRIDE + 6), [1, 1, anchorsPerSide, 1]);
  const tiny = g.scalar(1e-3);
  const balance = (a: string, b: string): string => {
    const da = g.op('Max', [a, tiny]);
    const db = g.op('Max', [b, tiny]);
    return g.op('Div', [g.op('Min', [da, db]), g.op('Max', [da, db])]);
  };
  const centredness = g.op('Sqrt', [
    g.op('Mul', [
      balance(g.op('Sub', [anchorX, left]), g.op('Sub', [right, anchorX])),
      balance(g.op('Sub', [anchorY, top]), g.op('Sub', [bottom, anchorY])),
    ]),
  ]);
  const shorterSide = g.op('Min', [width, height]);
  const sizeFactor = g.op('Clip', [
    g.op('Div', [g.op('Sub', [shorterSide, g.scalar(MIN_SIDE)]), g.scalar(FULL_SCORE_SIDE - MIN_SIDE)]),
    g.scalar(0),
    one,
  ]);
  const score = g.op('Mul', [
    g.op('Mul', [anchorMask, sizeFactor]),
    g.op('Add', [g.scalar(0.35), g.op('Mul', [centredness, g.scalar(0.6)])]),
  ]);
  const maskedBox = (value: string): string => g.op('Mul', [value, anchorMask]);
  const stacked = g.op('Concat', [maskedBox(centreX), maskedBox(centreY), maskedBox(width), maskedBox(height), score], { axis: 1 });
  const anchors = anchorsPerSide * anchorsPerSide;
  const output = g.op('Reshape', [stacked, g.int64s([1, 5, anchors])]);
  g.output(g.rename(output, DETECTOR_OUTPUT_NAME), [1, 5, anchors]);
  return g.toBytes();
}
