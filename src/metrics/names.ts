/**
 * Every metric paddock exports, named in one place: the Grafana dashboard, the alert rules and
 * their tests are checked against these constants.
 */
export const METRIC_PREFIX = 'paddock_';

export const METRIC = {
  buildInfo: 'paddock_build_info',
  chunkDuration: 'paddock_chunk_duration_seconds',
  chunkOverheadRatio: 'paddock_chunk_overhead_ratio',
  registryLoad: 'paddock_registry_load_seconds',
  registryMatch: 'paddock_registry_match_seconds',
  chunks: 'paddock_chunks_total',
  reidDecisions: 'paddock_reid_decisions_total',
  actors: 'paddock_actors',
  queueDepth: 'paddock_stream_queue_depth',
  lag: 'paddock_stream_lag_seconds',
  inference: 'paddock_inference_seconds',
  inferenceItems: 'paddock_inference_items_total',
  executionProvider: 'paddock_execution_provider_info',
  redeliveries: 'paddock_nats_redeliveries_total',
  deadLetters: 'paddock_dead_letters_total',
  cacheLookups: 'paddock_cache_lookups_total',
  registryHorses: 'paddock_registry_horses',
  errors: 'paddock_errors_total',
  streamsOwned: 'paddock_streams_owned',
  replicasLive: 'paddock_replicas_live',
  leaseEvents: 'paddock_stream_leases_total',
  leaseRenewals: 'paddock_lease_renewals_total',
  handedBack: 'paddock_chunks_handed_back_total',
  fencedWrites: 'paddock_fenced_writes_total',
  apiRequests: 'paddock_api_requests_total',
  registryChanges: 'paddock_registry_changes_total',
  apiEventStreams: 'paddock_api_event_streams',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** The stages of one chunk, as in the chunk result's `timings_ms`. */
export const CHUNK_STAGES = ['load_registry', 'decode', 'detect', 'embed', 'track', 'thumbnails', 'persist', 'total'] as const;
export type ChunkStage = (typeof CHUNK_STAGES)[number];
/** A chunk's stage timings in milliseconds, as in the chunk result's `timings_ms`. */
export type ChunkTimings = Record<ChunkStage, number>;

/** What became of a chunk event. `retried` counts a failed attempt that will be delivered again. */
export const CHUNK_OUTCOMES = ['processed', 'duplicate', 'failed', 'dead_lettered', 'invalid', 'retried'] as const;
export type ChunkOutcomeLabel = (typeof CHUNK_OUTCOMES)[number];

export const REID_DECISIONS = ['new', 'reactivated', 'continued'] as const;
export type ReidDecision = (typeof REID_DECISIONS)[number];

/** Where a stream's registry was loaded from: Redis, the in-process cache, PostgreSQL or embedded PGlite. */
export const REGISTRY_SOURCES = ['redis', 'memory', 'postgres', 'embedded'] as const;
export type RegistrySource = (typeof REGISTRY_SOURCES)[number];

export const CACHE_RESULTS = ['hit', 'miss', 'corrupt'] as const;
export type CacheResult = (typeof CACHE_RESULTS)[number];

/** The two models; the label is the role, not the file name, so it stays bounded. */
export const MODEL_ROLES = ['detector', 'reid'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];

/** Whether a model ran on an item (detector: a frame; reid: a detection) or its run was skipped as not needed. */
export const INFERENCE_OUTCOMES = ['ran', 'skipped'] as const;
export type InferenceOutcome = (typeof INFERENCE_OUTCOMES)[number];

export const HORSE_STATES = ['known', 'active'] as const;
export type HorseState = (typeof HORSE_STATES)[number];

/** The label value shared by every stream beyond the per-stream limit. */
export const OTHER_STREAM = 'other';

/** What happened to a stream lease of this replica: taken, given up (hand-over, idle, shutdown) or lost to another replica. */
export const LEASE_EVENTS = ['acquired', 'released', 'lost'] as const;
export type LeaseEventLabel = (typeof LEASE_EVENTS)[number];

/** Lease renewal rounds: leases renewed, leases found lost, rounds that failed (the database). */
export const LEASE_RENEWAL_RESULTS = ['renewed', 'lost', 'failed'] as const;
export type LeaseRenewalResult = (typeof LEASE_RENEWAL_RESULTS)[number];

/** Why a delivery was handed back to JetStream for another replica. */
export const HAND_BACK_REASONS = ['owned-elsewhere', 'expiring', 'not-chosen', 'releasing', 'unavailable'] as const;
export type HandBackReason = (typeof HAND_BACK_REASONS)[number];

/** Operator changes to a registry through the API (the web app). */
export const REGISTRY_CHANGES = ['rename', 'official', 'delete', 'merge', 'split', 'undo', 'herd'] as const;
export type RegistryChange = (typeof REGISTRY_CHANGES)[number];
