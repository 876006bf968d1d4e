import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ExecutionProvider } from '../config/index.ts';
import type { ErrorCode } from '../errors/index.ts';
import { isPaddockError } from '../errors/index.ts';
import {
  CHUNK_STAGES,
  METRIC,
  METRIC_PREFIX,
  type CacheResult,
  type HandBackReason,
  type LeaseEventLabel,
  type LeaseRenewalResult,
  type ChunkOutcomeLabel,
  type ChunkStage,
  type ChunkTimings,
  type HorseState,
  type InferenceOutcome,
  type ModelRole,
  type RegistrySource,
  type ReidDecision,
  type RegistryChange,
} from './names.ts';
import { overheadRatio } from './overhead.ts';
import { PerStreamGauge, StreamLabels } from './stream-labels.ts';

export * from './names.ts';
export { overheadRatio } from './overhead.ts';
export { PerStreamGauge, StreamLabels } from './stream-labels.ts';

export const DEFAULT_METRICS_MAX_STREAMS = 50;

/**
 * prom-client's default gauges that `promtool check metrics` flags (a gauge may not end in
 * `_total`). Each duplicates the sum of its per-type sibling (`nodejs_active_handles{type}` …),
 * so dropping them loses nothing.
 */
const LINT_FAILING_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

// Seconds. A chunk is ~10 s of video, so a stage past 10 s means the stream falls behind.
const STAGE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80];
const INFERENCE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const REGISTRY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
// Dense around the 2 % overhead budget.
const OVERHEAD_BUCKETS = [0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.05, 0.1, 0.25, 0.5, 1];

export interface MetricsOptions {
  /** Streams with their own `stream` label; later ones share `stream="other"` (PADDOCK_METRICS_MAX_STREAMS). */
  maxStreams?: number;
  /** Process and Node.js runtime metrics, prefixed `paddock_` (default true). */
  defaultMetrics?: boolean;
  /** Shown in paddock_build_info. */
  version?: string;
}

