import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { PaddockConfig } from '../../config/index.ts';
import { PaddockError } from '../../errors/index.ts';
import { evaluateMot, readMotFile, writeMotRows, type MotRow } from '../../eval/index.ts';
import { planFileChunks, runFileStream, type FileChunkPlan } from '../../daemon/index.ts';
import type { Logger } from '../../log/index.ts';
import { joinProvisionalRows, type ChunkTimings, type PersistedChunk } from '../../pipeline/index.ts';
import { writeSyntheticStream } from '../../synth/index.ts';
import { commandContext } from '../context.ts';
import { ensureProjectModels } from '../project-models.ts';
import { describeChunk } from './process.ts';
import { formatHorseTable } from './horses.ts';

interface DemoOptions {
  horses: number;
  chunks: number;
  seconds: number;
  seed: number;
  fps: number;
  stream?: string;
  verbose?: boolean;
  serve?: boolean;
}

const say = (line = '') => process.stdout.write(`${line}\n`);

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

/** Runs some of the plan's chunks through a freshly opened pipeline, as one daemon lifetime; prints each as it is acked. */
async function runLifetime(config: PaddockConfig, logger: Logger, plan: FileChunkPlan, indexes: number[]): Promise<{ chunks: PersistedChunk[]; rows: MotRow[] }> {
  const streamId = plan.events[0]!.streamId;
  await ensureProjectModels(config, logger);
  const onChunk = (persisted: PersistedChunk, index: number) => say(`    [${index + 1}/${plan.events.length}] ${describeChunk(persisted)}`);
  const run = await runFileStream({ config, logger, migrations: 'apply', streamId, chunks: { plan, indexes }, onChunk });
  if (run.failed.length > 0) throw new PaddockError('INTERNAL', `a demo chunk failed: ${run.failed[0]}`);
  return run;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('the main job on embedded defaults: a synthetic stream through the stream machine, with a restart, then the registry, timings, thumbnails and MOT scores')
    .option('--horses <n>', 'horses in the synthetic stream', positiveInt, 5)
    .option('--chunks <c>', 'chunks (at least 2: the pipeline restarts before the last one)', positiveInt, 3)
    .option('--seconds <s>', 'seconds per chunk', positiveInt, 10)
    .option('--seed <k>', 'seed of the synthetic stream', positiveInt, 7)
    .option('--fps <n>', 'frames per second of the synthetic video; the demo samples every one of them', positiveInt, 10)
    .option('--stream <id>', 'stream ID (default: demo-<time>)')
    .option('--verbose', 'also print the JSON log lines below warnings (level from PADDOCK_LOG_LEVEL)')
    .option('--serve', 'keep serving the web app (and the registry API) on PADDOCK_HTTP_PORT until Ctrl-C')
    .action(async (options: DemoOptions) => {
      const context = commandContext();
      // The demo talks in plain lines; its JSON logs only show warnings unless asked for.
      const logger = options.verbose === true ? context.logger : context.logger.child({}, { level: 'warn' });
      const { fps } = options;
      // The demo samples every frame, so its predictions can be scored against every ground-truth frame.
      const config: PaddockConfig = { ...context.config, sampleFps: fps };
      const streamId = options.stream ?? `demo-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}`;
      const outDir = path.join(config.dataDir, 'demo', streamId);
      await mkdir(outDir, { recursive: true });

      say(`paddock demo: stream ${streamId}, registry ${config.databaseUrl === undefined ? `embedded in ${path.join(config.dataDir, 'registry')}` : 'PostgreSQL'}`);
      say(`1/4 synthesising ${options.chunks} chunks × ${options.seconds} s with ${options.horses} horses (seed ${options.seed}) …`);
      let started = performance.now();
      const stream = await writeSyntheticStream({
        outDir: path.join(outDir, 'video'),
        horses: options.horses,
        chunks: options.chunks,
        secondsPerChunk: options.seconds,
        fps,
        seed: options.seed,
        ffmpegPath: config.ffmpegPath,
        onChunkWritten: (index, total) => say(`    chunk ${index + 1}/${total} written`),
      });
      say(`    ${stream.chunks.length} H.264 chunks and ground truth in ${path.relative(process.cwd(), path.dirname(stream.gtPath)) || '.'} (${((performance.now() - started) / 1000).toFixed(1)} s)`);

      const plan = await planFileChunks(config, streamId, stream.chunks, null);
      const rows: MotRow[] = [];
      const results: PersistedChunk[] = [];
      const collect = (run: { chunks: PersistedChunk[]; rows: MotRow[] }) => {
        results.push(...run.chunks);
        rows.push(...run.rows);
      };
      const all = plan.events.map((_, i) => i);
      const beforeRestart = options.chunks > 1 ? all.slice(0, -1) : all;
      say(`2/4 tracking chunks ${beforeRestart.map((i) => i + 1).join(', ')} through the stream actor (models, registry, tracker) …`);
      started = performance.now();
      collect(await runLifetime(config, logger, plan, beforeRestart));
      if (options.chunks > 1) {
        say(`3/4 restarting: a new pipeline reloads the registry from the database, then chunk ${options.chunks} …`);
        collect(await runLifetime(config, logger, plan, all.slice(-1)));
      }
      const elapsed = (performance.now() - started) / 1000;

      say('4/4 results');
      const { openRegistry } = await import('../../registry/index.ts');
      const store = await openRegistry({ config, logger, migrations: 'apply' });
      try {
        const horses = await store.listHorses(streamId);
        say();
        say(formatHorseTable(horses).trimEnd());
        const thumbDir = path.join(outDir, 'thumbnails');
        await mkdir(thumbDir, { recursive: true });
        let written = 0;
        for (const horse of horses) {
          const jpeg = await store.thumbnail(streamId, horse.id);
          if (jpeg === null) continue;
          await writeFile(path.join(thumbDir, `${horse.id}.jpg`), jpeg);
          written += 1;
        }
        say();
        say(`thumbnails: ${written} avatar JPEG(s) in ${path.relative(process.cwd(), thumbDir)}`);
      } finally {
        await store.close();
      }

      const totals = results.reduce<Partial<ChunkTimings>>((sum, persisted) => {
        for (const [stage, ms] of Object.entries(persisted.result.timings_ms)) sum[stage as keyof ChunkTimings] = (sum[stage as keyof ChunkTimings] ?? 0) + ms;
        return sum;
      }, {});
      const videoSeconds = plan.events.reduce((sum, event) => sum + event.durationS, 0);
      const frames = results.reduce((sum, persisted) => sum + persisted.outcome.framesDecoded, 0);
      const overhead = results.reduce((sum, p) => sum + p.result.overhead_ratio * p.result.timings_ms.total, 0) / Math.max(1, totals.total ?? 0);
      const stages = ['decode', 'detect', 'embed', 'track', 'thumbnails', 'persist'] as const;
      say(`timings: ${frames} frames of ${videoSeconds.toFixed(0)} s of video in ${elapsed.toFixed(1)} s (${(videoSeconds / elapsed).toFixed(1)}× real time)`);
      say(
        `    per stage (ms per frame, × real time): ` +
          stages
            .map((stage) => {
              const ms = totals[stage] ?? 0;
              return `${stage} ${(ms / Math.max(1, frames)).toFixed(1)} (${ms > 0 ? `${((videoSeconds * 1000) / ms).toFixed(0)}×` : '—'})`;
            })
            .join(', '),
      );
      say(`registry overhead (load + matching + thumbnails + persist): ${(overhead * 100).toFixed(2)} % of chunk time`);

      const predictions = path.join(outDir, 'predictions.txt');
      const joined = joinProvisionalRows(rows, results, 'drop');
      await writeFile(predictions, writeMotRows(joined));
      const metrics = evaluateMot(await readMotFile(stream.gtPath), joined);
      say(
        `tracking vs ground truth: IDF1 ${(metrics.identity.idf1 * 100).toFixed(1)} %, MOTA ${(metrics.clear.mota * 100).toFixed(1)} %, ` +
          `ID switches ${metrics.clear.idSwitches}, same ID across chunks for ${(metrics.idConsistency.ratio * 100).toFixed(0)} % of horses`,
      );
      say();
      say(`next: paddock horses list --stream ${streamId}   ·   paddock eval --gt ${path.relative(process.cwd(), stream.gtPath)} --pred ${path.relative(process.cwd(), predictions)}`);
      const pageUrl = (port: number) => `http://127.0.0.1:${port}/#/streams/${encodeURIComponent(streamId)}`;
      if (options.serve !== true) {
        say(`web app: ${pageUrl(config.httpPort)}   (add --serve to keep it up: npx paddock demo --serve)`);
        return;
      }
      await serveUntilStopped(config, logger, (port) => say(`web app: ${pageUrl(port)}   (serving the registry until Ctrl-C)`));
    });
}

/** `demo --serve`: the registry API and web app on the demo's registry, until SIGINT or SIGTERM. */
async function serveUntilStopped(config: PaddockConfig, logger: Logger, announce: (port: number) => void): Promise<void> {
  const { openRegistry } = await import('../../registry/index.ts');
  const { createRegistryServer } = await import('../../http/index.ts');
  const store = await openRegistry({ config, logger, migrations: 'apply' });
  const server = createRegistryServer({ store, tokens: config.apiTokens, port: config.httpPort, host: config.httpHost, logger });
  try {
    const { port } = await server.start();
    announce(port);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  } finally {
    await server.stop();
    await store.close();
  }
}
