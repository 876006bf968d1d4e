/**
 * Typed errors with stable codes, mapped once to exit codes, log lines and metric labels.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'NOT_FOUND'
  | 'CONFLICT'
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
  | 'NATS_UNAVAILABLE'
  | 'NATS'
  | 'TRACKING_INVALID'
  | 'TRACKING_STATE_INVALID'
  | 'MOT_INVALID'
  | 'FILE_UNREADABLE'
  | 'HTTP_LISTEN'
  | 'LEASE_LOST'
  | 'INTERNAL';

/** Failures of a chunk that no retry can fix: it is dead-lettered at once. */
const PERMANENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['VIDEO_MISSING', 'VIDEO_INVALID', 'VIDEO_EMPTY', 'VIDEO_FORBIDDEN', 'EVENT_INVALID', 'TRACKING_INVALID']);

/** Failures of a service, not of the chunk: the chunk is given back, never dead-lettered for them. */
const INFRASTRUCTURE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['DATABASE', 'NATS_UNAVAILABLE', 'NATS']);

export class PaddockError extends Error {
  override readonly name: string = 'PaddockError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** Retrying cannot help (read by the stream machine, see machines/types.ts isPermanentFailure). */
  get permanent(): boolean {
    return PERMANENT_CODES.has(this.code);
  }

  /** Not the chunk's fault: a service it needs failed (read by the stream machine, isInfrastructureFailure). */
  get infrastructure(): boolean {
    return INFRASTRUCTURE_CODES.has(this.code);
  }

  /** Another replica owns the stream now (read by the stream machine, isOwnershipLost): give its chunks back and stop. */
  get ownershipLost(): boolean {
    return this.code === 'LEASE_LOST';
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

/** A change that the registry's current state does not allow (e.g. nothing left to undo). */
export class ConflictError extends PaddockError {
  override readonly name = 'ConflictError';
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CONFLICT', message, { details });
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
// NOT_FOUND (an unknown horse ID) and MOT_INVALID (a malformed MOT file) are what the user typed.
const BAD_CONFIGURATION_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['CONFIG_INVALID', 'USAGE', 'MODEL_MISSING', 'MODEL_INVALID', 'PROVIDER_UNAVAILABLE', 'NOT_FOUND', 'MOT_INVALID']);

/**
 * Exit codes of the contract: 2 for bad usage or configuration (a model named by
 * PADDOCK_*_MODEL that is missing or invalid, execution providers of PADDOCK_EP that all
 * fail), 1 for any runtime failure.
 */
export function exitCodeFor(error: unknown): 1 | 2 {
  if (isPaddockError(error) && BAD_CONFIGURATION_CODES.has(error.code)) return 2;
  return 1;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
