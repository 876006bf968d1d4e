/**
 * Model configs: the JSON file that says how to feed a model and how to read its output.
 *
 * Normalised input value = (pixel * scale - mean[c]) / std[c], with pixel in 0..255 and
 * channel c in the stated colour order. Unknown keys are rejected so a typo never silently
 * falls back to a default.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { MODEL_CONFIG_DIR } from '../config/index.ts';
import { PaddockError } from '../errors/index.ts';
import { COCO_CLASSES } from './coco-classes.ts';

const triple = z.tuple([z.number(), z.number(), z.number()]);
const positiveTriple = z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]);

const letterboxSchema = z.strictObject({
  placement: z.enum(['center', 'top-left']).default('center'),
  fill: z.number().min(0).max(255).default(114),
});

const inputSchema = z.strictObject({
  /** Input tensor name; the model's first input when left out. */
  name: z.string().min(1).optional(),
  layout: z.enum(['NCHW', 'NHWC']),
  width: z.number().int().positive().max(8192),
  height: z.number().int().positive().max(8192),
  colorOrder: z.enum(['RGB', 'BGR']),
  scale: z.number().positive().default(1),
  mean: triple.default([0, 0, 0]),
  std: positiveTriple.default([1, 1, 1]),
  resize: z.enum(['letterbox', 'stretch']),
  letterbox: letterboxSchema.default({ placement: 'center', fill: 114 }),
});

const outputSchema = z.strictObject({
  layout: z.enum(['yolov8', 'yolov5', 'yolox', 'nanodet', 'embedding']),
  /** Feature-map strides of grid layouts (yolox, nanodet); default 8, 16, 32. */
  strides: z.array(z.number().int().positive()).min(1).optional(),
});

const unit = z.number().min(0).max(1);
const similarity = z.number().min(-1).max(1);
const distance = z.number().min(0).max(2);

/**
 * Tracker settings that depend on the model (score scales differ between detectors, similarity
 * scales between embedders): `paddock calibrate` derives them from a labelled clip. Any left out
 * keep the tracker's defaults (src/tracking/options.ts).
 */
const trackingSchema = z.strictObject({
  highScore: unit.optional(),
  lowScore: unit.optional(),
  newTrackScore: unit.optional(),
  bankMinScore: unit.optional(),
  occludedReportMinScore: unit.optional(),
  occludedReportMinAreaRatio: unit.optional(),
  completeOccluded: z.boolean().optional(),
  continuousTracks: z.boolean().optional(),
  newHorseMinTrackS: z.number().min(0).optional(),
  newHorseMaxWaitS: z.number().min(0).optional(),
  maxAppearanceDistance: distance.optional(),
  maxOverlapAppearanceDistance: distance.optional(),
  trustedAppearanceSimilarity: similarity.optional(),
  refindSimilarity: similarity.optional(),
  reidSimilarity: similarity.optional(),
  reidRefreshFrames: z.int().min(0).optional(),
  interpolateMaxGapS: z.number().min(0).optional(),
});

export type ModelTrackingSettings = z.infer<typeof trackingSchema>;

/** How a reid model's embedding is fused with the coat descriptor (src/appearance). */
const appearanceSchema = z.strictObject({
  /** Share of the coat descriptor in the fused cosine (0: the deep embedding alone). */
  coatWeight: unit.default(0),
});

const modelConfigSchema = z
  .strictObject({
    name: z.string().min(1),
    task: z.enum(['detector', 'reid']),
    input: inputSchema,
    output: outputSchema,
    /** Class names in model output order, or "coco" for the 80 darknet coco.names classes. */
    classes: z.union([z.literal('coco'), z.array(z.string().min(1)).min(1)]).optional(),
    /** Classes that count as a horse; default: the only class, else the class named "horse". */
    horseClassIds: z.array(z.number().int().min(0)).min(1).optional(),
    scoreThreshold: z.number().gt(0).max(1).default(0.3),
    nmsIouThreshold: z.number().gt(0).max(1).default(0.45),
    tracking: trackingSchema.default({}),
    appearance: appearanceSchema.default({ coatWeight: 0 }),
  })
  .superRefine((config, context) => {
    const embedding = config.output.layout === 'embedding';
    if (config.task === 'reid' && !embedding) {
      context.addIssue({ code: 'custom', path: ['output', 'layout'], message: 'a reid model needs output layout "embedding"' });
    }
    if (config.task === 'detector' && embedding) {
      context.addIssue({ code: 'custom', path: ['output', 'layout'], message: 'a detector needs a detection layout, not "embedding"' });
    }
    if (config.task === 'detector' && config.classes === undefined) {
      context.addIssue({ code: 'custom', path: ['classes'], message: 'a detector needs its class names' });
    }
  });

