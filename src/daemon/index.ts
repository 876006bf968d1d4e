/** `paddock run` (the daemon) and chunk files run as one stream through the daemon's own path. */
export { startDaemon, type Daemon, type DaemonOptions } from './daemon.ts';
export { planFileChunks, runChunkEvents, runFileStream, type FileChunkPlan, type FileStreamRun } from './run-files.ts';
