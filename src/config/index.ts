import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../errors/index.ts';

/** The repository root, so defaults do not depend on the working directory. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const DEFAULT_DETECTOR_MODEL = path.join(PROJECT_ROOT, 'models', 'build', 'paddock_detector.onnx');
export const DEFAULT_REID_MODEL = path.join(PROJECT_ROOT, 'models', 'build', 'paddock_reid.onnx');
export const MODEL_CONFIG_DIR = path.join(PROJECT_ROOT, 'models', 'configs');

const EXECUTION_PROVIDERS = ['cuda', 'tensorrt', 'cpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const numberFrom = (min: number, max: number) => z.coerce.number().min(min).max(max);
const optionalString = z.string().min(1).optional();
const commaList = z
  .string()
  .transform((value) => value.split(',').map((item) => item.trim()).filter((item) => item.length > 0));

const urlWithProtocols = (protocols: string[]) =>
  z
    .string()
    .refine((value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, `must be a URL starting with ${protocols.join(' or ')}//`)
    .refine((value) => {
      // Clients decode these parts later and would fail with a bare "URI malformed".
      try {
        const url = new URL(value);
        for (const part of [url.username, url.password, url.pathname, url.search]) decodeURIComponent(part);
        return true;
      } catch {
        return false;
      }
    }, 'has a malformed %-escape (write % as %25)');

/** Every variable paddock reads, with its default. Unknown PADDOCK_* variables are refused. */
const environmentSchema = z.object({
  DATABASE_URL: urlWithProtocols(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: urlWithProtocols(['redis:', 'rediss:']).optional(),
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  NATS_USER: optionalString,
  NATS_PASSWORD: optionalString,
  NATS_TOKEN: optionalString,
  NATS_CREDS_FILE: optionalString,
  NATS_TLS_CA: optionalString,
  NATS_TLS_CERT: optionalString,
  NATS_TLS_KEY: optionalString,
  PADDOCK_NATS_SUBJECT_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be dot-separated subject tokens').default('horses'),
  PADDOCK_NATS_STREAM: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a JetStream stream name').default('HORSE_CHUNKS'),
  PADDOCK_NATS_DLQ_STREAM: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a JetStream stream name').default('HORSE_DLQ'),
  PADDOCK_NATS_CONSUMER: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a consumer name').default('paddock'),
  PADDOCK_NATS_ACK_WAIT_S: numberFrom(3, 3600).default(15),
  PADDOCK_NATS_MAX_ACK_PENDING: intFrom(1, 100_000).default(1000),
  FFMPEG_PATH: optionalString,
  PADDOCK_DATA_DIR: z.string().min(1).default('./data'),
  PADDOCK_DETECTOR_MODEL: z.string().min(1).default(DEFAULT_DETECTOR_MODEL),
  PADDOCK_REID_MODEL: z.string().min(1).default(DEFAULT_REID_MODEL),
  PADDOCK_DETECTOR_CONFIG: optionalString,
  PADDOCK_REID_CONFIG: optionalString,
  PADDOCK_EP: commaList
    .default(['cuda', 'cpu'])
    .pipe(z.array(z.enum(EXECUTION_PROVIDERS)).min(1, 'must name at least one execution provider')),
  PADDOCK_INTRA_OP_THREADS: intFrom(0, 256).default(0),
  PADDOCK_INTER_OP_THREADS: intFrom(0, 256).default(0),
  PADDOCK_REID_BATCH_WAIT_MS: numberFrom(0, 1000).default(0),
  PADDOCK_SAMPLE_FPS: numberFrom(0.1, 120).default(5),
  PADDOCK_MOTION_THRESHOLD: numberFrom(0, 255).default(1),
  PADDOCK_MOTION_MAX_HELD_FRAMES: intFrom(0, 1000).default(10),
  PADDOCK_CAMERA_MOTION: z.enum(['on', 'off']).default('on'),
  PADDOCK_HTTP_PORT: intFrom(0, 65535).default(9464),
  PADDOCK_HTTP_HOST: z
    .string()
    .regex(/^(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f:]+|[A-Za-z0-9.-]+)$/, 'must be an IP address or host name to bind')
    .default('0.0.0.0'),
  PADDOCK_METRICS_MAX_STREAMS: intFrom(1, 10_000).default(50),
  PADDOCK_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PADDOCK_CACHE_TTL_S: intFrom(1, 7 * 24 * 3600).default(300),
  PADDOCK_CACHE_INDEX_SIZE: intFrom(1, 10_000).default(50),
  PADDOCK_FEATURE_EXEMPLARS: intFrom(1, 64).default(8),
  PADDOCK_REID_THRESHOLD: numberFrom(0, 1).optional(),
  PADDOCK_REID_REFRESH_FRAMES: intFrom(0, 1000).optional(),
  PADDOCK_FFMPEG_TIMEOUT_S: numberFrom(1, 3600).default(120),
  PADDOCK_ALLOWED_PATHS: commaList.optional(),
  PADDOCK_ALLOWED_HOSTS: commaList.optional(),
  PADDOCK_MAX_INFLIGHT: intFrom(1, 256).default(2),
  PADDOCK_IDLE_TIMEOUT_S: numberFrom(1, 7 * 24 * 3600).default(600),
  PADDOCK_SHUTDOWN_DEADLINE_S: numberFrom(1, 3600).default(30),
  PADDOCK_MAX_DELIVERIES: intFrom(1, 100).default(5),
  PADDOCK_PRUNE_INACTIVE_DAYS: intFrom(1, 36500).default(90),
  PADDOCK_SIGHTING_RETENTION_DAYS: intFrom(1, 36500).default(7),
  PADDOCK_REPLICA_ID: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1–128 letters, digits or ._:-').optional(),
  PADDOCK_API_TOKENS: z.string().optional(),
  PADDOCK_API_TOKENS_FILE: optionalString,
  PADDOCK_LEASE_TTL_S: numberFrom(0, 3600)
    .refine((value) => value === 0 || value >= 1, 'must be 0 (no leases: one replica only) or at least 1')
    .default(15),
});

