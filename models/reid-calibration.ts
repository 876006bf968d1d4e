/**
 * Calibration of the project embedder: the mean feature vector of horse crops from rendered
 * synthetic scenes, subtracted before the projection so cosine similarity spreads over [-1, 1].
 * Deterministic: fixed seeds, one onnxruntime thread, values rounded.
 */
import * as ort from 'onnxruntime-node';
import { quietOrtLogging } from '../src/inference/ort-env.ts';
import type { Box } from '../src/tracking/types.ts';
import { SceneRenderer } from '../src/synth/render.ts';
import { createScene } from '../src/synth/scene.ts';
import { MAX_HORSES } from '../src/synth/coats.ts';
import { buildReidFeatureModel, IMAGENET_MEAN, IMAGENET_STD, REID_FEATURE_SIZE, REID_INPUT_HEIGHT, REID_INPUT_WIDTH } from './reid.ts';

const CALIBRATION_SEEDS = [101, 102];
const FRAME_STEP = 20;
const MIN_VISIBILITY = 0.9;

/**
 * Writes one crop, stretched (bilinear) to 128x256, RGB, /255 then ImageNet mean/std, NCHW, into
 * `target` at element offset `offset`.
 */
export function writeReidCrop(rgb: Uint8Array, width: number, height: number, box: Box, target: Float32Array, offset: number): void {
  const plane = REID_INPUT_WIDTH * REID_INPUT_HEIGHT;
  for (let y = 0; y < REID_INPUT_HEIGHT; y++) {
    const sy = Math.min(height - 1, Math.max(0, box.y + ((y + 0.5) * box.h) / REID_INPUT_HEIGHT - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(height - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < REID_INPUT_WIDTH; x++) {
      const sx = Math.min(width - 1, Math.max(0, box.x + ((x + 0.5) * box.w) / REID_INPUT_WIDTH - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(width - 1, x0 + 1);
      const fx = sx - x0;
      for (let c = 0; c < 3; c++) {
        const p00 = rgb[(y0 * width + x0) * 3 + c] as number;
        const p01 = rgb[(y0 * width + x1) * 3 + c] as number;
        const p10 = rgb[(y1 * width + x0) * 3 + c] as number;
        const p11 = rgb[(y1 * width + x1) * 3 + c] as number;
        const value = (p00 * (1 - fx) + p01 * fx) * (1 - fy) + (p10 * (1 - fx) + p11 * fx) * fy;
        target[offset + c * plane + y * REID_INPUT_WIDTH + x] = (value / 255 - (IMAGENET_MEAN[c] as number)) / (IMAGENET_STD[c] as number);
      }
    }
  }
}

/** Crops of clearly visible horses from rendered (not encoded) calibration scenes, as one batch. */
function calibrationBatch(): { data: Float32Array; count: number } {
  const size = 3 * REID_INPUT_WIDTH * REID_INPUT_HEIGHT;
  const crops: Float32Array[] = [];
  for (const seed of CALIBRATION_SEEDS) {
    const scene = createScene({ seed, horses: MAX_HORSES, chunks: 1, secondsPerChunk: 12 });
    const renderer = new SceneRenderer(scene);
    for (let frame = 0; frame < scene.totalFrames; frame += FRAME_STEP) {
      const { rgb, truth } = renderer.renderFrame(frame);
      for (const horse of truth.horses) {
        if (horse.visibility < MIN_VISIBILITY) continue;
        const crop = new Float32Array(size);
        writeReidCrop(rgb, scene.options.width, scene.options.height, horse.box, crop, 0);
        crops.push(crop);
      }
    }
  }
  const data = new Float32Array(crops.length * size);
  crops.forEach((crop, index) => data.set(crop, index * size));
  return { data, count: crops.length };
}

/** The centring vector: mean calibration features, rounded to 1e-5 so builds are byte-identical. */
export async function computeReidCentre(): Promise<Float32Array> {
  quietOrtLogging();
  const session = await ort.InferenceSession.create(buildReidFeatureModel(), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const batch = calibrationBatch();
    const input = new ort.Tensor('float32', batch.data, [batch.count, 3, REID_INPUT_HEIGHT, REID_INPUT_WIDTH]);
    const result = await session.run({ input });
    const features = result.features?.data as Float32Array;
    const centre = new Float32Array(REID_FEATURE_SIZE);
    for (let row = 0; row < batch.count; row++) {
      for (let column = 0; column < REID_FEATURE_SIZE; column++) {
        centre[column] = (centre[column] as number) + (features[row * REID_FEATURE_SIZE + column] as number) / batch.count;
      }
    }
    return centre.map((value) => Math.round(value * 1e5) / 1e5);
  } finally {
    await session.release();
  }
}
