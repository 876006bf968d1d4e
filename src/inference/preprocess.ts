/**
 * Pre-processing: RGB24 frame (or a region of it) → resized, normalised model input, written
 * straight into a reused Float32Array. The resize is an anti-aliased linear (triangle) filter,
 * widened when shrinking, as PIL does: with it YOLOX-nano reproduces PROVENANCE's horses.jpg
 * scores to ±0.003. OpenCV-style 4-tap bilinear loses the weakest horse there, and sharp's
 * linear kernel, though about 3 ms faster per 640x360 frame (bench/inference.bench.ts), moves
 * the grey horse's score by 0.05 and its box by 4 px.
 */
import { PaddockError } from '../errors/index.ts';
import type { Box } from '../tracking/index.ts';
import type { InputSpec } from './model-config.ts';

/** A frame as src/video produces it: packed RGB24, row-major, no row padding. */
export interface RgbImage {
  width: number;
  height: number;
  data: Buffer | Uint8Array;
}

/** An integer pixel rectangle of a frame. */
export interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Where a region lands inside the model input: resized to resizedW×resizedH at (offsetX, offsetY). */
export interface Placement {
  resizedWidth: number;
  resizedHeight: number;
  offsetX: number;
  offsetY: number;
  /** Region pixels per model-input pixel along each axis (inverse of the resize). */
  unscaleX: number;
  unscaleY: number;
  /** Top-left of the region in frame pixels. */
  originX: number;
  originY: number;
}

export function assertRgbImage(image: RgbImage): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new PaddockError('INFERENCE', `frame size ${width}x${height} is not a positive integer size`);
  }
  if (data.length < width * height * 3) {
    throw new PaddockError('INFERENCE', `frame ${width}x${height} needs ${width * height * 3} RGB24 bytes, got ${data.length}`);
  }
}

export function wholeFrame(image: RgbImage): Region {
  return { x: 0, y: 0, w: image.width, h: image.height };
}

/**
 * Letterbox (YOLOX rule: r = min(H_in/h, W_in/w), size floor(w*r) x floor(h*r), same floats
 * as the Python reference) or stretch of a region into the model input.
 */
export function computePlacement(region: Region, input: InputSpec): Placement {
  if (input.resize === 'stretch') {
    return {
      resizedWidth: input.width,
      resizedHeight: input.height,
      offsetX: 0,
      offsetY: 0,
      unscaleX: region.w / input.width,
      unscaleY: region.h / input.height,
      originX: region.x,
      originY: region.y,
    };
  }
  const r = Math.min(input.height / region.h, input.width / region.w);
  const resizedWidth = Math.max(1, Math.min(input.width, Math.floor(region.w * r)));
  const resizedHeight = Math.max(1, Math.min(input.height, Math.floor(region.h * r)));
  const centred = input.letterbox.placement === 'center';
  return {
    resizedWidth,
    resizedHeight,
    offsetX: centred ? Math.floor((input.width - resizedWidth) / 2) : 0,
    offsetY: centred ? Math.floor((input.height - resizedHeight) / 2) : 0,
    unscaleX: region.w / resizedWidth,
    unscaleY: region.h / resizedHeight,
    originX: region.x,
    originY: region.y,
  };
}

/** Model-input pixel coordinates (x1,y1,x2,y2) → frame box, clipped to the frame. */
export function modelToFrameBox(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  placement: Placement,
  frameWidth: number,
  frameHeight: number,
): Box {
  const left = clamp((x1 - placement.offsetX) * placement.unscaleX + placement.originX, 0, frameWidth);
  const top = clamp((y1 - placement.offsetY) * placement.unscaleY + placement.originY, 0, frameHeight);
  const right = clamp((x2 - placement.offsetX) * placement.unscaleX + placement.originX, 0, frameWidth);
  const bottom = clamp((y2 - placement.offsetY) * placement.unscaleY + placement.originY, 0, frameHeight);
  return { x: left, y: top, w: Math.max(0, right - left), h: Math.max(0, bottom - top) };
}

/** Frame box → model-input coordinates [x1, y1, x2, y2] (the inverse of modelToFrameBox, unclipped). */
export function frameToModelBox(box: Box, placement: Placement): [number, number, number, number] {
  const x1 = (box.x - placement.originX) / placement.unscaleX + placement.offsetX;
  const y1 = (box.y - placement.originY) / placement.unscaleY + placement.offsetY;
  const x2 = (box.x + box.w - placement.originX) / placement.unscaleX + placement.offsetX;
  const y2 = (box.y + box.h - placement.originY) / placement.unscaleY + placement.offsetY;
  return [x1, y1, x2, y2];
}

