import type { Command } from 'commander';
import { startDaemon } from '../../daemon/index.ts';
import { commandContext } from '../context.ts';
import { ensureProjectModels } from '../project-models.ts';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('the daemon: chunk events from NATS JetStream (default) or new files in a watched folder DIR/<stream_id>/*.mp4')
    .option('--watch <dir>', 'watch DIR/<stream_id>/*.mp4 instead of NATS')
    .option('--migrate', 'apply pending database migrations first (otherwise they stop the start)')
    .action(async (options: { watch?: string; migrate?: boolean }) => {
      const { config, logger } = commandContext();
      // Signals are taken from the start: one that arrives while the daemon is still starting
      // stops it as soon as it is up (within the same absolute deadline), never abruptly.
      let daemon: Awaited<ReturnType<typeof startDaemon>> | null = null;
      let stopRequested: NodeJS.Signals | null = null;
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals += 1;
        if (signals > 1) {
          logger.warn({ signal }, 'second signal: exiting now');
          process.exit(1);
        }
        // The deadline is absolute: whatever still hangs then (a NATS drain towards an
        // unreachable server, a database that stopped answering) is abandoned. Unacked chunks are redelivered.
        setTimeout(() => {
          logger.error({ signal, deadline_s: config.shutdownDeadlineMs / 1000 }, 'shutdown deadline passed: exiting now');
          process.exit(1);
        }, config.shutdownDeadlineMs).unref();
        stopRequested = signal;
        if (daemon !== null) void daemon.shutdown(signal);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      daemon = await startDaemon({
        config,
        logger,
        ...(options.watch === undefined ? {} : { watchDir: options.watch }),
        migrate: options.migrate === true,
        prepareModels: () => ensureProjectModels(config, logger),
      });
      if (stopRequested !== null) void daemon.shutdown(stopRequested);
      await daemon.stopped;
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      // Everything was closed in order; a client library's stray timer must not keep us up.
      setTimeout(() => process.exit(0), 2000).unref();
    });
}
