import { Command, CommanderError } from 'commander';
import { errorMessage, exitCodeFor } from '../errors/index.ts';
import { registerMigrateCommand } from './commands/migrate.ts';
import { registerHorsesCommand } from './commands/horses.ts';
import { registerEvalCommand } from './commands/eval.ts';
import { registerSynthCommand } from './commands/synth.ts';
import { registerPublishCommand } from './commands/publish.ts';
import { registerProcessCommand } from './commands/process.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerRunCommand } from './commands/run.ts';
import { registerCalibrateCommand } from './commands/calibrate.ts';

const program = new Command('paddock')
  .description('Keeps track of horses in live camera streams: a persistent per-stream horse registry')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ outputError: () => {} });

registerMigrateCommand(program);
registerHorsesCommand(program);
registerEvalCommand(program);
registerSynthCommand(program);
registerPublishCommand(program);
registerProcessCommand(program);
registerDemoCommand(program);
registerRunCommand(program);
registerCalibrateCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) process.exit(0);
    process.stderr.write(`paddock: ${error.message.replace(/^error: /, '')}\n`);
    process.exit(2);
  }
  process.stderr.write(`paddock: ${errorMessage(error)}\n`);
  process.exit(exitCodeFor(error));
}
