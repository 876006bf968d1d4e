/**
 * onnxruntime sessions: execution-provider fallback, input-shape checks against the model
 * config, warm-up, timed and serialised runs.
 *
 * GPU hosts: `npm ci` skips onnxruntime-node's CUDA download (package.json's `allowScripts`
 * denies its install script, since the download needs api.nuget.org). The npm package only
 * bundles the CPU provider for linux-x64 (`listSupportedBackends()` says cuda is not bundled):
 * a provider whose libraries are missing is said once, in one line, and the next entry of
 * PADDOCK_EP is tried. To
 * install the CUDA 12 provider on a host with CUDA 12 + cuDNN 9, after `npm ci` run (it
 * downloads Microsoft.ML.OnnxRuntime.Gpu.Linux from nuget.org into
 * node_modules/onnxruntime-node/bin/napi-v6/linux/x64/):
 *
 *     node node_modules/onnxruntime-node/script/install.js --onnxruntime-node-install=cuda12
 *
 * The start-up log line `inference session ready` names the provider in use;
 * `paddock_inference_seconds{provider}` shows it too.
 */
import { stat } from 'node:fs/promises';
import { quietOrtLogging } from './ort-env.ts';
import * as ort from 'onnxruntime-node';
import type { ExecutionProvider } from '../config/index.ts';
import { PaddockError } from '../errors/index.ts';
import { createLogger, type Logger } from '../log/index.ts';
import type { OutputTensors, MetadataShape } from './output-decode.ts';
import type { InputSpec, ModelConfig } from './model-config.ts';

/** Called after every model run, e.g. to feed `paddock_inference_seconds{model,provider}`. */
export type InferenceHook = (model: string, provider: ExecutionProvider, seconds: number) => void;

/** What opening a model session takes; DetectorOptions and EmbedderOptions extend it. */
export interface ModelSessionOptions {
  modelPath: string;
  executionProviders: readonly ExecutionProvider[];
  /** The providers were asked for (PADDOCK_EP), not the default: a missing one is a warning, else a debug line. */
  executionProvidersAskedFor?: boolean;
  /** 0 = onnxruntime's default. */
  intraOpThreads: number;
  interOpThreads: number;
  onInference?: InferenceHook;
  logger?: Logger;
}

export interface ModelSession {
  readonly provider: ExecutionProvider;
  readonly inputName: string;
  readonly outputNames: readonly string[];
  readonly outputShapes: ReadonlyArray<{ name: string; shape: MetadataShape | undefined }>;
  /** Values per batch item of each output, as measured by the warm-up run. */
  readonly itemOutputSizes: Readonly<Record<string, number>>;
  /** True when the model's batch axis is symbolic: several images per run. */
  readonly dynamicBatch: boolean;
  /** Runs the model on `batch` items of `input` (the first batch × itemSize floats). Callers serialise runs. */
  run(input: Float32Array, batch: number): Promise<OutputTensors>;
  release(): Promise<void>;
}

const PROVIDER_UNAVAILABLE = /ExecutionProvider|shared library|providers_shared|not (?:supported|available|bundled)|backend/i;

/** Opens the model with the first execution provider that works (MODEL_MISSING / MODEL_INVALID / PROVIDER_UNAVAILABLE). */
export async function openModelSession(config: ModelConfig, options: ModelSessionOptions): Promise<ModelSession> {
  const logger = options.logger ?? createLogger();
  await assertModelFile(options.modelPath);
  if (options.executionProviders.length === 0) {
    throw new PaddockError('PROVIDER_UNAVAILABLE', 'no execution provider given');
  }
  quietOrtLogging();
  const failures: string[] = [];
  let modelError: unknown;
  for (const provider of options.executionProviders) {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(options.modelPath, sessionOptions(provider, options));
    } catch (error) {
      const message = (error as Error).message;
      failures.push(`${provider}: ${message}`);
      if (PROVIDER_UNAVAILABLE.test(message)) announceMissingProvider(provider, options, logger, message);
      else {
        modelError = error;
        logger.warn({ model: config.name, provider, err: message }, 'execution provider failed, trying the next');
      }
      continue;
    }
    const ready = await prepare(session, provider, config, options);
    logger.info({ model: config.name, provider, dynamic_batch: ready.dynamicBatch }, 'inference session ready');
    return ready;
  }
  if (modelError !== undefined) {
    throw new PaddockError('MODEL_INVALID', `model ${options.modelPath} cannot be loaded: ${failures.join('; ')}`, {
      cause: modelError,
      details: { model: options.modelPath },
    });
  }
  throw new PaddockError(
    'PROVIDER_UNAVAILABLE',
    `none of the execution providers ${options.executionProviders.join(', ')} works for ${options.modelPath}: ${failures.join('; ')}`,
    { details: { model: options.modelPath, providers: [...options.executionProviders] } },
  );
}

/** Said once per logger (the process's) and provider, however many models are opened. */
const announced = new WeakMap<Logger, Set<ExecutionProvider>>();
function announceMissingProvider(provider: ExecutionProvider, options: ModelSessionOptions, logger: Logger, reason: string): void {
  const said = announced.get(logger) ?? new Set<ExecutionProvider>();
  announced.set(logger, said);
  if (said.has(provider)) return;
  said.add(provider);
  const next = options.executionProviders[options.executionProviders.indexOf(provider) + 1];
  const line = `the ${provider} execution provider is not installed${next === undefined ? '' : `; trying ${next}`}`;
  if (options.executionProvidersAskedFor === true) logger.warn({ provider, err: reason }, line);
  else logger.debug({ provider, err: reason }, line);
}

