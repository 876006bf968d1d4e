/**
 * Inference cost of one 10 s 640x360 chunk sampled at 5 fps (50 frames), on the CPU, with the
 * shared real models: YOLOX-nano detection, then OSNet (one batched run per frame) and, for
 * comparison, OMZ 0287 (one run per crop) embedding of the detections.
 *
 * Frames are windows of ../shared/data/horses.jpg scaled to 672x384 and shifted a few pixels
 * per frame (no ffmpeg needed). Also compares the pre-processing resize: our TensorWriter
 * (resize + normalise into the tensor in one go; the one the detector uses, because it reproduces
 * the reference scores) against sharp's linear resize + a normalise loop (faster, less faithful).
 */
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig, PROJECT_ROOT } from '../src/config/index.ts';
import { createDetector } from '../src/inference/detector.ts';
import { createEmbedder, type Embedder } from '../src/inference/embedder.ts';
import { TensorWriter, wholeFrame, type RgbImage } from '../src/inference/preprocess.ts';
import { silentLogger } from '../src/log/index.ts';
import type { Detection } from '../src/tracking/types.ts';
import { summarize, timeIt } from './stats.ts';

const SHARED = path.resolve(PROJECT_ROOT, '..', 'shared');
const CHUNK_SECONDS = 10;
const SAMPLE_FPS = 5;
const FRAMES = CHUNK_SECONDS * SAMPLE_FPS;
const WIDTH = 640;
const HEIGHT = 360;
// CPU unless PADDOCK_EP asks for more (bench/gpu.sh: cuda,cpu); validated as the daemon does.
const executionProviders = loadConfig({ PADDOCK_EP: process.env.PADDOCK_EP ?? 'cpu', PADDOCK_LOG_LEVEL: 'silent' }).models.executionProviders;
const common = { executionProviders, intraOpThreads: 0, interOpThreads: 0, logger: silentLogger() };

async function syntheticFrames(): Promise<RgbImage[]> {
  const scaled = await sharp(path.join(SHARED, 'data', 'horses.jpg'))
    .resize(WIDTH + 32, HEIGHT + 24, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer();
  const sourceWidth = WIDTH + 32;
  return Array.from({ length: FRAMES }, (_, index) => {
    const dx = (index * 3) % 32;
    const dy = (index * 2) % 24;
    const data = Buffer.alloc(WIDTH * HEIGHT * 3);
    for (let y = 0; y < HEIGHT; y += 1) {
      const from = ((y + dy) * sourceWidth + dx) * 3;
      scaled.copy(data, y * WIDTH * 3, from, from + WIDTH * 3);
    }
    return { width: WIDTH, height: HEIGHT, data };
  });
}

async function embedAll(embedder: Embedder, frames: RgbImage[], detections: Detection[][]): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < frames.length; i += 1) {
    const started = performance.now();
    await embedder.embed(frames[i] as RgbImage, (detections[i] ?? []).map((detection) => detection.box));
    samples.push(performance.now() - started);
  }
  return samples;
}

async function compareResize(frames: RgbImage[], writer: TensorWriter): Promise<void> {
  const target = new Float32Array(writer.itemSize);
  const frame = frames[0] as RgbImage;
  const ours = await timeIt(() => writer.write(frame, wholeFrame(frame), target, 0), 100, 10);
  const plane = 416 * 416;
  const viaSharp = await timeIt(async () => {
    const resized = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
      .resize(416, 234, { fit: 'fill', kernel: 'linear' })
      .raw()
      .toBuffer();
    target.fill(114, 0, 3 * plane);
    for (let p = 0; p < 416 * 234; p += 1) {
      target[p] = resized[p * 3 + 2] as number;
      target[plane + p] = resized[p * 3 + 1] as number;
      target[2 * plane + p] = resized[p * 3] as number;
    }
  }, 100, 10);
  const a = summarize('preprocess 640x360→416 TensorWriter', ours);
  const b = summarize('preprocess 640x360→416 sharp linear + fill (baseline)', viaSharp);
  console.log(`TensorWriter / sharp p50 ratio: ${(a.p50 / b.p50).toFixed(2)}`);
}

