import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmbeddedDatabase } from '../../src/registry/database.ts';
import { MIGRATIONS_DIR, migrate, pendingMigrations, readMigrations } from '../../src/registry/migrations.ts';

describe('migrations', () => {
  it('are numbered SQL files applied in order', async () => {
    const files = await readMigrations();
    expect(files.map((file) => file.version)).toEqual([...files.map((file) => file.version)].sort());
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it('apply to an empty database, are a no-op when up to date, and refuse edited history', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'paddock-migrations-'));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    const db = await createEmbeddedDatabase(undefined);
    try {
      expect((await pendingMigrations(db, dir)).length).toBeGreaterThanOrEqual(3);
      const applied = await migrate(db, dir);
      expect(applied.map((m) => m.name).slice(0, 3)).toEqual(['horses', 'stream_chunks', 'streams']);
      expect(applied.map((m) => m.version)).toEqual((await readMigrations(dir)).map((m) => m.version));
      expect(await migrate(db, dir)).toEqual([]);
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0]!.n).toBe(applied.length);

      await writeFile(path.join(dir, '999_extra.sql'), 'CREATE TABLE extra (id INT PRIMARY KEY);\n');
      expect((await migrate(db, dir)).map((m) => m.version)).toEqual(['999']);

      await writeFile(path.join(dir, '001_horses.sql'), '-- edited after release\n');
      await expect(migrate(db, dir)).rejects.toThrow(/001_horses was changed after it was applied/);
    } finally {
      await db.close();
    }
  });

  it('roll back a failing migration completely', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'paddock-migrations-bad-'));
    await writeFile(path.join(dir, '001_ok.sql'), 'CREATE TABLE ok (id INT);');
    await writeFile(path.join(dir, '002_bad.sql'), 'CREATE TABLE half (id INT);\nCREATE TABLE broken (id NOPE);');
    const db = await createEmbeddedDatabase(undefined);
    try {
      await expect(migrate(db, dir)).rejects.toThrow(/002_bad failed/);
      const { rows } = await db.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE tablename IN ('ok', 'half')");
      expect(rows.map((row) => row.name)).toEqual(['ok']);
      expect((await pendingMigrations(db, dir)).map((m) => m.version)).toEqual(['002']);
    } finally {
      await db.close();
    }
  });
});
