import { Registry } from 'prom-client';
import { startSupervisor, type SupervisorHandle } from '../../machines/index.ts';
import type { PaddockConfig } from '../config/index.ts';
import { errorMessage } from '../errors/index.ts';
import { ApiAuth, createHttpServer, readinessFromChecks, type HttpServer } from '../http/index.ts';
import type { Logger } from '../log/index.ts';
import { createMetrics } from '../metrics/index.ts';
import type { ExecutionProvider } from '../config/index.ts';
import { supervisorOptionsFrom } from './supervisor-options.ts';
import { StreamOwnership } from '../ownership/index.ts';
import { openPipeline, type Pipeline } from '../pipeline/index.ts';
import {
  connectNats,
  createEventPublisher,
  createEventPublisherTo,
  EventHub,
  feedHubFromNats,
  openJetStreamSource,
  openWatchSource,
  type ChunkSource,
  type EventPublisher,
  type NatsLink,
  type SourceHooks,
} from '../sources/index.ts';
import { decodeOptionsFromConfig } from '../video/index.ts';
import { createObservers } from './observe.ts';

export interface DaemonOptions {
  config: PaddockConfig;
  logger: Logger;
  /** Feed from `DIR/<stream_id>/*.mp4` instead of NATS JetStream. */
  watchDir?: string;
  /** Apply pending migrations instead of refusing to start. */
  migrate?: boolean;
  /**
   * Runs right before the models are opened, once /healthz answers: `paddock run` builds the
   * project's own models here when the configuration uses them (the daemon itself never builds).
   */
  prepareModels?: () => Promise<void>;
}

export interface Daemon {
  /** The bound HTTP address (port 0 in tests picks a free one). */
  httpUrl: string;
  /** Graceful stop: no new chunks, in-flight ones finish within the deadline or are nak'd. */
  shutdown(reason: string): Promise<void>;
  /** Resolves when the daemon stopped by itself (a fatal error) or after shutdown. */
  stopped: Promise<void>;
}

const ACTOR_GAUGE_INTERVAL_MS = 1000;
const DAY_MS = 24 * 3600 * 1000;
const FIRST_PRUNE_DELAY_MS = 60_000;