export type ModelConfigFile = z.input<typeof modelConfigSchema>;
export type OutputLayout = z.infer<typeof outputSchema>['layout'];

export interface InputSpec {
  name: string | undefined;
  layout: 'NCHW' | 'NHWC';
  width: number;
  height: number;
  colorOrder: 'RGB' | 'BGR';
  scale: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  resize: 'letterbox' | 'stretch';
  letterbox: { placement: 'center' | 'top-left'; fill: number };
}

/** A validated config with every default filled in and the class list resolved. */
export interface ModelConfig {
  name: string;
  task: 'detector' | 'reid';
  input: InputSpec;
  output: { layout: OutputLayout; strides: number[] };
  classes: string[];
  horseClassIds: number[];
  scoreThreshold: number;
  nmsIouThreshold: number;
  tracking: ModelTrackingSettings;
  appearance: { coatWeight: number };
}

export const DEFAULT_STRIDES = [8, 16, 32] as const;

function invalid(source: string, message: string, cause?: unknown): PaddockError {
  return new PaddockError('MODEL_INVALID', `model config ${source}: ${message}`, { cause, details: { config: source } });
}

/** Validates an already-parsed config object; `source` names it in error messages. */
export function parseModelConfig(raw: unknown, source = 'model config'): ModelConfig {
  const parsed = modelConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : `${issue.path.join('.')}: `;
    throw invalid(source, `${where}${issue?.message ?? 'invalid'}`);
  }
  const config = parsed.data;
  const classes = config.classes === 'coco' ? [...COCO_CLASSES] : (config.classes ?? []);
  let horseClassIds = config.horseClassIds;
  if (horseClassIds === undefined && config.task === 'detector') {
    const horse = classes.indexOf('horse');
    if (classes.length === 1) horseClassIds = [0];
    else if (horse >= 0) horseClassIds = [horse];
    else throw invalid(source, 'horseClassIds: no class is named "horse"; list the horse class ids');
  }
  const outOfRange = (horseClassIds ?? []).find((id) => id >= classes.length);
  if (outOfRange !== undefined) {
    throw invalid(source, `horseClassIds: ${outOfRange} is not a class index (the model has ${classes.length} classes)`);
  }
  return {
    name: config.name,
    task: config.task,
    input: { ...config.input, name: config.input.name },
    output: { layout: config.output.layout, strides: config.output.strides ?? [...DEFAULT_STRIDES] },
    classes,
    horseClassIds: [...new Set(horseClassIds ?? [])],
    scoreThreshold: config.scoreThreshold,
    nmsIouThreshold: config.nmsIouThreshold,
    tracking: config.tracking,
    appearance: config.appearance,
  };
}

/** Reads and validates a config file: MODEL_MISSING when absent, MODEL_INVALID when unreadable or wrong. */
export async function loadModelConfig(configPath: string): Promise<ModelConfig> {
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'MODEL_MISSING' : 'MODEL_INVALID';
    throw new PaddockError(code, `model config ${configPath} cannot be read: ${(error as Error).message}`, {
      cause: error,
      details: { config: configPath },
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw invalid(configPath, `not valid JSON (${(error as Error).message})`, error);
  }
  return parseModelConfig(raw, configPath);
}

/** The config files tried for a model, in order (see CONTRACT: PADDOCK_*_CONFIG). */
export function modelConfigCandidates(modelPath: string, explicitConfigPath?: string, configDir = MODEL_CONFIG_DIR): string[] {
  if (explicitConfigPath !== undefined) return [path.resolve(explicitConfigPath)];
  const stem = path.basename(modelPath).replace(/\.onnx$/i, '');
  return [path.join(path.dirname(path.resolve(modelPath)), `${stem}.json`), path.join(configDir, `${stem}.json`)];
}

/**
 * The config that applies to a model: the explicit path, else `<model>.json` beside the model,
 * else `models/configs/<model>.json`. Throws MODEL_MISSING naming every path tried.
 */
export function resolveModelConfigPath(modelPath: string, explicitConfigPath?: string, configDir = MODEL_CONFIG_DIR): string {
  const candidates = modelConfigCandidates(modelPath, explicitConfigPath, configDir);
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) {
    throw new PaddockError('MODEL_MISSING', `no model config for ${modelPath}: tried ${candidates.join(', ')}`, {
      details: { model: modelPath, tried: candidates },
    });
  }
  return found;
}
