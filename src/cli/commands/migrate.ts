import type { Command } from 'commander';
import { migrate, openDatabase } from '../../registry/index.ts';
import { commandContext } from '../context.ts';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (PostgreSQL, or the embedded database without DATABASE_URL)')
    .action(async () => {
      const { config } = commandContext();
      const db = await openDatabase(config);
      try {
        const applied = await migrate(db);
        if (applied.length === 0) process.stdout.write('database is up to date\n');
        for (const migration of applied) process.stdout.write(`applied ${migration.version}_${migration.name}\n`);
      } finally {
        await db.close();
      }
    });
}