export type Environment = z.infer<typeof environmentSchema>;

const KNOWN_PREFIXED = new Set(Object.keys(environmentSchema.shape).filter((key) => key.startsWith('PADDOCK_')));

/** Reads and validates the environment once; any bad value throws a ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): PaddockConfig {
  const unknown = Object.keys(env).filter((key) => key.startsWith('PADDOCK_') && !KNOWN_PREFIXED.has(key));
  if (unknown.length > 0) {
    throw new ConfigError(`unknown configuration variable ${unknown.join(', ')}`, { variables: unknown });
  }
  const relevant: Record<string, string> = {};
  for (const key of Object.keys(environmentSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') relevant[key] = value;
  }
  const parsed = environmentSchema.safeParse(relevant);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(`invalid ${variable}: ${issue?.message ?? 'invalid value'} (got ${JSON.stringify(redacted(variable, relevant[variable]))})`, {
      variable,
    });
  }
  return configFrom(parsed.data, env.PADDOCK_EP !== undefined, apiTokensFrom(parsed.data));
}

export type ApiScope = 'read' | 'admin';
export interface ApiToken {
  scope: ApiScope;
  token: string;
}

const MIN_API_TOKEN_LENGTH = 16;

/**
 * `scope:token` entries, comma- or newline-separated (a file may have `#` comments), from
 * PADDOCK_API_TOKENS and PADDOCK_API_TOKENS_FILE together. Empty: no token configured.
 */
