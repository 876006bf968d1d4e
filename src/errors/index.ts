/**
 * Typed errors with stable codes, mapped once to exit codes, log lines and metric labels.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'NOT_FOUND'
  | 'THUMBNAIL_TOO_LARGE'
  | 'THUMBNAIL_INVALID'
  | 'VERSION_CONFLICT'
  | 'MIGRATIONS_PENDING'
  | 'DATABASE'
  | 'CACHE'
  | 'VIDEO_MISSING'
  | 'VIDEO_INVALID'
  | 'VIDEO_EMPTY'
  | 'VIDEO_CORRUPT'
  | 'VIDEO_TIMEOUT'
  | 'VIDEO_FORBIDDEN'
  | 'FFMPEG_MISSING'
  | 'VIDEO_ENCODE_FAILED'
  | 'MODEL_MISSING'
  | 'MODEL_INVALID'
  | 'PROVIDER_UNAVAILABLE'
  | 'INFERENCE'
  | 'EVENT_INVALID'
  | 'TRACKING_INVALID'
  | 'MOT_INVALID'
  | 'FILE_UNREADABLE'
  | 'HTTP_LISTEN'
  | 'INTERNAL';

export class PaddockError extends Error {
  override readonly name: string = 'PaddockError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }
}

export class ConfigError extends PaddockError {
  override readonly name = 'ConfigError';
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CONFIG_INVALID', message, { details });
  }
}

export class UsageError extends PaddockError {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super('USAGE', message);
  }
}

export class NotFoundError extends PaddockError {
  override readonly name = 'NotFoundError';
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('NOT_FOUND', message, { details });
  }
}

export function isPaddockError(error: unknown): error is PaddockError {
  return error instanceof PaddockError;
}

/** Exit codes of the contract: 2 for bad usage or configuration, 1 for any runtime failure. */
export function exitCodeFor(error: unknown): 1 | 2 {
  if (isPaddockError(error) && (error.code === 'CONFIG_INVALID' || error.code === 'USAGE')) return 2;
  return 1;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
