import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/index.ts';
import { PaddockError } from '../errors/index.ts';
import type { Database } from './database.ts';

export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'migrations');

export interface MigrationFile {
  version: string;
  name: string;
  sql: string;
  checksum: string;
}

const FILE_PATTERN = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

export async function readMigrations(dir: string = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: MigrationFile[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new PaddockError('DATABASE', `migration file ${file} does not match NNN_name.sql`);
    const sql = await readFile(path.join(dir, file), 'utf8');
    migrations.push({ version: match[1]!, name: match[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations;
}

const TRACKING_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    TEXT        PRIMARY KEY,
  name       TEXT        NOT NULL,
  checksum   TEXT        NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`;

async function appliedChecksums(db: Database): Promise<Map<string, string>> {
  await db.exec(TRACKING_TABLE);
  const { rows } = await db.query<{ version: string; checksum: string }>('SELECT version, checksum FROM schema_migrations');
  return new Map(rows.map((row) => [row.version, row.checksum]));
}

function verifyApplied(migrations: MigrationFile[], applied: Map<string, string>): void {
  for (const migration of migrations) {
    const checksum = applied.get(migration.version);
    if (checksum !== undefined && checksum !== migration.checksum) {
      throw new PaddockError('DATABASE', `migration ${migration.version}_${migration.name} was changed after it was applied`);
    }
  }
}

/** Migrations not yet applied, in order. */
export async function pendingMigrations(db: Database, dir?: string): Promise<MigrationFile[]> {
  const migrations = await readMigrations(dir);
  const applied = await appliedChecksums(db);
  verifyApplied(migrations, applied);
  return migrations.filter((migration) => !applied.has(migration.version));
}

/** Applies pending migrations in order, each in its own transaction; a no-op when up to date. */
export async function migrate(db: Database, dir?: string): Promise<MigrationFile[]> {
  return db.withMigrationLock(async () => {
    const pending = await pendingMigrations(db, dir);
    for (const migration of pending) {
      try {
        await db.transaction(async (client) => {
          for (const statement of splitStatements(migration.sql)) await client.query(statement);
          await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
            migration.version,
            migration.name,
            migration.checksum,
          ]);
        });
      } catch (error) {
        throw new PaddockError('DATABASE', `migration ${migration.version}_${migration.name} failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    return pending;
  });
}

/**
 * Splits a migration file into statements so each runs through the parameterised query path
 * inside the transaction. Our migrations hold no semicolons inside literals or bodies.
 */
function splitStatements(sql: string): string[] {
  const withoutComments = sql.replace(/--[^\n]*/g, '');
  return withoutComments
    .split(';')
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}
