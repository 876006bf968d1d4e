/**
 * The horse detector: frame → letterbox/stretch → model → layout decoding → horse-class
 * filter, threshold, class-agnostic NMS → boxes in frame pixels.
 */
import type { ExecutionProvider } from '../config/index.ts';
import { PaddockError } from '../errors/index.ts';
import type { Detection } from '../tracking/index.ts';
import { decodeDetections, outputShapeProblem, type DecodeOptions, type DetectionLayout } from './output-decode.ts';
import { loadModelConfig, resolveModelConfigPath, type ModelConfig } from './model-config.ts';
import { nonMaxSuppression } from './nms.ts';
import { assertRgbImage, modelToFrameBox, TensorWriter, wholeFrame, type Placement, type RgbImage } from './preprocess.ts';
import { SerialQueue } from './serial.ts';
import { openModelSession, type ModelSession, type ModelSessionOptions } from './session.ts';

export const DEFAULT_MAX_BATCH = 8;
export const DEFAULT_MAX_DETECTIONS = 100;

export interface DetectorOptions extends ModelSessionOptions {
  /** Explicit config (PADDOCK_DETECTOR_CONFIG); else `<model>.json` beside the model, else models/configs/. */
  configPath?: string | undefined;
  /** Frames per run when the model has a dynamic batch. */
  maxBatch?: number;
  maxDetections?: number;
  /** Where the fallback configs live (default models/configs). */
  configDir?: string;
}

export interface Detector {
  readonly provider: ExecutionProvider;
  readonly config: ModelConfig;
  /** True when detectBatch sends several frames per model run. */
  readonly dynamicBatch: boolean;
  detect(frame: RgbImage): Promise<Detection[]>;
  /** One result per frame, same order; batched runs where the model allows. */
  detectBatch(frames: readonly RgbImage[]): Promise<Detection[][]>;
  release(): Promise<void>;
}

export async function createDetector(options: DetectorOptions): Promise<Detector> {
  const configPath = resolveModelConfigPath(options.modelPath, options.configPath, options.configDir);
  const config = await loadModelConfig(configPath);
  if (config.task !== 'detector' || config.output.layout === 'embedding') {
    throw new PaddockError('MODEL_INVALID', `model config ${configPath} is for a ${config.task} model, not a detector`);
  }
  const layout: DetectionLayout = config.output.layout;
  const session = await openModelSession(config, options);
  const decodeOptions: DecodeOptions = {
    classCount: config.classes.length,
    horseClassIds: config.horseClassIds,
    scoreThreshold: config.scoreThreshold,
    inputWidth: config.input.width,
    inputHeight: config.input.height,
    strides: config.output.strides,
    outputNames: session.outputNames,
  };
  const problem = outputShapeProblem(layout, session.outputShapes, decodeOptions);
  if (problem !== undefined) {
    await session.release();
    throw new PaddockError('MODEL_INVALID', `model ${options.modelPath} does not match ${configPath}: ${problem}`);
  }
  return new OnnxDetector(session, config, layout, decodeOptions, options);
}

class OnnxDetector implements Detector {
  readonly provider: ExecutionProvider;
  readonly dynamicBatch: boolean;
  private readonly writer: TensorWriter;
  private readonly input: Float32Array;
  private readonly batchSize: number;
  private readonly placements: Placement[] = [];
  private readonly queue = new SerialQueue();
  private readonly maxDetections: number;

  constructor(
    private readonly session: ModelSession,
    readonly config: ModelConfig,
    private readonly layout: DetectionLayout,
    private readonly decodeOptions: DecodeOptions,
    options: DetectorOptions,
  ) {
    this.provider = session.provider;
    this.dynamicBatch = session.dynamicBatch;
    this.batchSize = session.dynamicBatch ? Math.max(1, options.maxBatch ?? DEFAULT_MAX_BATCH) : 1;
    this.maxDetections = options.maxDetections ?? DEFAULT_MAX_DETECTIONS;
    this.writer = new TensorWriter(config.input);
    this.input = new Float32Array(this.batchSize * this.writer.itemSize);
  }

  async detect(frame: RgbImage): Promise<Detection[]> {
    const [detections] = await this.detectBatch([frame]);
    return detections ?? [];
  }

  async detectBatch(frames: readonly RgbImage[]): Promise<Detection[][]> {
    for (const frame of frames) assertRgbImage(frame);
    return this.queue.run(async () => {
      const results: Detection[][] = [];
      for (let start = 0; start < frames.length; start += this.batchSize) {
        const group = frames.slice(start, start + this.batchSize);
        results.push(...(await this.runGroup(group)));
      }
      return results;
    });
  }

  private async runGroup(frames: readonly RgbImage[]): Promise<Detection[][]> {
    frames.forEach((frame, index) => {
      this.placements[index] = this.writer.write(frame, wholeFrame(frame), this.input, index);
    });
    const outputs = await this.session.run(this.input, frames.length);
    return frames.map((frame, index) => {
      const placement = this.placements[index] as Placement;
      const candidates = decodeDetections(this.layout, outputs, index, this.decodeOptions);
      const kept = nonMaxSuppression(candidates, this.config.nmsIouThreshold, this.maxDetections);
      const detections: Detection[] = [];
      for (const candidate of kept) {
        const box = modelToFrameBox(candidate.x1, candidate.y1, candidate.x2, candidate.y2, placement, frame.width, frame.height);
        if (box.w >= 1 && box.h >= 1) detections.push({ box, score: candidate.score, classId: candidate.classId });
      }
      return detections;
    });
  }

  release(): Promise<void> {
    return this.queue.run(() => this.session.release());
  }
}
