import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { NotFoundError } from '../../errors/index.ts';
import { horseSummaryJson, openRegistry, type HorseSummary, type SqlRegistryStore } from '../../registry/index.ts';
import { commandContext } from '../context.ts';
import { parseStreamIdOption } from '../stream-option.ts';

export function parsePositiveInt(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

async function withRegistry<T>(work: (store: SqlRegistryStore) => Promise<T>): Promise<T> {
  const { config, logger } = commandContext();
  const store = await openRegistry({ config, logger, migrations: 'require' });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** The contract's `horses list --json` shape. */
export function horseListJson(horse: HorseSummary): Record<string, unknown> {
  return { ...horseSummaryJson(horse), thumbnail_bytes: horse.thumbnailBytes };
}

export function formatHorseTable(horses: HorseSummary[]): string {
  const header = ['ID', 'TRACK', 'NAME', 'COLOR', 'FIRST DETECTED', 'LAST SEEN', 'DETECTIONS', 'CONF', 'THUMB'];
  const rows = horses.map((h) => [
    h.id,
    String(h.trackingId),
    h.name ?? '-',
    h.color,
    h.firstDetected.toISOString().replace('.000Z', 'Z'),
    h.lastSeen.toISOString().replace('.000Z', 'Z'),
    String(h.totalDetections),
    h.confidenceScore.toFixed(3),
    h.thumbnailBytes > 0 ? `${(h.thumbnailBytes / 1024).toFixed(1)} KB` : '-',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  return [header, ...rows].map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/**
 * Tells `horses.events.<stream_id>` subscribers about a merge. The merge itself is done and
 * stays done: without NATS this only logs a warning.
 */
async function announceMerge(streamId: string, keep: string, drop: string): Promise<void> {
  const { config, logger } = commandContext();
  const { connectNats, createEventPublisher } = await import('../../sources/index.ts');
  try {
    const link = await connectNats(config.nats, { logger, name: 'paddock-horses', timeoutMs: 2000 });
    try {
      createEventPublisher(link.nc, { logger, subjectPrefix: `${config.natsTopology.subjectPrefix}.events` }).horseMerged(streamId, keep, drop);
    } finally {
      await link.close();
    }
  } catch (error) {
    logger.warn({ stream_id: streamId, err: (error as Error).message }, 'merge done, but the horse.merged event could not be published');
  }
}

export function registerHorsesCommand(program: Command): void {
  const horses = program.command('horses').description("inspect and edit a stream's horse registry");

  horses
    .command('list')
    .description("the stream's registry")
    .requiredOption('--stream <id>', 'stream ID', parseStreamIdOption)
    .option('--json', 'print a JSON array')
    .action(async (options: { stream: string; json?: boolean }) => {
      const list = await withRegistry((store) => store.listHorses(options.stream));
      if (options.json) process.stdout.write(`${JSON.stringify(list.map(horseListJson))}\n`);
      else if (list.length === 0) process.stdout.write(`no horses in stream ${options.stream}\n`);
      else process.stdout.write(formatHorseTable(list));
    });

  horses
    .command('rename')
    .description('set a display name')
    .requiredOption('--stream <id>', 'stream ID', parseStreamIdOption)
    .argument('<id>', 'horse ID, e.g. horse_001')
    .argument('<name>', 'display name')
    .action(async (id: string, name: string, options: { stream: string }) => {
      await withRegistry((store) => store.rename(options.stream, id, name));
      process.stdout.write(`${id} is now called ${name.trim()}\n`);
    });

  horses
    .command('merge')
    .description('merge DROP into KEEP (one horse that was registered twice)')
    .requiredOption('--stream <id>', 'stream ID', parseStreamIdOption)
    .argument('<keep>', 'the horse ID that stays')
    .argument('<drop>', 'the horse ID merged into KEEP')
    .action(async (keep: string, drop: string, options: { stream: string }) => {
      const result = await withRegistry((store) => store.merge(options.stream, keep, drop));
      process.stdout.write(`merged ${drop} into ${keep} (${result.keep.totalDetections} detections)\n`);
      await announceMerge(options.stream, keep, drop);
    });

  horses
    .command('thumbnail')
    .description('write the avatar JPEG')
    .requiredOption('--stream <id>', 'stream ID', parseStreamIdOption)
    .requiredOption('-o, --output <file>', 'output JPEG file')
    .argument('<id>', 'horse ID')
    .action(async (id: string, options: { stream: string; output: string }) => {
      const jpeg = await withRegistry((store) => store.thumbnail(options.stream, id));
      if (jpeg === null) throw new NotFoundError(`horse ${id} of stream ${options.stream} has no thumbnail`);
      await writeFile(options.output, jpeg);
      process.stdout.write(`wrote ${options.output} (${jpeg.byteLength} bytes)\n`);
    });

  horses
    .command('prune')
    .description('drop thumbnails and cache entries of horses unseen for N days (the horses keep their IDs), and sightings older than PADDOCK_SIGHTING_RETENTION_DAYS')
    .requiredOption('--inactive-days <n>', 'days without a sighting', parsePositiveInt)
    .action(async (options: { inactiveDays: number }) => {
      const { config } = commandContext();
      const result = await withRegistry((store) => store.prune(options.inactiveDays, new Date(), config.sightingRetentionDays));
      process.stdout.write(
        `${result.horsesInactive} inactive horse(s): dropped ${result.thumbnailsDropped} thumbnail(s) and ${result.cacheEntriesDropped} cache entr${result.cacheEntriesDropped === 1 ? 'y' : 'ies'}; ` +
          `${result.sightingsDropped} sighting(s) older than ${config.sightingRetentionDays} days\n`,
      );
    });

  horses
    .command('herd')
    .description("declare a stream's herd: at the expected size, tracks are assigned to the official horses and no new horse is created")
    .requiredOption('--stream <id>', 'stream ID', parseStreamIdOption)
    .option('--expected <n>', 'expected number of horses', parsePositiveInt)
    .option('--official <ids>', 'comma-separated official horse IDs')
    .option('--clear', 'remove the herd declaration (discovery mode)')
    .action(async (options: { stream: string; expected?: number; official?: string; clear?: boolean }) => {
      if (options.clear) {
        await withRegistry((store) => store.setHerd(options.stream, null));
        process.stdout.write(`stream ${options.stream}: herd cleared\n`);
        return;
      }
      if (options.expected === undefined || options.expected < 1) throw new InvalidArgumentError('--expected <n> (n ≥ 1) or --clear is required');
      const officialIds = (options.official ?? '').split(',').map((id) => id.trim()).filter((id) => id.length > 0);
      await withRegistry((store) => store.setHerd(options.stream, { expectedCount: options.expected!, officialIds }));
      process.stdout.write(`stream ${options.stream}: herd of ${options.expected} (${officialIds.length} official)\n`);
    });
}
