/**
 * Writes a synthetic stream to disk: H.264 MP4 chunks (`chunk_0001.mp4`, …), MOTChallenge
 * ground truth (`gt.txt`), per-row visibility (`gt_visibility.txt`: `frame,id,visibility`)
 * and a description of the scene (`scene.json`). Frames are rendered in JS and piped as raw
 * RGB into ffmpeg.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile, open } from 'node:fs/promises';
import path from 'node:path';
import { PaddockError } from '../errors/index.ts';
import { resolveFfmpegPath } from '../video/index.ts';
import { motLines, visibilityLines, MIN_LISTED_VISIBILITY } from './ground-truth.ts';
import { SceneRenderer } from './render.ts';
import { createScene, type Scene, type SceneOptions } from './scene.ts';

export interface SyntheticStreamOptions extends Partial<SceneOptions> {
  outDir: string;
  /** Explicit ffmpeg binary (FFMPEG_PATH); else PATH, else @ffmpeg-installer/ffmpeg. */
  ffmpegPath?: string | undefined;
  /** x264 constant rate factor (lower is better quality). */
  crf?: number;
  /** Called after each chunk file is written (progress). */
  onChunkWritten?: (chunkIndex: number, chunks: number) => void;
}

export interface SyntheticStream {
  scene: Scene;
  /** Absolute chunk paths, in stream order. */
  chunks: string[];
  /** Seconds from the stream start to each chunk's first frame. */
  chunkStartS: number[];
  gtPath: string;
  visibilityPath: string;
  scenePath: string;
  totalFrames: number;
}

const DEFAULT_CRF = 18;

export function chunkFileName(chunkIndex: number): string {
  return `chunk_${String(chunkIndex + 1).padStart(4, '0')}.mp4`;
}

function encoderArgs(scene: Scene, crf: number, outPath: string): string[] {
  const { width, height, fps } = scene.options;
  return [
    '-hide_banner',
    '-loglevel', 'error',
    '-f', 'rawvideo',
    '-pix_fmt', 'rgb24',
    '-s', `${width}x${height}`,
    '-r', String(fps),
    '-i', 'pipe:0',
    '-an',
    '-c:v', 'libx264',
    '-preset', 'veryfast',
    '-crf', String(crf),
    '-pix_fmt', 'yuv420p',
    '-g', String(Math.max(1, Math.round(fps))),
    '-bf', '0',
    '-map_metadata', '-1',
    '-fflags', '+bitexact',
    '-flags:v', '+bitexact',
    '-movflags', '+faststart',
    '-y', outPath,
  ];
}

/** Pipes the frames of one chunk into an ffmpeg encoder; resolves when the MP4 is complete. */
async function encodeChunk(
  ffmpegPath: string,
  args: string[],
  frames: (write: (rgb: Uint8Array) => Promise<void>) => Promise<void>,
  outPath: string,
): Promise<void> {
  const child = spawn(ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-2000);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  let pipeError: Error | undefined;
  child.stdin.on('error', (error) => {
    pipeError = error;
  });
  const write = (rgb: Uint8Array): Promise<void> =>
    new Promise((resolve, reject) => {
      if (pipeError !== undefined) {
        reject(pipeError);
        return;
      }
      // Wait for the write callback: the caller reuses the frame buffer for the next frame.
      child.stdin.write(rgb, (error) => (error ? reject(error) : resolve()));
    });
  try {
    await frames(write);
  } catch (error) {
    child.kill('SIGKILL');
    await exited.catch(() => null);
    throw new PaddockError('VIDEO_ENCODE_FAILED', `ffmpeg stopped while encoding ${outPath}: ${stderr.trim() || String(error)}`, { cause: error });
  } finally {
    child.stdin.end();
  }
  let code: number | null;
  try {
    code = await exited;
  } catch (error) {
    throw new PaddockError('FFMPEG_MISSING', `cannot run ffmpeg at ${ffmpegPath}: ${(error as Error).message}`, { cause: error });
  }
  if (code !== 0) {
    throw new PaddockError('VIDEO_ENCODE_FAILED', `ffmpeg exited with ${code} while encoding ${outPath}: ${stderr.trim()}`);
  }
}

/** Renders, encodes and writes a whole synthetic stream; deterministic for a seed. */
export async function writeSyntheticStream(options: SyntheticStreamOptions): Promise<SyntheticStream> {
  const { outDir, ffmpegPath: configuredFfmpeg, crf = DEFAULT_CRF, onChunkWritten, ...sceneOptions } = options;
  const scene = createScene(sceneOptions);
  const ffmpegPath = resolveFfmpegPath({ ffmpegPath: configuredFfmpeg });
  const directory = path.resolve(outDir);
  await mkdir(directory, { recursive: true });
  const renderer = new SceneRenderer(scene);
  const gtPath = path.join(directory, 'gt.txt');
  const visibilityPath = path.join(directory, 'gt_visibility.txt');
  const scenePath = path.join(directory, 'scene.json');
  const chunks: string[] = [];
  const chunkStartS: number[] = [];
  const gtFile = await open(gtPath, 'w');
  const visibilityFile = await open(visibilityPath, 'w');
  try {
    for (let chunk = 0; chunk < scene.options.chunks; chunk++) {
      const outPath = path.join(directory, chunkFileName(chunk));
      const firstFrame = chunk * scene.framesPerChunk;
      await encodeChunk(
        ffmpegPath,
        encoderArgs(scene, crf, outPath),
        async (write) => {
          for (let frame = firstFrame; frame < firstFrame + scene.framesPerChunk; frame++) {
            const { rgb, truth } = renderer.renderFrame(frame);
            await write(rgb);
            await gtFile.write(motLines(truth));
            await visibilityFile.write(visibilityLines(truth));
          }
        },
        outPath,
      );
      chunks.push(outPath);
      chunkStartS.push(firstFrame / scene.options.fps);
      onChunkWritten?.(chunk, scene.options.chunks);
    }
  } finally {
    await gtFile.close();
    await visibilityFile.close();
  }
  await writeFile(scenePath, `${JSON.stringify(describeScene(scene, chunks, chunkStartS), null, 2)}\n`);
  return { scene, chunks, chunkStartS, gtPath, visibilityPath, scenePath, totalFrames: scene.totalFrames };
}

/** What scene.json holds: enough to understand and reproduce the stream. */
export function describeScene(scene: Scene, chunks: string[], chunkStartS: number[]): Record<string, unknown> {
  return {
    options: scene.options,
    framesPerChunk: scene.framesPerChunk,
    totalFrames: scene.totalFrames,
    minListedVisibility: MIN_LISTED_VISIBILITY,
    twinIds: scene.twinIds,
    horses: scene.horses.map((horse) => ({ id: horse.id, coat: horse.coat.name })),
    chunks: chunks.map((chunk, index) => ({ file: path.basename(chunk), startS: chunkStartS[index] })),
  };
}
