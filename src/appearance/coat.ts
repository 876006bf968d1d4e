/**
 * The coat descriptor: a colour histogram of the middle of a horse's box, for the cue person
 * re-ID models miss — a black horse and a chestnut differ first of all in colour.
 *
 * Pixels are binned in HSV: chromatic pixels by hue (soft, between the two nearest of
 * HUE_BINS bins) and two saturation bands; weakly saturated or dark pixels by brightness alone
 * (black, dark, grey, white coats). Green and blue pixels (grass, water, sky) are background:
 * no horse is green, so they are skipped. The histogram's square root, L2-normalised, is the
 * descriptor: the cosine of two descriptors is their Bhattacharyya coefficient.
 *
 * Pure: reads packed RGB24 pixels, no I/O.
 */
import type { Box } from '../tracking/index.ts';

export const HUE_BINS = 12;
const SATURATION_BANDS = 2;
const BRIGHTNESS_BINS = 4;
export const COAT_DIMENSION = HUE_BINS * SATURATION_BANDS + BRIGHTNESS_BINS;

/** Below this saturation (or brightness) a pixel counts by brightness alone. */
const MIN_CHROMA_SATURATION = 0.25;
const MIN_CHROMA_VALUE = 0.15;
const HIGH_SATURATION = 0.55;
/** Hues (degrees) of vegetation, water and sky, never a coat. */
const BACKGROUND_HUE_FROM = 70;
const BACKGROUND_HUE_TO = 260;
/** The part of the box sampled: its middle, where the body is, away from legs and background. */
const INSET_X = 0.2;
const INSET_TOP = 0.2;
const INSET_BOTTOM = 0.35;
/** Samples per axis at most: the descriptor costs the same for a large box as for a small one. */
const MAX_SAMPLES_PER_AXIS = 32;

export interface RgbFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** The coat descriptor of `box` in `frame` (COAT_DIMENSION values, unit length; all zeros when nothing coat-like is inside). */
export function coatDescriptor(frame: RgbFrame, box: Box): Float32Array {
  const histogram = new Float64Array(COAT_DIMENSION);
  const x0 = clamp(Math.floor(box.x + INSET_X * box.w), 0, frame.width - 1);
  const x1 = clamp(Math.ceil(box.x + (1 - INSET_X) * box.w), x0 + 1, frame.width);
  const y0 = clamp(Math.floor(box.y + INSET_TOP * box.h), 0, frame.height - 1);
  const y1 = clamp(Math.ceil(box.y + (1 - INSET_BOTTOM) * box.h), y0 + 1, frame.height);
  const stepX = Math.max(1, (x1 - x0) / MAX_SAMPLES_PER_AXIS);
  const stepY = Math.max(1, (y1 - y0) / MAX_SAMPLES_PER_AXIS);
  for (let fy = y0; fy < y1; fy += stepY) {
    const row = Math.floor(fy) * frame.width;
    for (let fx = x0; fx < x1; fx += stepX) {
      const offset = (row + Math.floor(fx)) * 3;
      addPixel(histogram, frame.data[offset]! / 255, frame.data[offset + 1]! / 255, frame.data[offset + 2]! / 255);
    }
  }
  let sum = 0;
  for (let i = 0; i < COAT_DIMENSION; i += 1) sum += histogram[i]!;
  const descriptor = new Float32Array(COAT_DIMENSION);
  if (sum === 0) return descriptor;
  // sqrt of the normalised histogram has unit L2 norm by construction.
  for (let i = 0; i < COAT_DIMENSION; i += 1) descriptor[i] = Math.sqrt(histogram[i]! / sum);
  return descriptor;
}

function addPixel(histogram: Float64Array, r: number, g: number, b: number): void {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const saturation = max === 0 ? 0 : (max - min) / max;
  if (saturation < MIN_CHROMA_SATURATION || max < MIN_CHROMA_VALUE) {
    const bin = Math.min(BRIGHTNESS_BINS - 1, Math.floor(max * BRIGHTNESS_BINS));
    histogram[HUE_BINS * SATURATION_BANDS + bin]! += 1;
    return;
  }
  const hue = hueDegrees(r, g, b, max, max - min);
  if (hue >= BACKGROUND_HUE_FROM && hue <= BACKGROUND_HUE_TO) return;
  const band = saturation >= HIGH_SATURATION ? 1 : 0;
  // Soft binning: the pixel is shared between the two nearest hue bins (bin centres at (k + ½)·width).
  const position = hue / (360 / HUE_BINS) - 0.5;
  const lower = Math.floor(position);
  const upperWeight = position - lower;
  const lowerBin = (lower + HUE_BINS) % HUE_BINS;
  const upperBin = (lower + 1) % HUE_BINS;
  histogram[band * HUE_BINS + lowerBin]! += 1 - upperWeight;
  histogram[band * HUE_BINS + upperBin]! += upperWeight;
}

function hueDegrees(r: number, g: number, b: number, max: number, chroma: number): number {
  let hue: number;
  if (max === r) hue = ((g - b) / chroma) % 6;
  else if (max === g) hue = (b - r) / chroma + 2;
  else hue = (r - g) / chroma + 4;
  hue *= 60;
  return hue < 0 ? hue + 360 : hue;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