function sessionOptions(provider: ExecutionProvider, options: ModelSessionOptions): ort.InferenceSession.SessionOptions {
  const result: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    logSeverityLevel: 3,
    graphOptimizationLevel: 'all',
  };
  // onnxruntime refuses an explicit undefined; leaving the key out means its own default
  if (options.intraOpThreads > 0) result.intraOpNumThreads = options.intraOpThreads;
  if (options.interOpThreads > 0) result.interOpNumThreads = options.interOpThreads;
  return result;
}

async function assertModelFile(modelPath: string): Promise<void> {
  try {
    const info = await stat(modelPath);
    if (!info.isFile()) throw new PaddockError('MODEL_INVALID', `model ${modelPath} is not a file`);
  } catch (error) {
    if (error instanceof PaddockError) throw error;
    throw new PaddockError('MODEL_MISSING', `model ${modelPath} not found`, { cause: error, details: { model: modelPath } });
  }
}

interface InputShape {
  dynamicBatch: boolean;
}

/** Checks the model's declared input against the config: [batch,3,H,W] (NCHW) or [batch,H,W,3] (NHWC). */
export function checkInputShape(shape: MetadataShape, input: InputSpec, modelPath: string): InputShape {
  const expected = input.layout === 'NCHW' ? [3, input.height, input.width] : [input.height, input.width, 3];
  const fits =
    shape.length === 4 && expected.every((dim, index) => {
      const actual = shape[index + 1];
      return typeof actual !== 'number' || actual < 0 || actual === dim;
    });
  if (!fits) {
    throw new PaddockError(
      'MODEL_INVALID',
      `model ${modelPath} input is ${JSON.stringify(shape)}, but its config says ${input.layout} ${input.width}x${input.height}`,
      { details: { model: modelPath } },
    );
  }
  const batch = shape[0];
  const dynamicBatch = typeof batch !== 'number' || batch < 0;
  if (!dynamicBatch && batch !== 1) {
    throw new PaddockError('MODEL_INVALID', `model ${modelPath} has a fixed batch of ${batch}; only 1 or a dynamic batch is supported`);
  }
  return { dynamicBatch };
}

async function prepare(
  session: ort.InferenceSession,
  provider: ExecutionProvider,
  config: ModelConfig,
  options: ModelSessionOptions,
): Promise<ModelSession> {
  const fail = (message: string): never => {
    void session.release();
    throw new PaddockError('MODEL_INVALID', `model ${options.modelPath}: ${message}`, { details: { model: options.modelPath } });
  };
  const inputName = config.input.name ?? session.inputNames[0];
  const inputIndex = inputName === undefined ? -1 : session.inputNames.indexOf(inputName);
  const inputMeta = session.inputMetadata[inputIndex];
  if (inputName === undefined || inputMeta === undefined) {
    return fail(`has no input ${inputName ?? ''} (inputs: ${session.inputNames.join(', ')})`);
  }
  if (session.inputNames.length !== 1) fail(`has ${session.inputNames.length} inputs; one image input is supported`);
  if (!inputMeta.isTensor || inputMeta.type !== 'float32') fail(`input ${inputName} is not a float32 tensor`);
  let shape: InputShape;
  try {
    shape = checkInputShape(inputMeta.isTensor ? inputMeta.shape : [], config.input, options.modelPath);
  } catch (error) {
    void session.release();
    throw error;
  }
  const outputShapes = session.outputNames.map((name, index) => {
    const meta = session.outputMetadata[index];
    return { name, shape: meta !== undefined && meta.isTensor ? meta.shape : undefined };
  });
  const itemDims = config.input.layout === 'NCHW' ? [3, config.input.height, config.input.width] : [config.input.height, config.input.width, 3];
  const itemSize = 3 * config.input.width * config.input.height;
  const hook = options.onInference;

  const runNow = async (input: Float32Array, batch: number, timed = true): Promise<OutputTensors> => {
    const tensor = new ort.Tensor('float32', input.subarray(0, batch * itemSize), [batch, ...itemDims]);
    const started = performance.now();
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await session.run({ [inputName]: tensor });
    } catch (error) {
      throw new PaddockError('INFERENCE', `model ${config.name} failed to run: ${(error as Error).message}`, { cause: error });
    }
    if (timed) hook?.(config.name, provider, (performance.now() - started) / 1000);
    const outputs: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
    for (const name of session.outputNames) {
      const value = results[name];
      if (value === undefined || value.type !== 'float32') {
        throw new PaddockError('INFERENCE', `model ${config.name} output ${name} is not float32`);
      }
      outputs[name] = { data: value.data as Float32Array, dims: value.dims };
    }
    return outputs;
  };

  let warmup: OutputTensors;
  try {
    warmup = await runNow(new Float32Array(itemSize), 1, false);
  } catch (error) {
    void session.release();
    throw new PaddockError('MODEL_INVALID', `model ${options.modelPath} fails its warm-up run: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const itemOutputSizes: Record<string, number> = {};
  for (const [name, output] of Object.entries(warmup)) itemOutputSizes[name] = output.data.length;
  return {
    provider,
    itemOutputSizes,
    inputName,
    outputNames: session.outputNames,
    outputShapes,
    dynamicBatch: shape.dynamicBatch,
    run: (input, batch) => runNow(input, batch),
    release: () => session.release(),
  };
}