/**
 * `paddock run`, in explicit start-up order: metrics and HTTP (so /healthz answers while models
 * load), models and registry, the source, the supervisor; then the feed loop. Shutdown goes in
 * reverse: stop fetching, drain the supervisor, release the registry and models, drain NATS.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, logger } = options;
  const metrics = createMetrics(new Registry(), { maxStreams: config.metricsMaxStreams });
  const ready = { models: false, source: false };
  let pipeline: Pipeline | null = null;
  let nats: NatsLink | null = null;
  let events: EventPublisher | null = null;
  const modelRoles = new Map<string, 'detector' | 'reid'>();
  // Live events for the API's event streams: every replica's through NATS, or this process's.
  const hub = new EventHub(logger);
  const apiAuth = new ApiAuth(config.apiTokens);

  const http: HttpServer = createHttpServer({
    api: {
      store: () => pipeline?.store ?? null,
      auth: apiAuth,
      feed: hub,
      events: () => events,
      logger,
      hooks: {
        onRequest: (route, method, status) => metrics.countApiRequest(route, method, status),
        onChange: (change) => metrics.countRegistryChange(change),
        onEventStreams: (open) => metrics.setApiEventStreams(open),
      },
    },
    metricsRegistry: metrics.registry,
    port: config.httpPort,
    host: config.httpHost,
    logger,
    readiness: readinessFromChecks({
      models: () => ready.models || 'loading',
      database: async () => {
        if (pipeline === null) return 'opening';
        await pipeline.store.registryVersion('__readyz__');
        return true;
      },
      ...(options.watchDir === undefined
        ? { nats: () => (nats?.isConnected() ?? false) || 'disconnected' }
        : { watch: () => ready.source || 'starting' }),
    }),
  });
  const address = await http.start();
  logger.info({ url: address.url }, 'http endpoints up');
  if (apiAuth.open) logger.warn({ url: address.url }, 'no API token configured (PADDOCK_API_TOKENS): the registry API and web app answer loopback clients only');

  // Output events need NATS, which connects after the models load: observers look it up late.
  const observers = createObservers(logger, metrics, () => events);
  try {
    await options.prepareModels?.();
    pipeline = await openPipeline({
      config,
      logger,
      migrations: options.migrate ? 'apply' : 'require',
      registryHooks: {
        onLoad: (source, seconds) => metrics.observeRegistryLoad(source, seconds),
        onCache: (status) => {
          if (status === 'hit' || status === 'miss' || status === 'corrupt') metrics.countCacheLookup(status);
        },
      },
      onInference: (model, provider, seconds) => metrics.observeInference(modelRoles.get(model) ?? 'detector', provider, seconds),
    });
    modelRoles.set(pipeline.models.detector.config.name, 'detector');
    modelRoles.set(pipeline.models.embedder.config.name, 'reid');
    metrics.setExecutionProvider('detector', pipeline.models.detector.provider as ExecutionProvider);
    metrics.setExecutionProvider('reid', pipeline.models.embedder.provider as ExecutionProvider);
    ready.models = true;
  } catch (error) {
    await http.stop();
    throw error;
  }

  const sourceHooks: SourceHooks = {
    onInvalid: (kind, reason) => {
      metrics.countChunk('invalid', 'invalid');
      logger.warn({ kind, reason }, 'invalid chunk event dead-lettered');
    },
    onRedelivery: (streamId) => metrics.countRedelivery(streamId),
    onDeadLetter: (streamId, reason) => metrics.countDeadLetter(streamId, observers.deadLetterCode(reason)),
  };
  let source: ChunkSource;
  try {
    if (options.watchDir !== undefined) {
      source = await openWatchSource({ dir: options.watchDir, logger, hooks: sourceHooks, probeOptions: decodeOptionsFromConfig(config) });
      events = createEventPublisherTo((event) => hub.emit(event), { logger });
    } else {
      nats = await connectNats(config.nats, { logger, name: 'paddock' });
      const topology = config.natsTopology;
      source = await openJetStreamSource(nats.nc, {
        logger,
        hooks: sourceHooks,
        streamName: topology.stream,
        subjectPrefix: `${topology.subjectPrefix}.chunks`,
        consumerName: topology.consumer,
        dlqStreamName: topology.dlqStream,
        dlqSubjectPrefix: `${topology.subjectPrefix}.dlq`,
        // The consumer allows one delivery more than this (see jetstream-source.ts), which the
        // machines dead-letter unprocessed: a chunk that keeps crashing the daemon ends in the DLQ.
        maxDeliveries: config.maxDeliveries,
        ackWaitMs: topology.ackWaitMs,
        maxAckPending: topology.maxAckPending,
      });
      events = createEventPublisher(nats.nc, { logger, subjectPrefix: `${topology.subjectPrefix}.events` });
      feedHubFromNats(nats.nc, hub, logger, `${topology.subjectPrefix}.events`);
    }
  } catch (error) {
    await pipeline.close().catch(() => {});
    await nats?.close().catch(() => {});
    await http.stop();
    throw error;
  }
  ready.source = true;

  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  let shuttingDown: Promise<void> | null = null;

  let ownership: StreamOwnership | null = null;
  const supervisor: SupervisorHandle = startSupervisor({
    effects: pipeline.effects,
    port: source,
    options: supervisorOptionsFrom(config),
    onError: (error) => {
      observers.error(error, 'supervisor error');
      void shutdown('supervisor failed');
    },
    onStreamEvent: (event) => observers.stream(event),
    onSupervisorEvent: (event) => {
      observers.supervisor(event);
      // A stream given up (hand-over, lost lease) or gone idle frees its lease for the next owner at once.
      if (event.type === 'stream.released' || (event.type === 'stream.stopped' && event.reason === 'idle')) void ownership?.released(event.streamId);
    },
  });
  if (options.watchDir === undefined && pipeline.store.kind === 'postgres' && config.ownership.leaseTtlMs > 0) {
    ownership = new StreamOwnership({
      replicaId: config.ownership.replicaId,
      leaseTtlMs: config.ownership.leaseTtlMs,
      leases: pipeline.store.leases,
      logger,
      giveUp: (streamId) => supervisor.release(streamId),
      hooks: {
        onLease: (event) => metrics.countLeaseEvent(event),
        onRenewal: (result, count) => metrics.countLeaseRenewals(result, count),
        onFenced: () => metrics.countFencedWrite(),
        onView: (owned, replicas) => metrics.setOwnership(owned, replicas),
      },
    });
    pipeline.store.setWriteFence(ownership);
    try {
      await ownership.start();
    } catch (error) {
      await supervisor.stop().catch(() => {});
      await source.close().catch(() => {});
      await pipeline.close().catch(() => {});
      await http.stop();
      throw error;
    }
  }

  const actorGauge = setInterval(() => metrics.setActorStates(supervisor.actorCounts()), ACTOR_GAUGE_INTERVAL_MS);
  const prune = async () => {
    try {
      const result = await pipeline!.store.prune(config.pruneInactiveDays, new Date(), config.sightingRetentionDays);
      logger.info({ inactive_days: config.pruneInactiveDays, sighting_days: config.sightingRetentionDays, ...result }, 'daily prune');
    } catch (error) {
      observers.error(error, 'daily prune failed');
    }
  };
  const firstPrune = setTimeout(() => void prune(), FIRST_PRUNE_DELAY_MS);
  const dailyPrune = setInterval(() => void prune(), DAY_MS);

  const feed = (async () => {
    try {
      for await (const delivery of source) {
        if (ownership !== null) {
          const admission = await ownership.admit(delivery);
          if (!admission.route) {
            source.nak(delivery, admission.delayMs);
            metrics.countHandedBack(delivery.event.streamId, admission.reason);
            continue;
          }
        }
        observers.received(delivery.event.streamId);
        supervisor.send(delivery);
      }
    } catch (error) {
      observers.error(error, 'chunk source failed');
      void shutdown('source failed');
    }
  })();

  async function shutdown(reason: string): Promise<void> {
    if (shuttingDown !== null) return shuttingDown;
    shuttingDown = (async () => {
      logger.info({ reason, deadline_s: config.shutdownDeadlineMs / 1000 }, 'shutting down: no new chunks, finishing in-flight ones');
      ready.source = false;
      clearInterval(actorGauge);
      clearTimeout(firstPrune);
      clearInterval(dailyPrune);
      await source.stop().catch((error: unknown) => logger.warn({ err: errorMessage(error) }, 'stopping the source failed'));
      await feed;
      await supervisor.stop().catch((error: unknown) => logger.warn({ err: errorMessage(error) }, 'supervisor stop failed'));
      // The ends of the chunk attempts cut short go in first: they count against the chunk if the
      // absolute deadline ends the process; a lease left behind only expires.
      await pipeline!.effects.settled();
      await ownership?.stop().catch((error: unknown) => logger.warn({ err: errorMessage(error) }, 'leaving the cluster failed'));
      await source.close().catch((error: unknown) => logger.warn({ err: errorMessage(error) }, 'closing the source failed'));
      await pipeline!.close().catch((error: unknown) => logger.warn({ err: errorMessage(error) }, 'closing the registry failed'));
      await nats?.close().catch((error: unknown) => logger.warn({ err: errorMessage(error) }, 'draining NATS failed'));
      await http.stop();
      logger.info('stopped');
      resolveStopped();
    })();
    return shuttingDown;
  }

  logger.info(
    {
      source: options.watchDir === undefined ? 'nats' : 'watch',
      watch_dir: options.watchDir,
      nats: nats?.safeUrl,
      max_inflight: config.maxInflight,
      replica_id: ownership?.replicaId,
      lease_ttl_s: ownership === null ? undefined : config.ownership.leaseTtlMs / 1000,
    },
    'paddock ready',
  );
  return { httpUrl: address.url, shutdown, stopped };
}
