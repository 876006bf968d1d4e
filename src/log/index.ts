import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stderr (stdout stays free for command output such as `--json`). */
export function createLogger(level: string = process.env.PADDOCK_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { service: 'paddock' },
      redact: { paths: ['*.password', '*.token', '*.pass', 'password', 'token', 'pass', 'databaseUrl', 'natsToken'], censor: '[redacted]' },
    },
    pino.destination(2),
  );
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
