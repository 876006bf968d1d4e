import { createPostgresDatabase, type Database } from '../../src/registry/database.ts';
import { migrate } from '../../src/registry/migrations.ts';
import { createScratchDatabase } from './services.ts';

/** A scratch PostgreSQL database with every migration applied; `close` closes and drops it. */
export async function migratedScratchDatabase(): Promise<{ db: Database; close: () => Promise<void> }> {
  const scratch = await createScratchDatabase();
  const db = createPostgresDatabase(scratch.url);
  await migrate(db);
  return {
    db,
    close: async () => {
      await db.close();
      await scratch.drop();
    },
  };
}
