/**
 * Detector output layouts → candidate boxes in model-input pixels. Pure, no I/O.
 *
 * Each anchor yields at most one candidate: its best class among the horse classes, if that
 * score reaches the threshold. Other classes are not candidates at all, so a "cow" duplicate
 * of a horse can never suppress the horse, and several horse classes on one animal are
 * merged by the class-agnostic NMS that follows.
 */
import { PaddockError } from '../errors/index.ts';
import type { OutputLayout } from './model-config.ts';
import type { Candidate } from './nms.ts';

export interface OutputTensor {
  data: Float32Array;
  dims: readonly number[];
}

export type OutputTensors = Readonly<Record<string, OutputTensor>>;

export interface DecodeOptions {
  classCount: number;
  horseClassIds: readonly number[];
  scoreThreshold: number;
  inputWidth: number;
  inputHeight: number;
  strides: readonly number[];
  /** The model's output names in order; single-tensor layouts read the first. */
  outputNames: readonly string[];
}

export type DetectionLayout = Exclude<OutputLayout, 'embedding'>;

/** Symbolic dimensions (dynamic axes) are strings or -1 in model metadata. */
export type MetadataShape = ReadonlyArray<number | string>;

export function decodeDetections(
  layout: DetectionLayout,
  outputs: OutputTensors,
  batchIndex: number,
  options: DecodeOptions,
): Candidate[] {
  switch (layout) {
    case 'yolov8':
      return decodeYolov8(firstOutput(outputs, options), batchIndex, options);
    case 'yolov5':
      return decodeAnchorRows(firstOutput(outputs, options), batchIndex, options, false);
    case 'yolox':
      return decodeAnchorRows(firstOutput(outputs, options), batchIndex, options, true);
    case 'nanodet':
      return decodeNanodet(outputs, batchIndex, options);
  }
}

/** Grid cells of every stride, in the order grid layouts concatenate them. */
export function gridCellCount(inputWidth: number, inputHeight: number, strides: readonly number[]): number {
  let total = 0;
  for (const stride of strides) total += Math.ceil(inputWidth / stride) * Math.ceil(inputHeight / stride);
  return total;
}

/**
 * Start-up check of the model's declared output shapes against the config; returns a reason
 * string when they cannot belong together, else undefined. Symbolic dimensions pass.
 */
export function outputShapeProblem(
  layout: DetectionLayout,
  outputs: ReadonlyArray<{ name: string; shape: MetadataShape | undefined }>,
  options: DecodeOptions,
): string | undefined {
  const matches = (shape: MetadataShape | undefined, expected: ReadonlyArray<number | undefined>) =>
    shape === undefined ||
    (shape.length === expected.length &&
      shape.every((dim, index) => typeof dim !== 'number' || dim < 0 || expected[index] === undefined || dim === expected[index]));
  const describe = (shape: MetadataShape | undefined) => JSON.stringify(shape ?? 'unknown');
  const first = outputs[0];
  if (first === undefined) return 'the model has no outputs';
  const nc = options.classCount;
  switch (layout) {
    case 'yolov8':
      return matches(first.shape, [undefined, 4 + nc, undefined]) || matches(first.shape, [undefined, undefined, 4 + nc])
        ? undefined
        : `yolov8 output ${first.name} ${describe(first.shape)} is not [batch, 4+${nc}, N]`;
    case 'yolov5':
      return matches(first.shape, [undefined, undefined, 5 + nc])
        ? undefined
        : `yolov5 output ${first.name} ${describe(first.shape)} is not [batch, N, 5+${nc}]`;
    case 'yolox': {
      const cells = gridCellCount(options.inputWidth, options.inputHeight, options.strides);
      return matches(first.shape, [undefined, cells, 5 + nc])
        ? undefined
        : `yolox output ${first.name} ${describe(first.shape)} is not [batch, ${cells}, 5+${nc}] (strides ${options.strides.join('/')})`;
    }
    case 'nanodet': {
      for (const stride of options.strides) {
        const cells = Math.ceil(options.inputWidth / stride) * Math.ceil(options.inputHeight / stride);
        const cls = outputs.find((output) => output.name === `cls_pred_stride_${stride}`);
        const dis = outputs.find((output) => output.name === `dis_pred_stride_${stride}`);
        if (cls === undefined || dis === undefined) return `nanodet outputs cls_pred_stride_${stride} / dis_pred_stride_${stride} are missing`;
        if (!matches(cls.shape, [undefined, cells, nc])) return `nanodet output ${cls.name} ${describe(cls.shape)} is not [batch, ${cells}, ${nc}]`;
        const bins = dis.shape?.[2];
        if (!matches(dis.shape, [undefined, cells, undefined]) || (typeof bins === 'number' && (bins <= 0 || bins % 4 !== 0))) {
          return `nanodet output ${dis.name} ${describe(dis.shape)} is not [batch, ${cells}, 4*bins]`;
        }
      }
      return undefined;
    }
  }
}

