import path from 'node:path';
import type { PaddockConfig } from '../config/index.ts';
import { PaddockError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { createEmbeddedDatabase, createPostgresDatabase, type Database } from './database.ts';
import type { HotCache } from './hot-cache.ts';
import { MemoryHotCache } from './memory-cache.ts';
import { migrate, pendingMigrations } from './migrations.ts';
import { RedisHotCache } from './redis-cache.ts';
import { SqlRegistryStore, type RegistryHooks } from './sql-store.ts';

export type { RegistryStore, RegistrySnapshot, StoredHorse, HorseChunkUpdate, ChunkRecord, SaveChunkResult, HorseSummary } from './types.ts';
export { SqlRegistryStore, type RegistryHooks } from './sql-store.ts';
export type { HorseDetail, HorseListing, Sighting, StreamOverview } from './browse.ts';
export type { SplitResult, UndoResult } from './curation.ts';
export { migrate } from './migrations.ts';
export { horseSummaryJson } from './horse-rows.ts';
export { LeaseTable, type ClusterView, type Lease, type WriteFence } from './leases.ts';

export type MigrationPolicy = 'apply' | 'require';

export async function openDatabase(config: Pick<PaddockConfig, 'databaseUrl' | 'dataDir'>): Promise<Database> {
  if (config.databaseUrl !== undefined) return createPostgresDatabase(config.databaseUrl);
  return createEmbeddedDatabase(path.join(config.dataDir, 'registry'));
}

export function openCache(config: Pick<PaddockConfig, 'redisUrl' | 'cache'>, logger: Logger): HotCache {
  if (config.redisUrl !== undefined) return new RedisHotCache(config.redisUrl, config.cache, logger);
  return new MemoryHotCache(config.cache);
}

/**
 * Opens the registry the configuration names: PostgreSQL + Redis, or embedded PGlite + an
 * in-process cache. With policy `require`, pending migrations are an error (the daemon without
 * --migrate); the embedded database is always brought up to date, as nobody else can migrate it.
 */
export async function openRegistry(options: {
  config: PaddockConfig;
  logger: Logger;
  migrations: MigrationPolicy;
  hooks?: RegistryHooks;
}): Promise<SqlRegistryStore> {
  const { config, logger } = options;
  const db = await openDatabase(config);
  try {
    if (db.kind === 'embedded' || options.migrations === 'apply') {
      const applied = await migrate(db);
      if (applied.length > 0) logger.info({ applied: applied.map((m) => `${m.version}_${m.name}`) }, 'migrations applied');
    } else {
      const pending = await pendingMigrations(db);
      if (pending.length > 0) {
        throw new PaddockError('MIGRATIONS_PENDING', `${pending.length} database migration(s) pending (${pending.map((m) => `${m.version}_${m.name}`).join(', ')}): run \`paddock migrate\` or start with --migrate`);
      }
    }
  } catch (error) {
    await db.close().catch(() => {});
    if (error instanceof PaddockError) throw error;
    throw new PaddockError('DATABASE', `cannot use the database: ${(error as Error).message}`, { cause: error });
  }
  const cache = openCache(config, logger);
  return new SqlRegistryStore(db, cache, logger, { maxExemplars: config.featureExemplars, hooks: options.hooks });
}
