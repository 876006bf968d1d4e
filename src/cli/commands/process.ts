import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { PaddockError } from '../../errors/index.ts';
import { writeMotRows } from '../../eval/index.ts';
import { runFileStream } from '../../daemon/index.ts';
import { joinProvisionalRows, type PersistedChunk } from '../../pipeline/index.ts';
import { commandContext } from '../context.ts';
import { ensureProjectModels } from '../project-models.ts';
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
      await ensureProjectModels(config, logger);
      const run = await runFileStream({
        config,
        logger,
        migrations: 'require',
        streamId: options.stream,
        chunks: { files },
        onChunk: (persisted) => {
          if (options.json) process.stdout.write(`${JSON.stringify(persisted.result)}\n`);
          else process.stdout.write(`${describeChunk(persisted)}\n`);
        },
      });
      if (options.motOut !== undefined) await writeFile(options.motOut, writeMotRows(joinProvisionalRows(run.rows, run.chunks)));
      if (run.failed.length > 0) throw new PaddockError('INTERNAL', `${run.failed.length} chunk(s) failed: ${run.failed.join('; ')}`);
    });
}