function apiTokensFrom(e: Environment): ApiToken[] {
  const sources: Array<{ variable: string; text: string }> = [];
  if (e.PADDOCK_API_TOKENS !== undefined) sources.push({ variable: 'PADDOCK_API_TOKENS', text: e.PADDOCK_API_TOKENS });
  if (e.PADDOCK_API_TOKENS_FILE !== undefined) {
    try {
      sources.push({ variable: 'PADDOCK_API_TOKENS_FILE', text: readFileSync(e.PADDOCK_API_TOKENS_FILE, 'utf8') });
    } catch (error) {
      throw new ConfigError(`invalid PADDOCK_API_TOKENS_FILE: cannot read ${e.PADDOCK_API_TOKENS_FILE}: ${(error as Error).message}`, { variable: 'PADDOCK_API_TOKENS_FILE' });
    }
  }
  const tokens: ApiToken[] = [];
  for (const { variable, text } of sources) {
    const entries = text
      .split(/\r?\n/)
      .map((line) => line.replace(/#.*$/, ''))
      .flatMap((line) => line.split(','))
      .map((entry) => entry.trim())
      .filter((entry) => entry.length > 0);
    entries.forEach((entry, index) => {
      const colon = entry.indexOf(':');
      const scope = entry.slice(0, colon);
      const token = entry.slice(colon + 1);
      const where = `entry ${index + 1}`;
      if (colon < 0 || (scope !== 'read' && scope !== 'admin')) {
        throw new ConfigError(`invalid ${variable}: ${where} must be read:<token> or admin:<token>`, { variable });
      }
      if (token.length < MIN_API_TOKEN_LENGTH || /\s/.test(token)) {
        throw new ConfigError(`invalid ${variable}: ${where} needs a token of at least ${MIN_API_TOKEN_LENGTH} characters without spaces`, { variable });
      }
      tokens.push({ scope, token });
    });
  }
  return tokens;
}

/** The configuration paddock runs with; its type follows from the schema through configFrom. */
export type PaddockConfig = ReturnType<typeof configFrom>;

function configFrom(e: Environment, providersAskedFor: boolean, apiTokens: ApiToken[] = []) {
  return {
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    nats: {
      url: e.NATS_URL,
      user: e.NATS_USER,
      password: e.NATS_PASSWORD,
      token: e.NATS_TOKEN,
      credsFile: e.NATS_CREDS_FILE,
      tls: { ca: e.NATS_TLS_CA, cert: e.NATS_TLS_CERT, key: e.NATS_TLS_KEY },
    },
    /** JetStream names; the contract's by default, changeable to run several deployments on one NATS. */
    natsTopology: {
      /** `<prefix>.chunks.<stream>`, `<prefix>.dlq.<stream>`, `<prefix>.events.<stream>`. */
      subjectPrefix: e.PADDOCK_NATS_SUBJECT_PREFIX,
      stream: e.PADDOCK_NATS_STREAM,
      dlqStream: e.PADDOCK_NATS_DLQ_STREAM,
      consumer: e.PADDOCK_NATS_CONSUMER,
      /** How long JetStream waits for an ack before redelivering; in-progress acks extend it. */
      ackWaitMs: e.PADDOCK_NATS_ACK_WAIT_S * 1000,
      /** Chunks delivered and not yet acked, all replicas together (the consumer's max_ack_pending). */
      maxAckPending: e.PADDOCK_NATS_MAX_ACK_PENDING,
    },
    dataDir: path.resolve(e.PADDOCK_DATA_DIR),
    ffmpegPath: e.FFMPEG_PATH,
    ffmpegTimeoutMs: e.PADDOCK_FFMPEG_TIMEOUT_S * 1000,
    allowedPaths: e.PADDOCK_ALLOWED_PATHS?.map((prefix) => path.resolve(prefix)),
    allowedHosts: e.PADDOCK_ALLOWED_HOSTS,
    models: {
      detector: { modelPath: path.resolve(e.PADDOCK_DETECTOR_MODEL), configPath: e.PADDOCK_DETECTOR_CONFIG },
      reid: { modelPath: path.resolve(e.PADDOCK_REID_MODEL), configPath: e.PADDOCK_REID_CONFIG },
      executionProviders: e.PADDOCK_EP,
      /** PADDOCK_EP was set: a provider it names that is missing is worth a warning, not only a debug line. */
      executionProvidersAskedFor: providersAskedFor,
      intraOpThreads: e.PADDOCK_INTRA_OP_THREADS,
      interOpThreads: e.PADDOCK_INTER_OP_THREADS,
      /** How long a ReID run may wait for other streams' crops to share it (ms); 0: only those already waiting. */
      reidBatchWaitMs: e.PADDOCK_REID_BATCH_WAIT_MS,
    },
    sampleFps: e.PADDOCK_SAMPLE_FPS,
    /** Motion gating (src/video/motion-gate.ts): threshold 0 runs the detector on every frame. */
    motionGate: { threshold: e.PADDOCK_MOTION_THRESHOLD, maxHeldFrames: e.PADDOCK_MOTION_MAX_HELD_FRAMES },
    /** Camera motion compensation (src/video/camera-motion.ts): the tracks follow the camera's pan and zoom. */
    cameraMotion: e.PADDOCK_CAMERA_MOTION === 'on',
    httpPort: e.PADDOCK_HTTP_PORT,
    /** Address the HTTP server binds (PADDOCK_HTTP_HOST). */
    httpHost: e.PADDOCK_HTTP_HOST,
    /** Bearer tokens of the HTTP API (PADDOCK_API_TOKENS, PADDOCK_API_TOKENS_FILE); none: loopback clients only. */
    apiTokens,
    /** Streams that get their own `stream` label in metrics; the rest share `stream="other"`. */
    metricsMaxStreams: e.PADDOCK_METRICS_MAX_STREAMS,
    logLevel: e.PADDOCK_LOG_LEVEL,
    cache: { ttlSeconds: e.PADDOCK_CACHE_TTL_S, indexSize: e.PADDOCK_CACHE_INDEX_SIZE },
    featureExemplars: e.PADDOCK_FEATURE_EXEMPLARS,
    /** Explicit PADDOCK_REID_THRESHOLD; unset: the reid model config's reidSimilarity, else the tracker default (0.75). */
    reidThreshold: e.PADDOCK_REID_THRESHOLD,
    /** Explicit PADDOCK_REID_REFRESH_FRAMES (ReID on demand; 0 embeds every detection); unset: the tracker default (5). */
    reidRefreshFrames: e.PADDOCK_REID_REFRESH_FRAMES,
    maxInflight: e.PADDOCK_MAX_INFLIGHT,
    idleTimeoutMs: e.PADDOCK_IDLE_TIMEOUT_S * 1000,
    shutdownDeadlineMs: e.PADDOCK_SHUTDOWN_DEADLINE_S * 1000,
    maxDeliveries: e.PADDOCK_MAX_DELIVERIES,
    pruneInactiveDays: e.PADDOCK_PRUNE_INACTIVE_DAYS,
    /** Days of sightings (the horses' timelines) the prune keeps. */
    sightingRetentionDays: e.PADDOCK_SIGHTING_RETENTION_DAYS,
    /**
     * Stream ownership (src/ownership) when several replicas share one consumer: this replica's
     * name (unique per replica; the host name by default, stable across restarts) and the lease
     * TTL. 0 turns leases off. Only `paddock run` on NATS with PostgreSQL uses them.
     */
    ownership: { replicaId: e.PADDOCK_REPLICA_ID ?? os.hostname(), leaseTtlMs: e.PADDOCK_LEASE_TTL_S * 1000 },
  };
}

/** Variables whose whole value is a secret. */
const SECRET_VARIABLE = /PASSWORD|TOKEN|SECRET|(^|_)KEY$/;
const URL_CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/)([^:@/?#]*):([^@/?#]*)@/i;
const QUERY_SECRETS = /([?&](?:password|pass|token|secret)=)[^&#]*/gi;

/**
 * A value as it may appear in an error message: secret variables masked whole, a URL's password
 * (`scheme://user:password@host`) and `password=`/`token=` query values replaced by ***.
 */
export function redacted(variable: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (SECRET_VARIABLE.test(variable)) return '***';
  return value.replace(URL_CREDENTIALS, '$1$2:***@').replace(QUERY_SECRETS, '$1***');
}