function firstOutput(outputs: OutputTensors, options: DecodeOptions): OutputTensor {
  const name = options.outputNames[0];
  const tensor = name === undefined ? undefined : outputs[name];
  if (tensor === undefined) throw new PaddockError('INFERENCE', `detector output ${name ?? '(none)'} is missing`);
  return tensor;
}

function shapeError(layout: string, dims: readonly number[], expected: string): PaddockError {
  return new PaddockError('INFERENCE', `${layout} output has shape [${dims.join(', ')}], expected ${expected}`);
}

/** Ultralytics YOLOv8/YOLO11: [B, 4+nc, N] (or transposed [B, N, 4+nc]), pixel cx,cy,w,h, no objectness. */
function decodeYolov8(output: OutputTensor, batchIndex: number, options: DecodeOptions): Candidate[] {
  const { dims, data } = output;
  const channels = 4 + options.classCount;
  if (dims.length !== 3) throw shapeError('yolov8', dims, `[batch, ${channels}, N]`);
  const channelFirst = dims[1] === channels;
  if (!channelFirst && dims[2] !== channels) throw shapeError('yolov8', dims, `[batch, ${channels}, N]`);
  const anchors = (channelFirst ? dims[2] : dims[1]) as number;
  const base = batchIndex * channels * anchors;
  // value of channel c at anchor i
  const channelStep = channelFirst ? anchors : 1;
  const anchorStep = channelFirst ? 1 : channels;
  const candidates: Candidate[] = [];
  for (let i = 0; i < anchors; i += 1) {
    const at = base + i * anchorStep;
    let best = -1;
    let bestScore = options.scoreThreshold;
    for (const classId of options.horseClassIds) {
      const score = data[at + (4 + classId) * channelStep] as number;
      if (score >= bestScore) {
        bestScore = score;
        best = classId;
      }
    }
    if (best < 0) continue;
    const cx = data[at] as number;
    const cy = data[at + channelStep] as number;
    const w = data[at + 2 * channelStep] as number;
    const h = data[at + 3 * channelStep] as number;
    candidates.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score: bestScore, classId: best });
  }
  return candidates;
}

/**
 * Rows of [cx, cy, w, h, obj, cls...] with score obj*cls: YOLOv5 (pixel boxes) and YOLOX raw
 * grid output (cx = (o0 + gx) * stride, w = exp(o2) * stride; strides concatenated, row-major).
 */
