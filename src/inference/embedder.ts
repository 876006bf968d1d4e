/**
 * The appearance (ReID) embedder: crops of a frame's detections, grown by a margin and
 * stretched to the model input, → L2-normalised float32 vectors. When the model has a dynamic
 * batch (OSNet), the crops of every request waiting for the model — one per stream that is
 * embedding a frame — go into shared runs of up to maxBatch crops (first come, first served,
 * so no stream waits behind another's next frame); one run per crop when the batch is fixed
 * at 1 (the Open Model Zoo models).
 */
import type { ExecutionProvider } from '../config/index.ts';
import { PaddockError } from '../errors/index.ts';
import type { Box } from '../tracking/index.ts';
import type { OutputTensors } from './output-decode.ts';
import { loadModelConfig, resolveModelConfigPath, type ModelConfig } from './model-config.ts';
import { COAT_DIMENSION, coatDescriptor, fuseAppearance } from '../appearance/index.ts';
import { assertRgbImage, cropRegion, TensorWriter, type RgbImage } from './preprocess.ts';
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
  /**
   * How long (ms) a run may wait for more requests to share it when fewer crops than maxBatch
   * are waiting (PADDOCK_REID_BATCH_WAIT_MS). 0: none; requests that arrive during a run still
   * share the next one.
   */
  batchWaitMs?: number;
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
  return new OnnxEmbedder(session, effective, writer, deepDimension, margin, options.maxBatch ?? DEFAULT_EMBED_BATCH, options.batchWaitMs ?? 0);
}

/** One embed() call waiting for (part of) its vectors. */
interface EmbedRequest {
  frame: RgbImage;
  boxes: readonly Box[];
  vectors: Float32Array[];
  /** Boxes already given to a run. */
  taken: number;
  /** Vectors filled in. */
  done: number;
  resolve: (vectors: Float32Array[]) => void;
  reject: (error: unknown) => void;
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
  private readonly waiting: EmbedRequest[] = [];
  /** The drain loop while it runs; the session is used by it alone. */
  private draining: Promise<void> | null = null;
  private waitTimer: NodeJS.Timeout | null = null;
  private released = false;
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
    private readonly batchWaitMs: number,
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
    if (this.released) throw new PaddockError('INFERENCE', 'the embedder was released');
    return new Promise((resolve, reject) => {
      this.waiting.push({ frame, boxes, vectors: new Array<Float32Array>(boxes.length), taken: 0, done: 0, resolve, reject });
      this.schedule();
    });
  }

  async release(): Promise<void> {
    this.released = true;
    this.startDraining();
    await this.draining;
    await this.session.release();
  }

  /** Starts the drain loop now, or after batchWaitMs while fewer crops than a full run wait. */
  private schedule(): void {
    if (this.draining !== null) return;
    // A full run's worth starts at once, even while an earlier request waits for company.
    if (this.batchWaitMs > 0 && this.waitingCrops() < this.batchSize) {
      this.waitTimer ??= setTimeout(() => this.startDraining(), this.batchWaitMs);
      return;
    }
    this.startDraining();
  }

  private startDraining(): void {
    if (this.waitTimer !== null) clearTimeout(this.waitTimer);
    this.waitTimer = null;
    if (this.draining !== null || this.waiting.length === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.waiting.length > 0) this.schedule();
    });
  }

  private waitingCrops(): number {
    return this.waiting.reduce((sum, request) => sum + request.boxes.length - request.taken, 0);
  }

  /** Runs the waiting requests' crops, oldest first, in runs of up to batchSize. */
  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const items: { request: EmbedRequest; box: number }[] = [];
      for (const request of this.waiting) {
        while (request.taken < request.boxes.length && items.length < this.batchSize) items.push({ request, box: request.taken++ });
        if (items.length === this.batchSize) break;
      }
      try {
        await this.runBatch(items);
      } catch (error) {
        for (const request of new Set(items.map((item) => item.request))) this.fail(request, error);
        continue;
      }
      for (const request of new Set(items.map((item) => item.request))) {
        if (request.done === request.boxes.length) {
          this.waiting.splice(this.waiting.indexOf(request), 1);
          request.resolve(request.vectors);
        }
      }
    }
  }

  private async runBatch(items: readonly { request: EmbedRequest; box: number }[]): Promise<void> {
    items.forEach(({ request, box }, index) => {
      this.writer.write(request.frame, cropRegion(request.boxes[box]!, this.margin, request.frame.width, request.frame.height), this.input, index);
    });
    const outputs = await this.session.run(this.input, items.length);
    const size = embeddingSize(outputs, this.outputName, items.length);
    if (size !== this.deepDimension) {
      throw new PaddockError('INFERENCE', `reid output has ${size} values per crop, expected ${this.deepDimension}`);
    }
    const data = (outputs[this.outputName] as { data: Float32Array }).data;
    items.forEach(({ request, box }, index) => {
      const deep = l2Normalised(data.subarray(index * size, (index + 1) * size));
      request.vectors[box] = this.coatWeight > 0 ? fuseAppearance(deep, coatDescriptor(request.frame, request.boxes[box]!), this.coatWeight) : deep;
      request.done += 1;
    });
  }

  /** A failed run fails each request it held a crop of, whole: its other crops are dropped too. */
  private fail(request: EmbedRequest, error: unknown): void {
    const at = this.waiting.indexOf(request);
    if (at < 0) return;
    this.waiting.splice(at, 1);
    request.reject(error);
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
