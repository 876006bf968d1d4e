import { Registry } from 'prom-client';
import { createMetrics, type PaddockMetrics } from '../../src/metrics/index.ts';

/** A metrics set with a value in every metric, as a daemon that has processed a few chunks would have. */
export function populatedMetrics(): PaddockMetrics {
  const metrics = createMetrics(new Registry(), { maxStreams: 2, version: '0.1.0' });
  metrics.observeChunk({ load_registry: 3, decode: 540, detect: 310, embed: 120, track: 4, thumbnails: 7, persist: 5, total: 995 }, 2);
  metrics.observeRegistryLoad('redis', 0.002);
  metrics.observeRegistryLoad('postgres', 0.02);
  for (const stream of ['paddock-north', 'paddock-south', 'barn']) {
    metrics.countChunk(stream, 'processed');
    metrics.countReidDecision(stream, 'new', 2);
    metrics.countReidDecision(stream, 'reactivated');
    metrics.countReidDecision(stream, 'continued', 3);
    metrics.setQueueDepth(stream, 1);
    metrics.recordLag(stream, new Date(Date.now() - 12_000));
    metrics.setRegistrySize(stream, { known: 5, active: 2 });
  }
  metrics.countChunk('paddock-north', 'failed');
  metrics.countChunk('paddock-north', 'dead_lettered');
  metrics.countDeadLetter('paddock-north', 'VIDEO_CORRUPT');
  metrics.countRedelivery('paddock-north');
  metrics.setActorStates({ idle: 1, processing: 2 });
  metrics.observeInference('detector', 'cpu', 0.031);
  metrics.observeInference('reid', 'cpu', 0.004);
  metrics.countInferenceItems('detector', 'ran', 50);
  metrics.countInferenceItems('detector', 'skipped', 10);
  metrics.countInferenceItems('reid', 'ran', 80);
  metrics.countInferenceItems('reid', 'skipped', 40);
  metrics.setExecutionProvider('detector', 'cpu');
  metrics.setExecutionProvider('reid', 'cpu');
  metrics.countCacheLookup('hit', 4);
  metrics.countCacheLookup('miss');
  metrics.countCacheLookup('corrupt');
  metrics.countError(new Error('boom'));
  metrics.setOwnership(7, 3);
  metrics.countLeaseEvent('acquired');
  metrics.countLeaseEvent('released');
  metrics.countLeaseRenewals('renewed', 7);
  metrics.countHandedBack('paddock-north', 'owned-elsewhere');
  metrics.countFencedWrite();
  metrics.countApiRequest('/api/streams/:stream/horses', 'GET', 200);
  metrics.countRegistryChange('merge');
  metrics.setApiEventStreams(2);
  return metrics;
}

/** Sample names (with _bucket/_sum/_count as exposed) of a Prometheus text exposition. */
export function sampleNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (match?.[1] !== undefined) names.add(match[1]);
  }
  return names;
}

/** Metric family names from the `# TYPE` lines, with their types. */
export function metricTypes(exposition: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(match[1] ?? '', match[2] ?? '');
  return types;
}