/** The integer crop of a box grown by `margin` (fraction of its size) on every side, clipped to the frame. */
export function cropRegion(box: Box, margin: number, frameWidth: number, frameHeight: number): Region {
  const mx = box.w * margin;
  const my = box.h * margin;
  const x0 = clamp(Math.floor(box.x - mx), 0, frameWidth - 1);
  const y0 = clamp(Math.floor(box.y - my), 0, frameHeight - 1);
  const x1 = clamp(Math.ceil(box.x + box.w + mx), x0 + 1, frameWidth);
  const y1 = clamp(Math.ceil(box.y + box.h + my), y0 + 1, frameHeight);
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

function clamp(value: number, low: number, high: number): number {
  return value < low ? low : value > high ? high : value;
}

/**
 * Separable triangle-filter ("linear") resampling weights along one axis, widened by the
 * shrink factor when downscaling so that every source pixel contributes (the anti-aliased
 * linear resize of PIL). Upscaling is plain bilinear with half-pixel centres.
 */
class AxisResampler {
  start = new Int32Array(0);
  count = new Int32Array(0);
  weights = new Float64Array(0);
  taps = 0;

  compute(origin: number, sourceLength: number, destinationLength: number): void {
    if (sourceLength === destinationLength) {
      this.identity(origin, sourceLength);
      return;
    }
    const scale = sourceLength / destinationLength;
    const filterScale = Math.max(scale, 1);
    const support = filterScale;
    this.taps = Math.ceil(support) * 2 + 1;
    if (this.start.length < destinationLength) {
      this.start = new Int32Array(destinationLength);
      this.count = new Int32Array(destinationLength);
    }
    if (this.weights.length < destinationLength * this.taps) this.weights = new Float64Array(destinationLength * this.taps);
    for (let d = 0; d < destinationLength; d += 1) {
      const centre = (d + 0.5) * scale;
      const first = Math.max(0, Math.floor(centre - support + 0.5));
      const end = Math.min(sourceLength, Math.floor(centre + support + 0.5));
      const n = Math.min(this.taps, Math.max(1, end - first));
      const at = d * this.taps;
      let sum = 0;
      for (let k = 0; k < n; k += 1) {
        const w = Math.max(0, 1 - Math.abs((first + k - centre + 0.5) / filterScale));
        this.weights[at + k] = w;
        sum += w;
      }
      if (sum > 0) for (let k = 0; k < n; k += 1) this.weights[at + k] = (this.weights[at + k] as number) / sum;
      else this.weights[at] = 1;
      this.start[d] = origin + Math.min(first, sourceLength - 1);
      this.count[d] = sum > 0 ? n : 1;
    }
  }

  private identity(origin: number, length: number): void {
    this.taps = 1;
    if (this.start.length < length) {
      this.start = new Int32Array(length);
      this.count = new Int32Array(length);
    }
    if (this.weights.length < length) this.weights = new Float64Array(length);
    for (let d = 0; d < length; d += 1) {
      this.start[d] = origin + d;
      this.count[d] = 1;
      this.weights[d] = 1;
    }
  }
}

/**
 * Writes frames into one model input tensor (batch-major): resize, colour order,
 * scale/mean/std, NCHW or NHWC, letterbox padding. Reuses its tables and scratch rows.
 * Not re-entrant: one writer per tensor buffer.
 */
export class TensorWriter {
  readonly input: InputSpec;
  /** Floats per batch item. */
  readonly itemSize: number;
  private readonly multiply = new Float32Array(3);
  private readonly add = new Float32Array(3);
  private readonly fillValues = new Float32Array(3);
  private readonly sourceChannel: Int32Array;
  private readonly horizontal = new AxisResampler();
  private readonly vertical = new AxisResampler();
  /** Horizontally resampled region rows: region.h × resizedWidth × 3, source channel order. */
  private rows = new Float32Array(0);

  constructor(input: InputSpec) {
    this.input = input;
    this.itemSize = 3 * input.width * input.height;
    this.sourceChannel = Int32Array.from(input.colorOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0]);
    for (let c = 0; c < 3; c += 1) {
      const std = input.std[c] ?? 1;
      const multiply = input.scale / std;
      const add = -(input.mean[c] ?? 0) / std;
      this.multiply[c] = multiply;
      this.add[c] = add;
      this.fillValues[c] = input.letterbox.fill * multiply + add;
    }
  }

  /** Resizes `region` of `image` into batch item `batchIndex` of `target`, padding per the placement. */
  write(image: RgbImage, region: Region, target: Float32Array, batchIndex: number): Placement {
    const placement = computePlacement(region, this.input);
    const base = batchIndex * this.itemSize;
    if (placement.resizedWidth < this.input.width || placement.resizedHeight < this.input.height) {
      this.fillPadding(target, base, placement);
    }
    this.horizontal.compute(region.x, region.w, placement.resizedWidth);
    this.vertical.compute(0, region.h, placement.resizedHeight);
    this.resampleRows(image, region, placement.resizedWidth);
    this.resampleColumns(target, base, placement);
    return placement;
  }

  private resampleRows(image: RgbImage, region: Region, width: number): void {
    const needed = region.h * width * 3;
    if (this.rows.length < needed) this.rows = new Float32Array(needed);
    const { rows } = this;
    const { data } = image;
    const rowBytes = image.width * 3;
    const { start, count, weights, taps } = this.horizontal;
    for (let y = 0; y < region.h; y += 1) {
      const sourceRow = (region.y + y) * rowBytes;
      let out = y * width * 3;
      for (let dx = 0; dx < width; dx += 1, out += 3) {
        let index = sourceRow + (start[dx] as number) * 3;
        const n = count[dx] as number;
        let at = dx * taps;
        let r = 0;
        let g = 0;
        let b = 0;
        for (let k = 0; k < n; k += 1, index += 3, at += 1) {
          const w = weights[at] as number;
          r += (data[index] as number) * w;
          g += (data[index + 1] as number) * w;
          b += (data[index + 2] as number) * w;
        }
        rows[out] = r;
        rows[out + 1] = g;
        rows[out + 2] = b;
      }
    }
  }

  private resampleColumns(target: Float32Array, base: number, placement: Placement): void {
    const { rows } = this;
    const width = placement.resizedWidth;
    const rowFloats = width * 3;
    const inputWidth = this.input.width;
    const planar = this.input.layout === 'NCHW';
    const plane = inputWidth * this.input.height;
    const channelStep = planar ? plane : 1;
    const pixelStep = planar ? 1 : 3;
    const [s0, s1, s2] = this.sourceChannel as unknown as [number, number, number];
    const [m0, m1, m2] = this.multiply as unknown as [number, number, number];
    const [a0, a1, a2] = this.add as unknown as [number, number, number];
    const { start, count, weights, taps } = this.vertical;
    for (let dy = 0; dy < placement.resizedHeight; dy += 1) {
      const firstRow = (start[dy] as number) * rowFloats;
      const n = count[dy] as number;
      const tapBase = dy * taps;
      let out = base + ((placement.offsetY + dy) * inputWidth + placement.offsetX) * pixelStep;
      for (let dx = 0, column = 0; dx < width; dx += 1, column += 3, out += pixelStep) {
        let c0 = 0;
        let c1 = 0;
        let c2 = 0;
        let index = firstRow + column;
        for (let k = 0; k < n; k += 1, index += rowFloats) {
          const w = weights[tapBase + k] as number;
          c0 += (rows[index + s0] as number) * w;
          c1 += (rows[index + s1] as number) * w;
          c2 += (rows[index + s2] as number) * w;
        }
        target[out] = c0 * m0 + a0;
        target[out + channelStep] = c1 * m1 + a1;
        target[out + 2 * channelStep] = c2 * m2 + a2;
      }
    }
  }

  private fillPadding(target: Float32Array, base: number, placement: Placement): void {
    const { width, height } = this.input;
    const left = placement.offsetX;
    const right = placement.offsetX + placement.resizedWidth;
    const top = placement.offsetY;
    const bottom = placement.offsetY + placement.resizedHeight;
    if (this.input.layout === 'NCHW') {
      const plane = width * height;
      for (let c = 0; c < 3; c += 1) {
        const value = this.fillValues[c] as number;
        const planeBase = base + c * plane;
        target.fill(value, planeBase, planeBase + top * width);
        target.fill(value, planeBase + bottom * width, planeBase + plane);
        for (let y = top; y < bottom; y += 1) {
          target.fill(value, planeBase + y * width, planeBase + y * width + left);
          target.fill(value, planeBase + y * width + right, planeBase + (y + 1) * width);
        }
      }
      return;
    }
    const [f0, f1, f2] = this.fillValues as unknown as [number, number, number];
    for (let y = 0; y < height; y += 1) {
      const rowInside = y >= top && y < bottom;
      for (let x = 0; x < width; x += 1) {
        if (rowInside && x === left) {
          x = right - 1;
          continue;
        }
        const at = base + (y * width + x) * 3;
        target[at] = f0;
        target[at + 1] = f1;
        target[at + 2] = f2;
      }
    }
  }
}
