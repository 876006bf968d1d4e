import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { PaddockError } from '../../errors/index.ts';
import { writeMotRows, type MotRow } from '../../eval/index.ts';
import { joinProvisionalRows, motRowsOf } from '../../pipeline/mot-predictions.ts';
import { planFileChunks, runChunkEvents } from '../../pipeline/run-files.ts';
import { openPipeline } from '../../pipeline/runtime.ts';
import type { PersistedChunk } from '../../pipeline/types.ts';
import { commandContext } from '../context.ts';
import { parseStreamIdOption } from '../stream-option.ts';

export function describeChunk(persisted: PersistedChunk): string {
  const { result } = persisted;
  const counts = { new: 0, reactivated: 0, continued: 0, provisional: 0 };
  for (const horse of result.horses) counts[horse.status] += 1;
  const t = result.timings_ms;
  return (
    `${result.chunk_id}: ${result.horses.length} horse(s) [${result.horses.map((h) => `${h.id ?? `track_${h.track_id}`}:${h.status}`).join(' ')}]` +
    ` new ${counts.new}, reactivated ${counts.reactivated}, continued ${counts.continued}, provisional ${counts.provisional}` +
    result.identified.map((entry) => ` (track_${entry.track_id} is ${entry.id})`).join('') +
    ` | ${persisted.outcome.framesDecoded} frames, total ${t.total.toFixed(0)} ms (decode ${t.decode.toFixed(0)}, detect ${t.detect.toFixed(0)},` +
    ` embed ${t.embed.toFixed(0)}, track ${t.track.toFixed(0)}, thumbnails ${t.thumbnails.toFixed(0)}, load ${t.load_registry.toFixed(0)},` +
    ` persist ${t.persist.toFixed(0)}), registry overhead ${(result.overhead_ratio * 100).toFixed(2)} %` +
    (persisted.duplicate ? ' (already processed)' : '') +
    (persisted.outcome.partial === null ? '' : ` (partial: ${persisted.outcome.partial})`)
  );
}

export function registerProcessCommand(program: Command): void {
  program
    .command('process')
    .description('run chunk files, in the order given, as consecutive chunks of one stream through the daemon\'s stream machine and registry')
    .argument('<files...>', 'chunk video files')
    .requiredOption('--stream <id>', 'stream ID', parseStreamIdOption)
    .option('--json', 'print one chunk result per line')
    .option('--mot-out <file>', 'write MOTChallenge predictions for these chunks')
    .action(async (files: string[], options: { stream: string; json?: boolean; motOut?: string }) => {
      const { config, logger } = commandContext();
      const rows: MotRow[] = [];
      const persistedChunks: PersistedChunk[] = [];
      let plan: Awaited<ReturnType<typeof planFileChunks>> | null = null;
      const pipeline = await openPipeline({
        config,
        logger,
        migrations: 'require',
        onPersisted: (persisted) => {
          if (options.json) process.stdout.write(`${JSON.stringify(persisted.result)}\n`);
          else process.stdout.write(`${describeChunk(persisted)}\n`);
          if (options.motOut !== undefined && plan !== null) {
            const index = plan.events.findIndex((event) => event.chunkId === persisted.outcome.event.chunkId);
            const probe = plan.probes[index]!;
            rows.push(...motRowsOf(persisted, plan.offsetsS[index]!, { fps: probe.fps ?? config.sampleFps, width: probe.width, height: probe.height }));
            persistedChunks.push(persisted);
          }
        },
      });
      try {
        plan = await planFileChunks(config, options.stream, files, await pipeline.store.lastSequence(options.stream));
        const outcomes = await runChunkEvents({ config, logger, pipeline, events: plan.events });
        if (options.motOut !== undefined) await writeFile(options.motOut, writeMotRows(joinProvisionalRows(rows, persistedChunks)));
        const failed = outcomes.flatMap((outcome, i) => (outcome.status === 'dead-lettered' ? [`${files[i]}: ${outcome.reason}`] : []));
        if (failed.length > 0) throw new PaddockError('INTERNAL', `${failed.length} chunk(s) failed: ${failed.join('; ')}`);
      } finally {
        await pipeline.close();
      }
    });
}
