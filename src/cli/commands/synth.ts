import type { Command } from 'commander';
import { UsageError } from '../../errors/index.ts';
import { DEFAULT_SCENE_OPTIONS, writeSyntheticStream } from '../../synth/index.ts';
import { commandContext } from '../context.ts';

interface SynthOptions {
  out: string;
  horses?: string;
  chunks?: string;
  seconds?: string;
  fps?: string;
  seed?: string;
  width?: string;
  height?: string;
  hard?: boolean;
  grazing?: boolean;
}

function parseNumber(flag: string, raw: string | undefined, fallback: number, integer: boolean): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new UsageError(`${flag} must be ${integer ? 'an integer' : 'a number'}, got "${raw}"`);
  }
  return value;
}

export function registerSynthCommand(program: Command): void {
  const d = DEFAULT_SCENE_OPTIONS;
  program
    .command('synth')
    .description('write a synthetic paddock stream: DIR/chunk_0001.mp4… and MOTChallenge ground truth DIR/gt.txt')
    .requiredOption('--out <dir>', 'output directory')
    .option('--horses <n>', `number of horses (1-10, default ${d.horses})`)
    .option('--chunks <c>', `number of chunks (default ${d.chunks})`)
    .option('--seconds <s>', `seconds per chunk (default ${d.secondsPerChunk})`)
    .option('--fps <f>', `frames per second (default ${d.fps})`)
    .option('--seed <k>', `random seed (default ${d.seed})`)
    .option('--width <w>', `frame width, even (default ${d.width})`)
    .option('--height <h>', `frame height, even (default ${d.height})`)
    .option('--hard', 'make the last horse a near-identical twin of the first')
    .option('--grazing', 'a still scene: the horses stay in view and only now and then take a short step')
    .action(async (options: SynthOptions) => {
      const sceneOptions = {
        horses: parseNumber('--horses', options.horses, d.horses, true),
        chunks: parseNumber('--chunks', options.chunks, d.chunks, true),
        secondsPerChunk: parseNumber('--seconds', options.seconds, d.secondsPerChunk, false),
        fps: parseNumber('--fps', options.fps, d.fps, false),
        seed: parseNumber('--seed', options.seed, d.seed, true),
        width: parseNumber('--width', options.width, d.width, true),
        height: parseNumber('--height', options.height, d.height, true),
        hard: options.hard === true,
        grazing: options.grazing === true,
      };
      const { config } = commandContext();
      const stream = await writeSyntheticStream({ outDir: options.out, ffmpegPath: config.ffmpegPath, ...sceneOptions });
      for (const chunk of stream.chunks) process.stdout.write(`${chunk}\n`);
      process.stdout.write(`${stream.gtPath}\n`);
      process.stdout.write(
        `${stream.totalFrames} frames, ${stream.scene.horses.length} horses (${stream.scene.horses.map((horse) => horse.coat.name).join(', ')})\n`,
      );
    });
}