export async function run(): Promise<void> {
  const frames = await syntheticFrames();
  const detector = await createDetector({ ...common, modelPath: path.join(SHARED, 'models', 'yolox_nano_416x416.onnx') });
  const osnet = await createEmbedder({ ...common, modelPath: path.join(SHARED, 'models', 'osnet_x0_25_msmt17.onnx') });
  const omz = await createEmbedder({ ...common, modelPath: path.join(SHARED, 'models', 'person-reidentification-retail-0287.onnx') });
  console.log(`${FRAMES} frames ${WIDTH}x${HEIGHT} (${CHUNK_SECONDS} s at ${SAMPLE_FPS} fps), provider ${detector.provider}`);

  await compareResize(frames, new TensorWriter(detector.config.input));

  for (const frame of frames.slice(0, 3)) await detector.detect(frame);
  const detectMs: number[] = [];
  const detections: Detection[][] = [];
  for (const frame of frames) {
    const started = performance.now();
    detections.push(await detector.detect(frame));
    detectMs.push(performance.now() - started);
  }
  const boxes = detections.reduce((sum, found) => sum + found.length, 0);
  console.log(`detections: ${boxes} (${(boxes / FRAMES).toFixed(1)} per frame)`);

  await embedAll(osnet, frames.slice(0, 3), detections.slice(0, 3));
  const osnetMs = await embedAll(osnet, frames, detections);
  await embedAll(omz, frames.slice(0, 1), detections.slice(0, 1));
  const omzMs = await embedAll(omz, frames, detections);

  const detect = summarize('detect yolox_nano (per frame, pre+run+decode)', detectMs);
  const embedOsnet = summarize('embed osnet_x0_25 (per frame, batched crops)', osnetMs);
  summarize('embed OMZ 0287 (per frame, one run per crop)', omzMs);
  const perFrame = detectMs.map((ms, i) => ms + (osnetMs[i] ?? 0));
  const total = summarize('detect + osnet embed (per frame)', perFrame);
  const seconds = perFrame.reduce((sum, ms) => sum + ms, 0) / 1000;
  console.log(
    `real-time factor (chunk seconds per processing second): ${(CHUNK_SECONDS / seconds).toFixed(1)}x ` +
      `(${seconds.toFixed(2)} s for ${CHUNK_SECONDS} s; p50 detect ${detect.p50.toFixed(1)} ms + embed ${embedOsnet.p50.toFixed(1)} ms = ${total.p50.toFixed(1)} ms)`,
  );
  await compareSharedRuns(osnet, frames, detections);
  await Promise.all([detector.release(), osnet.release(), omz.release()]);
}

/** Requests of each stream in turn, each alone in its runs: how one session was used before sharing. */
class OneAtATime {
  private tail: Promise<unknown> = Promise.resolve();
  embed(embedder: Embedder, frame: RgbImage, boxes: readonly Detection['box'][]): Promise<Float32Array[]> {
    const result = this.tail.then(() => embedder.embed(frame, boxes));
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * Many streams, one OSNet session: STREAMS streams embed a frame's crops at the same time, frame
 * after frame, as their actors do (ReID on demand leaves 1–2 crops a frame). The baseline puts
 * each request through the session alone; the embedder itself lets the requests that wait
 * together share runs. Time per round (every stream's frame), p50/p99, and the ratio.
 */
async function compareSharedRuns(osnet: Embedder, frames: RgbImage[], detections: Detection[][]): Promise<void> {
  const STREAMS = 4;
  const requestOf = (stream: number, f: number) => {
    const index = (f + stream * 7) % frames.length;
    return { frame: frames[index]!, boxes: detections[index]!.slice(0, 1 + ((f + stream) % 2)).map((detection) => detection.box) };
  };
  const rounds = async (embed: (frame: RgbImage, boxes: Detection['box'][]) => Promise<Float32Array[]>): Promise<number[]> => {
    const times: number[] = [];
    for (let f = 0; f < frames.length; f += 1) {
      const started = performance.now();
      await Promise.all(Array.from({ length: STREAMS }, (_, stream) => requestOf(stream, f)).map(({ frame, boxes }) => embed(frame, boxes)));
      times.push(performance.now() - started);
    }
    return times;
  };
  const serial = new OneAtATime();
  const alone = (frame: RgbImage, boxes: Detection['box'][]) => serial.embed(osnet, frame, boxes);
  const shared = (frame: RgbImage, boxes: Detection['box'][]) => osnet.embed(frame, boxes);
  await rounds(alone);
  await rounds(shared);
  // Interleaved, so a slow spell of the VM weighs on both alike.
  const aloneMs: number[] = [];
  const sharedMs: number[] = [];
  for (let pass = 0; pass < 4; pass += 1) {
    aloneMs.push(...(await rounds(alone)));
    sharedMs.push(...(await rounds(shared)));
  }
  console.log(`${STREAMS} streams embedding 1–2 crops a frame at the same time, one OSNet session:`);
  const before = summarize('each request alone in its runs (baseline)', aloneMs);
  const after = summarize('waiting requests share runs', sharedMs);
  console.log(`shared / alone p50 ratio: ${(after.p50 / before.p50).toFixed(2)}, p99 ratio: ${(after.p99 / before.p99).toFixed(2)}`);
}
