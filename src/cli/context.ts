import { loadConfig, type PaddockConfig } from '../config/index.ts';
import { createLogger, type Logger } from '../log/index.ts';

export interface CommandContext {
  config: PaddockConfig;
  logger: Logger;
}

/** Reads the configuration once per command; a bad value throws a ConfigError (exit 2). */
export function commandContext(): CommandContext {
  const config = loadConfig();
  return { config, logger: createLogger(config.logLevel) };
}
