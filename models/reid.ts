/**
 * The project's own appearance embedder, written directly as an ONNX graph with the signature
 * of an OSNet export: input `input` ["batch",3,256,128] (RGB, /255, ImageNet mean/std), output
 * `output` ["batch", D], not normalised.
 *
 * Features (all ONNX ops on pixels):
 *  - soft colour assignment of every pixel to a fixed palette of coat colours (a 1x1 Conv whose
 *    logits are -|c - p|²/τ up to a per-pixel constant, then Softmax); grass bins are dropped;
 *  - that assignment pooled over a 4x4 grid, with mirrored columns averaged so a horse facing
 *    left or right looks the same (4 rows x inner/outer);
 *  - the global colour histogram;
 *  - local contrast per channel (spots, patches).
 * The feature vector is centred on the mean of calibration crops, then multiplied by a fixed
 * seeded random projection (cosine is kept roughly, as in a Johnson–Lindenstrauss projection).
 */
import { seededRandom } from '../src/synth/random.ts';
import { GraphBuilder } from './onnx-graph.ts';

export const REID_INPUT_NAME = 'input';
export const REID_OUTPUT_NAME = 'output';
export const REID_INPUT_WIDTH = 128;
export const REID_INPUT_HEIGHT = 256;
export const REID_EMBEDDING_SIZE = 128;
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** Palette in 0..255 RGB; the first GRASS_BINS entries are grass and carry no features. */
const PALETTE: ReadonlyArray<readonly [number, number, number]> = [
  [82, 140, 54],
  [60, 108, 40],
  [128, 70, 40],
  [178, 92, 44],
  [32, 30, 32],
  [238, 236, 230],
  [204, 204, 210],
  [155, 155, 163],
  [218, 180, 102],
  [196, 166, 112],
  [240, 226, 196],
  [162, 104, 104],
  [64, 48, 38],
  [226, 196, 140],
];
const GRASS_BINS = 2;
const DOWNSAMPLE = 2;
const TEMPERATURE = 0.012;
const GRID_ROWS = 4;
const GRID_COLUMNS = 4;
const WEIGHTS = { layout: 1, histogram: 2, contrast: 4 };
const PROJECTION_SEED = 20251126;
/** Opset 18: ReduceMean takes its axes as an input. */
const REID_OPSET = 18;

export const REID_FEATURE_SIZE = (PALETTE.length - GRASS_BINS) * (GRID_ROWS * 2 + 1) + 3;

/** Adds the feature extractor to a graph; returns a [batch, REID_FEATURE_SIZE] tensor name. */
function addFeatures(g: GraphBuilder, input: string): string {
  const bins = PALETTE.length;
  // Colour statistics do not need full resolution: work on a 2x2-averaged image (128x64).
  const rgb = g.op('AveragePool', [
    g.op('Add', [
      g.op('Mul', [input, g.constant(Float32Array.from(IMAGENET_STD), [1, 3, 1, 1])]),
      g.constant(Float32Array.from(IMAGENET_MEAN), [1, 3, 1, 1]),
    ]),
  ], { kernel_shape: [DOWNSAMPLE, DOWNSAMPLE], strides: [DOWNSAMPLE, DOWNSAMPLE] });
  const weights = new Float32Array(bins * 3);
  const bias = new Float32Array(bins);
  PALETTE.forEach((color, bin) => {
    let normSq = 0;
    color.forEach((value, channel) => {
      const unit = value / 255;
      weights[bin * 3 + channel] = (2 * unit) / TEMPERATURE;
      normSq += unit * unit;
    });
    bias[bin] = -normSq / TEMPERATURE;
  });
  const logits = g.op('Conv', [rgb, g.initializer('palette_weight', weights, [bins, 3, 1, 1]), g.initializer('palette_bias', bias, [bins])]);
  const assignment = g.op('Softmax', [logits], { axis: 1 });
  const coatBins = g.op('Slice', [assignment, g.int64s([GRASS_BINS]), g.int64s([bins]), g.int64s([1])]);
  const cellHeight = REID_INPUT_HEIGHT / DOWNSAMPLE / GRID_ROWS;
  const cellWidth = REID_INPUT_WIDTH / DOWNSAMPLE / GRID_COLUMNS;
  const grid = g.op('AveragePool', [coatBins], { kernel_shape: [cellHeight, cellWidth], strides: [cellHeight, cellWidth] });
  // Columns 0 and 3 are "outer", 1 and 2 "inner": mirroring the crop leaves both unchanged.
  const mirrorPairs = g.constant(Float32Array.from([0.5, 0, 0, 0.5, 0, 0.5, 0.5, 0]), [GRID_COLUMNS, 2]);
  const layout = g.op('Reshape', [g.op('MatMul', [grid, mirrorPairs]), g.int64s([0, -1])]);
  const histogram = g.op('ReduceMean', [grid, g.int64s([2, 3])], { keepdims: 0 });
  const blurred = g.op('AveragePool', [rgb], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], count_include_pad: 0 });
  const contrast = g.op('ReduceMean', [g.op('Abs', [g.op('Sub', [rgb, blurred])]), g.int64s([2, 3])], { keepdims: 0 });
  return g.op('Concat', [
    g.op('Mul', [layout, g.scalar(WEIGHTS.layout)]),
    g.op('Mul', [histogram, g.scalar(WEIGHTS.histogram)]),
    g.op('Mul', [contrast, g.scalar(WEIGHTS.contrast)]),
  ], { axis: 1 });
}

function declareInput(g: GraphBuilder): string {
  return g.input(REID_INPUT_NAME, ['batch', 3, REID_INPUT_HEIGHT, REID_INPUT_WIDTH]);
}

/** The feature extractor alone (output `features`), used to calibrate the centring vector. */
export function buildReidFeatureModel(): Uint8Array {
  const g = new GraphBuilder('paddock_reid_features');
  const features = addFeatures(g, declareInput(g));
  g.output(g.rename(features, 'features'), ['batch', REID_FEATURE_SIZE]);
  return g.toBytes(REID_OPSET);
}

/** A fixed Gaussian projection [features, D], scaled by 1/sqrt(D), from a seeded PRNG. */
export function reidProjection(): Float32Array {
  const random = seededRandom(PROJECTION_SEED);
  const values = new Float32Array(REID_FEATURE_SIZE * REID_EMBEDDING_SIZE);
  const scale = 1 / Math.sqrt(REID_EMBEDDING_SIZE);
  for (let index = 0; index < values.length; index++) {
    const u = Math.max(random.next(), 1e-12);
    const v = random.next();
    values[index] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v) * scale;
  }
  return values;
}

/** The embedder: features, minus `centre` (length REID_FEATURE_SIZE), times the projection. */
export function buildReidModel(centre: Float32Array): Uint8Array {
  if (centre.length !== REID_FEATURE_SIZE) throw new RangeError(`centre must hold ${REID_FEATURE_SIZE} values, got ${centre.length}`);
  const g = new GraphBuilder('paddock_reid');
  const features = addFeatures(g, declareInput(g));
  const centred = g.op('Sub', [features, g.initializer('feature_centre', centre, [1, REID_FEATURE_SIZE])]);
  const embedding = g.op('MatMul', [centred, g.initializer('projection', reidProjection(), [REID_FEATURE_SIZE, REID_EMBEDDING_SIZE])]);
  g.output(g.rename(embedding, REID_OUTPUT_NAME), ['batch', REID_EMBEDDING_SIZE]);
  return g.toBytes(REID_OPSET);
}