/** Creates every paddock metric on the given registry (never the global one) and returns typed handles. */
export function createMetrics(registry: Registry = new Registry(), options: MetricsOptions = {}) {
  const registers = [registry];
  const streams = new StreamLabels(options.maxStreams ?? DEFAULT_METRICS_MAX_STREAMS);
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
    for (const name of LINT_FAILING_DEFAULT_METRICS) registry.removeSingleMetric(METRIC_PREFIX + name);
  }

  const buildInfo = new Gauge({
    name: METRIC.buildInfo,
    help: 'Always 1; the labels name the running version and Node.js runtime.',
    labelNames: ['version', 'node_version'] as const,
    registers,
  });
  buildInfo.set({ version: options.version ?? 'unknown', node_version: process.versions.node }, 1);

  const chunkDuration = new Histogram({
    name: METRIC.chunkDuration,
    help: 'Time spent on one chunk, per pipeline stage; stage="total" is the whole chunk.',
    labelNames: ['stage'] as const,
    buckets: STAGE_BUCKETS,
    registers,
  });
  const chunkOverheadRatio = new Histogram({
    name: METRIC.chunkOverheadRatio,
    help: 'Registry overhead of a chunk: (load_registry + registry matching + thumbnails + persist) / total. Budget: 0.02.',
    buckets: OVERHEAD_BUCKETS,
    registers,
  });
  const registryLoad = new Histogram({
    name: METRIC.registryLoad,
    help: "Time to load a stream's horse registry, by where it came from.",
    labelNames: ['source'] as const,
    buckets: REGISTRY_BUCKETS,
    registers,
  });
  const registryMatch = new Histogram({
    name: METRIC.registryMatch,
    help: "Time spent matching a chunk's tracks against the stream's registry (re-identification).",
    buckets: REGISTRY_BUCKETS,
    registers,
  });
  const chunks = new Counter({
    name: METRIC.chunks,
    help: 'Chunk events by outcome: processed, duplicate, failed, dead_lettered, invalid, retried.',
    labelNames: ['stream', 'outcome'] as const,
    registers,
  });
  const reidDecisions = new Counter({
    name: METRIC.reidDecisions,
    help: 'Re-identification decisions per horse and chunk: new, reactivated or continued.',
    labelNames: ['stream', 'decision'] as const,
    registers,
  });
  const actors = new Gauge({
    name: METRIC.actors,
    help: 'Stream actors by machine state.',
    labelNames: ['state'] as const,
    registers,
  });
  const queueDepth = new Gauge({
    name: METRIC.queueDepth,
    help: 'Chunk events received for a stream and not yet finished.',
    labelNames: ['stream'] as const,
    registers,
  });
  const lag = new Gauge({
    name: METRIC.lag,
    help: "Seconds between the end of a stream's most recently finished chunk and the moment it was finished.",
    labelNames: ['stream'] as const,
    registers,
  });
  const inference = new Histogram({
    name: METRIC.inference,
    help: 'Duration of one ONNX inference run, by model role and execution provider.',
    labelNames: ['model', 'provider'] as const,
    buckets: INFERENCE_BUCKETS,
    registers,
  });
  const inferenceItems = new Counter({
    name: METRIC.inferenceItems,
    help: 'Items a model ran on or skipped as not needed (detector: frames, motion gating; reid: detections, ReID on demand).',
    labelNames: ['model', 'outcome'] as const,
    registers,
  });
  const executionProvider = new Gauge({
    name: METRIC.executionProvider,
    help: 'Always 1 for the execution provider each model runs on.',
    labelNames: ['model', 'provider'] as const,
    registers,
  });
  const redeliveries = new Counter({
    name: METRIC.redeliveries,
    help: 'Chunk messages JetStream delivered more than once.',
    labelNames: ['stream'] as const,
    registers,
  });
  const deadLetters = new Counter({
    name: METRIC.deadLetters,
    help: 'Chunk messages sent to horses.dlq.<stream_id>, by reason (an error code).',
    labelNames: ['stream', 'reason'] as const,
    registers,
  });
  const cacheLookups = new Counter({
    name: METRIC.cacheLookups,
    help: 'Registry cache lookups: hit, miss, or corrupt (an entry that failed to parse and was dropped).',
    labelNames: ['result'] as const,
    registers,
  });
  const registryHorses = new Gauge({
    name: METRIC.registryHorses,
    help: 'Horses in a stream registry: known (all, merged excluded) and active (seen in the latest chunk).',
    labelNames: ['stream', 'state'] as const,
    registers,
  });
  const errors = new Counter({
    name: METRIC.errors,
    help: 'Errors by code (PaddockError codes; INTERNAL for anything untyped).',
    labelNames: ['code'] as const,
    registers,
  });

  const streamsOwned = new Gauge({
    name: METRIC.streamsOwned,
    help: 'Streams whose lease this replica holds (several replicas share the streams).',
    registers,
  });
  const replicasLive = new Gauge({
    name: METRIC.replicasLive,
    help: 'Replicas alive as this replica last read them from the lease table.',
    registers,
  });
  const leaseEvents = new Counter({
    name: METRIC.leaseEvents,
    help: "Stream leases of this replica by event: acquired, released (hand-over, idle, shutdown) or lost to another replica.",
    labelNames: ['event'] as const,
    registers,
  });
  const leaseRenewals = new Counter({
    name: METRIC.leaseRenewals,
    help: 'Lease renewal: leases renewed, leases found lost, rounds that failed.',
    labelNames: ['result'] as const,
    registers,
  });
  const handedBack = new Counter({
    name: METRIC.handedBack,
    help: 'Chunk deliveries handed back to JetStream for the replica that owns (or should own) their stream, by reason; each comes back as one redelivery.',
    labelNames: ['stream', 'reason'] as const,
    registers,
  });
  const fencedWrites = new Counter({
    name: METRIC.fencedWrites,
    help: 'Registry writes refused because the stream lease moved on to another replica (fencing token).',
    registers,
  });

  const apiRequests = new Counter({
    name: METRIC.apiRequests,
    help: 'Registry API requests by route (the route pattern), method and HTTP status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const registryChanges = new Counter({
    name: METRIC.registryChanges,
    help: 'Operator changes to the registry made through the API (web app), by kind.',
    labelNames: ['change'] as const,
    registers,
  });
  const apiEventStreams = new Gauge({
    name: METRIC.apiEventStreams,
    help: 'Live event streams (server-sent events) open to web pages.',
    registers,
  });

  const queueDepthByStream = new PerStreamGauge(queueDepth, streams, 'sum');
  const lagByStream = new PerStreamGauge(lag, streams, 'max');
  const horsesByStream = new PerStreamGauge<'state'>(registryHorses, streams, 'sum');
  const activeProviders = new Map<ModelRole, ExecutionProvider>();

  return {
    registry,
    streams,
    chunkDuration,
    chunkOverheadRatio,
    registryLoad,
    registryMatch,
    chunks,
    reidDecisions,
    actors,
    queueDepth,
    lag,
    inference,
    inferenceItems,
    executionProvider,
    redeliveries,
    deadLetters,
    cacheLookups,
    registryHorses,
    errors,
    streamsOwned,
    replicasLive,
    leaseEvents,
    leaseRenewals,
    handedBack,
    fencedWrites,
    apiRequests,
    registryChanges,
    apiEventStreams,

    /** Runs one stage and records its duration, also when it throws. */
    async timeStage<T>(stage: ChunkStage, fn: () => Promise<T> | T): Promise<T> {
      const started = performance.now();
      try {
        return await fn();
      } finally {
        chunkDuration.observe({ stage }, (performance.now() - started) / 1000);
      }
    },

    /** Records a finished chunk: every stage's duration and its overhead ratio. */
    observeChunk(timings: ChunkTimings, registryMatchMs = 0): void {
      for (const stage of CHUNK_STAGES) chunkDuration.observe({ stage }, timings[stage] / 1000);
      if (registryMatchMs > 0) registryMatch.observe(registryMatchMs / 1000);
      chunkOverheadRatio.observe(overheadRatio(timings, registryMatchMs));
    },

    observeRegistryLoad(source: RegistrySource, seconds: number): void {
      registryLoad.observe({ source }, seconds);
    },

    countChunk(streamId: string, outcome: ChunkOutcomeLabel): void {
      chunks.inc({ stream: streams.label(streamId), outcome });
    },

    countReidDecision(streamId: string, decision: ReidDecision, count = 1): void {
      if (count > 0) reidDecisions.inc({ stream: streams.label(streamId), decision }, count);
    },

    /** Replaces the actor counts; states missing from `counts` drop to 0. */
    setActorStates(counts: Readonly<Record<string, number>>): void {
      actors.reset();
      for (const [state, count] of Object.entries(counts)) actors.set({ state }, count);
    },

    setQueueDepth(streamId: string, depth: number): void {
      queueDepthByStream.set(streamId, depth);
    },

    /** Lag = now minus the end of the chunk just finished (start_time + duration_s). */
    recordLag(streamId: string, chunkEnd: Date, now: number = Date.now()): void {
      lagByStream.set(streamId, Math.max(0, (now - chunkEnd.getTime()) / 1000));
    },

    observeInference(model: ModelRole, provider: ExecutionProvider, seconds: number): void {
      inference.observe({ model, provider }, seconds);
    },

    countInferenceItems(model: ModelRole, outcome: InferenceOutcome, count: number): void {
      if (count > 0) inferenceItems.inc({ model, outcome }, count);
    },

    /** Marks the provider a model's session runs on (one per model). */
    setExecutionProvider(model: ModelRole, provider: ExecutionProvider): void {
      executionProvider.reset();
      activeProviders.set(model, provider);
      for (const [role, name] of activeProviders) executionProvider.set({ model: role, provider: name }, 1);
    },

    countRedelivery(streamId: string): void {
      redeliveries.inc({ stream: streams.label(streamId) });
    },

    countDeadLetter(streamId: string, reason: ErrorCode): void {
      deadLetters.inc({ stream: streams.label(streamId), reason });
    },

    countCacheLookup(result: CacheResult, count = 1): void {
      if (count > 0) cacheLookups.inc({ result }, count);
    },

    setRegistrySize(streamId: string, sizes: Readonly<Record<HorseState, number>>): void {
      horsesByStream.set(streamId, sizes.known, { state: 'known' });
      horsesByStream.set(streamId, sizes.active, { state: 'active' });
    },

    /** Counts an error under its PaddockError code, so log lines and metrics share one vocabulary. */
    countError(error: unknown): ErrorCode {
      const code: ErrorCode = isPaddockError(error) ? error.code : 'INTERNAL';
      errors.inc({ code });
      return code;
    },

    setOwnership(owned: number, replicas: number): void {
      streamsOwned.set(owned);
      replicasLive.set(replicas);
    },

    countLeaseEvent(event: LeaseEventLabel): void {
      leaseEvents.inc({ event });
    },

    countLeaseRenewals(result: LeaseRenewalResult, count: number): void {
      if (count > 0) leaseRenewals.inc({ result }, count);
    },

    countHandedBack(streamId: string, reason: HandBackReason): void {
      handedBack.inc({ stream: streams.label(streamId), reason });
    },

    countFencedWrite(): void {
      fencedWrites.inc();
    },

    countApiRequest(route: string, method: string, status: number): void {
      apiRequests.inc({ route, method, status: String(status) });
    },

    countRegistryChange(change: RegistryChange): void {
      registryChanges.inc({ change });
    },

    setApiEventStreams(open: number): void {
      apiEventStreams.set(open);
    },

    /** Drops a stream's gauges (queue depth, lag, registry size) when its actor stops. */
    forgetStream(streamId: string): void {
      queueDepthByStream.forget(streamId);
      lagByStream.forget(streamId);
      horsesByStream.forget(streamId);
    },
  };
}


export type PaddockMetrics = ReturnType<typeof createMetrics>;