function decodeAnchorRows(output: OutputTensor, batchIndex: number, options: DecodeOptions, grid: boolean): Candidate[] {
  const { dims, data } = output;
  const layout = grid ? 'yolox' : 'yolov5';
  const channels = 5 + options.classCount;
  if (dims.length !== 3 || dims[2] !== channels) throw shapeError(layout, dims, `[batch, N, ${channels}]`);
  const anchors = dims[1] as number;
  if (grid) {
    const cells = gridCellCount(options.inputWidth, options.inputHeight, options.strides);
    if (cells !== anchors) throw shapeError(layout, dims, `[batch, ${cells}, ${channels}]`);
  }
  const base = batchIndex * anchors * channels;
  const candidates: Candidate[] = [];
  let strideIndex = 0;
  let stride = options.strides[0] ?? 1;
  let gridWidth = Math.ceil(options.inputWidth / stride);
  let levelStart = 0;
  let levelEnd = grid ? gridWidth * Math.ceil(options.inputHeight / stride) : anchors;
  for (let i = 0; i < anchors; i += 1) {
    while (grid && i >= levelEnd) {
      strideIndex += 1;
      stride = options.strides[strideIndex] ?? 1;
      gridWidth = Math.ceil(options.inputWidth / stride);
      levelStart = levelEnd;
      levelEnd += gridWidth * Math.ceil(options.inputHeight / stride);
    }
    const at = base + i * channels;
    const objectness = data[at + 4] as number;
    if (objectness < options.scoreThreshold) continue;
    let best = -1;
    let bestScore = options.scoreThreshold;
    for (const classId of options.horseClassIds) {
      const score = objectness * (data[at + 5 + classId] as number);
      if (score >= bestScore) {
        bestScore = score;
        best = classId;
      }
    }
    if (best < 0) continue;
    let cx = data[at] as number;
    let cy = data[at + 1] as number;
    let w = data[at + 2] as number;
    let h = data[at + 3] as number;
    if (grid) {
      const cell = i - levelStart;
      cx = (cx + (cell % gridWidth)) * stride;
      cy = (cy + Math.floor(cell / gridWidth)) * stride;
      w = Math.exp(w) * stride;
      h = Math.exp(h) * stride;
    }
    candidates.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score: bestScore, classId: best });
  }
  return candidates;
}

/**
 * NanoDet (GFL head): per stride, cls_pred [B, cells, nc] (sigmoid applied) and dis_pred
 * [B, cells, 4*bins]; each side's distance is the softmax expectation over its bins × stride,
 * from the cell centre (gx*stride + (stride-1)/2).
 */
function decodeNanodet(outputs: OutputTensors, batchIndex: number, options: DecodeOptions): Candidate[] {
  const candidates: Candidate[] = [];
  const nc = options.classCount;
  for (const stride of options.strides) {
    const cls = outputs[`cls_pred_stride_${stride}`];
    const dis = outputs[`dis_pred_stride_${stride}`];
    if (cls === undefined || dis === undefined) {
      throw new PaddockError('INFERENCE', `nanodet outputs for stride ${stride} are missing`);
    }
    const gridWidth = Math.ceil(options.inputWidth / stride);
    const cells = gridWidth * Math.ceil(options.inputHeight / stride);
    if (cls.dims[1] !== cells || cls.dims[2] !== nc) throw shapeError('nanodet', cls.dims, `[batch, ${cells}, ${nc}]`);
    const sides = dis.dims[2] as number;
    if (dis.dims[1] !== cells || sides % 4 !== 0) throw shapeError('nanodet', dis.dims, `[batch, ${cells}, 4*bins]`);
    const bins = sides / 4;
    const clsBase = batchIndex * cells * nc;
    const disBase = batchIndex * cells * sides;
    for (let cell = 0; cell < cells; cell += 1) {
      let best = -1;
      let bestScore = options.scoreThreshold;
      for (const classId of options.horseClassIds) {
        const score = cls.data[clsBase + cell * nc + classId] as number;
        if (score >= bestScore) {
          bestScore = score;
          best = classId;
        }
      }
      if (best < 0) continue;
      const centreX = (cell % gridWidth) * stride + 0.5 * (stride - 1);
      const centreY = Math.floor(cell / gridWidth) * stride + 0.5 * (stride - 1);
      const at = disBase + cell * sides;
      const left = expectedBin(dis.data, at, bins) * stride;
      const top = expectedBin(dis.data, at + bins, bins) * stride;
      const right = expectedBin(dis.data, at + 2 * bins, bins) * stride;
      const bottom = expectedBin(dis.data, at + 3 * bins, bins) * stride;
      candidates.push({ x1: centreX - left, y1: centreY - top, x2: centreX + right, y2: centreY + bottom, score: bestScore, classId: best });
    }
  }
  return candidates;
}

/** Σ i·softmax(logits)_i over `bins` logits starting at `at`. */
function expectedBin(data: Float32Array, at: number, bins: number): number {
  let max = -Infinity;
  for (let i = 0; i < bins; i += 1) max = Math.max(max, data[at + i] as number);
  let sum = 0;
  let weighted = 0;
  for (let i = 0; i < bins; i += 1) {
    const e = Math.exp((data[at + i] as number) - max);
    sum += e;
    weighted += i * e;
  }
  return weighted / sum;
}
