/**
 * The appearance (ReID) embedder: crops of a frame's detections, grown by a margin and
 * stretched to the model input, → L2-normalised float32 vectors. One batched run per frame
 * when the model has a dynamic batch (OSNet), one run per crop when it is fixed at 1 (the
 * Open Model Zoo models).
 */
import type { ExecutionProvider } from '../config/index.ts';
import { PaddockError } from '../errors/index.ts';
import type { Box } from '../tracking/index.ts';
import type { OutputTensors } from './output-decode.ts';
import { loadModelConfig, resolveModelConfigPath, type ModelConfig } from './model-config.ts';
import { COAT_DIMENSION, coatDescriptor, fuseAppearance } from '../appearance/index.ts';
import { assertRgbImage, cropRegion, TensorWriter, type RgbImage } from './preprocess.ts';
import { SerialQueue } from './serial.ts';
import { openModelSession, type ModelSession, type ModelSessionOptions } from './session.ts';

export const DEFAULT_CROP_MARGIN = 0.05;
export const DEFAULT_EMBED_BATCH = 16;

export interface EmbedderOptions extends ModelSessionOptions {
  /** Explicit config (PADDOCK_REID_CONFIG); else `<model>.json` beside the model, else models/configs/. */
  configPath?: string | undefined;
  /** Fraction of the box's width/height added on every side before cropping (default 0.05). */
  cropMargin?: number;
  /** Crops per run when the model has a dynamic batch. */
  maxBatch?: number;
  /** Overrides the config's appearance.coatWeight (0: the model's embedding alone, as calibration needs it). */
  coatWeight?: number;
  configDir?: string;
}

export interface Embedder {
  readonly provider: ExecutionProvider;
  readonly config: ModelConfig;
  readonly dimension: number;
  readonly dynamicBatch: boolean;
  /** One L2-normalised vector per box, same order. */
  embed(frame: RgbImage, boxes: readonly Box[]): Promise<Float32Array[]>;
  release(): Promise<void>;
}

export async function createEmbedder(options: EmbedderOptions): Promise<Embedder> {
  const configPath = resolveModelConfigPath(options.modelPath, options.configPath, options.configDir);
  const config = await loadModelConfig(configPath);
  if (config.task !== 'reid') {
    throw new PaddockError('MODEL_INVALID', `model config ${configPath} is for a ${config.task} model, not a reid model`);
  }
  const margin = options.cropMargin ?? DEFAULT_CROP_MARGIN;
  if (!(margin >= 0 && margin <= 1)) throw new PaddockError('CONFIG_INVALID', `crop margin ${margin} is not within 0..1`);
  const session = await openModelSession(config, options);
  if (session.outputNames.length !== 1) {
    await session.release();
    throw new PaddockError('MODEL_INVALID', `reid model ${options.modelPath} has ${session.outputNames.length} outputs; one embedding output is expected`);
  }
  const writer = new TensorWriter(config.input);
  const deepDimension = session.itemOutputSizes[session.outputNames[0] as string] ?? 0;
  if (deepDimension < 1) {
    await session.release();
    throw new PaddockError('MODEL_INVALID', `reid model ${options.modelPath} returns an empty embedding`);
  }
  const effective = options.coatWeight === undefined ? config : { ...config, appearance: { coatWeight: options.coatWeight } };
  return new OnnxEmbedder(session, effective, writer, deepDimension, margin, options.maxBatch ?? DEFAULT_EMBED_BATCH);
}

function embeddingSize(outputs: OutputTensors, name: string, batch: number): number {
  const output = outputs[name];
  if (output === undefined) throw new PaddockError('INFERENCE', `reid output ${name} is missing`);
  return output.data.length / batch;
}

class OnnxEmbedder implements Embedder {
  readonly provider: ExecutionProvider;
  readonly dynamicBatch: boolean;
  private readonly input: Float32Array;
  private readonly batchSize: number;
  private readonly outputName: string;
  private readonly queue = new SerialQueue();
  /** Length of the vectors returned: the model's embedding, plus the coat descriptor when fused. */
  readonly dimension: number;
  private readonly coatWeight: number;

  constructor(
    private readonly session: ModelSession,
    readonly config: ModelConfig,
    private readonly writer: TensorWriter,
    private readonly deepDimension: number,
    private readonly margin: number,
    maxBatch: number,
  ) {
    this.coatWeight = config.appearance.coatWeight;
    this.dimension = this.coatWeight > 0 ? deepDimension + COAT_DIMENSION : deepDimension;
    this.provider = session.provider;
    this.dynamicBatch = session.dynamicBatch;
    this.batchSize = session.dynamicBatch ? Math.max(1, maxBatch) : 1;
    this.input = new Float32Array(this.batchSize * writer.itemSize);
    this.outputName = session.outputNames[0] as string;
  }

  async embed(frame: RgbImage, boxes: readonly Box[]): Promise<Float32Array[]> {
    assertRgbImage(frame);
    if (boxes.length === 0) return [];
    for (const box of boxes) {
      if (![box.x, box.y, box.w, box.h].every(Number.isFinite) || box.w <= 0 || box.h <= 0) {
        throw new PaddockError('INFERENCE', `cannot embed box ${JSON.stringify(box)}: it needs a positive, finite size`);
      }
    }
    return this.queue.run(async () => {
      const vectors: Float32Array[] = [];
      for (let start = 0; start < boxes.length; start += this.batchSize) {
        const group = boxes.slice(start, start + this.batchSize);
        group.forEach((box, index) => {
          this.writer.write(frame, cropRegion(box, this.margin, frame.width, frame.height), this.input, index);
        });
        const outputs = await this.session.run(this.input, group.length);
        const size = embeddingSize(outputs, this.outputName, group.length);
        if (size !== this.deepDimension) {
          throw new PaddockError('INFERENCE', `reid output has ${size} values per crop, expected ${this.deepDimension}`);
        }
        const data = (outputs[this.outputName] as { data: Float32Array }).data;
        for (let index = 0; index < group.length; index += 1) {
          const deep = l2Normalised(data.subarray(index * size, (index + 1) * size));
          vectors.push(this.coatWeight > 0 ? fuseAppearance(deep, coatDescriptor(frame, group[index]!), this.coatWeight) : deep);
        }
      }
      return vectors;
    });
  }

  release(): Promise<void> {
    return this.queue.run(() => this.session.release());
  }
}

/** A new vector of unit length (all zeros stays zeros). */
export function l2Normalised(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i += 1) sum += (vector[i] as number) * (vector[i] as number);
  const norm = Math.sqrt(sum);
  const out = new Float32Array(vector.length);
  if (norm === 0) return out;
  for (let i = 0; i < vector.length; i += 1) out[i] = (vector[i] as number) / norm;
  return out;
}

/** Cosine similarity; for L2-normalised vectors this is their dot product. 0 when either is all zeros. */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) {
    throw new PaddockError('INFERENCE', `cannot compare embeddings of dimension ${a.length} and ${b.length}`);
  }
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}
