import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PaddockError } from '../../src/errors/index.ts';
import { METRIC, StreamLabels, createMetrics, overheadRatio } from '../../src/metrics/index.ts';
import { metricTypes, populatedMetrics, sampleNames } from './populated-metrics.ts';

async function valueOf(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  const sample = metric?.values.find((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value));
  return sample?.value;
}

/** prom-client sets metricName on histogram samples (…_bucket/_sum/_count) but leaves it out of its type. */
function metricNameOf(sample: object): string {
  return (sample as { metricName?: string }).metricName ?? '';
}

describe('createMetrics', () => {
  it('registers on the injected registry only, and twice without clashing', async () => {
    const first = createMetrics(new Registry());
    const second = createMetrics(new Registry());
    first.countChunk('s', 'processed');
    expect(await valueOf(first.registry, METRIC.chunks, { stream: 's' })).toBe(1);
    expect(await valueOf(second.registry, METRIC.chunks, { stream: 's' })).toBeUndefined();
  });

  it('exports every named metric once populated, with the documented types', async () => {
    const text = await populatedMetrics().registry.metrics();
    const types = metricTypes(text);
    const samples = sampleNames(text);
    for (const name of Object.values(METRIC)) {
      expect(types.has(name), name).toBe(true);
      const type = types.get(name);
      const expected = type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
      for (const sample of expected) expect(samples.has(sample), sample).toBe(true);
    }
    expect(types.get(METRIC.chunkDuration)).toBe('histogram');
    expect(types.get(METRIC.chunks)).toBe('counter');
    expect(types.get(METRIC.actors)).toBe('gauge');
    expect([...types.keys()].every((name) => name.startsWith('paddock_'))).toBe(true);
  });

  it('observes every stage and the overhead ratio of a chunk', async () => {
    const metrics = createMetrics(new Registry(), { defaultMetrics: false });
    metrics.observeChunk({ load_registry: 1, decode: 50, detect: 30, embed: 10, track: 1, thumbnails: 0.5, persist: 0.5, total: 100 }, 1);
    const ratio = await metrics.registry.getSingleMetric(METRIC.chunkOverheadRatio)?.get();
    expect(ratio?.values.find((v) => metricNameOf(v).endsWith('_sum'))?.value).toBeCloseTo(0.03, 10);
    const stages = await metrics.registry.getSingleMetric(METRIC.chunkDuration)?.get();
    const totalSum = stages?.values.find((v) => metricNameOf(v).endsWith('_sum') && v.labels.stage === 'total');
    expect(totalSum?.value).toBeCloseTo(0.1, 10);
  });

  it('times a stage even when it throws', async () => {
    const metrics = createMetrics(new Registry(), { defaultMetrics: false });
    await expect(metrics.timeStage('decode', () => Promise.reject(new Error('bad video')))).rejects.toThrow('bad video');
    expect(await metrics.timeStage('detect', () => 42)).toBe(42);
    const stages = await metrics.registry.getSingleMetric(METRIC.chunkDuration)?.get();
    const counts = stages?.values.filter((v) => metricNameOf(v).endsWith('_count') && v.value === 1).map((v) => v.labels.stage);
    expect(counts?.sort()).toEqual(['decode', 'detect']);
  });

  it('keeps one provider per model and counts errors by code', async () => {
    const metrics = createMetrics(new Registry(), { defaultMetrics: false });
    metrics.setExecutionProvider('detector', 'cuda');
    metrics.setExecutionProvider('detector', 'cpu');
    metrics.setExecutionProvider('reid', 'cpu');
    const info = await metrics.registry.getSingleMetric(METRIC.executionProvider)?.get();
    expect(info?.values.map((v) => `${v.labels.model}=${v.labels.provider}`).sort()).toEqual(['detector=cpu', 'reid=cpu']);
    expect(metrics.countError(new PaddockError('VIDEO_CORRUPT', 'x'))).toBe('VIDEO_CORRUPT');
    expect(metrics.countError('a string')).toBe('INTERNAL');
    expect(await valueOf(metrics.registry, METRIC.errors, { code: 'VIDEO_CORRUPT' })).toBe(1);
  });

  it('replaces actor states, so a state no actor is in drops out', async () => {
    const metrics = createMetrics(new Registry(), { defaultMetrics: false });
    metrics.setActorStates({ idle: 2, processing: 1 });
    metrics.setActorStates({ idle: 3 });
    const actors = await metrics.registry.getSingleMetric(METRIC.actors)?.get();
    expect(actors?.values.map((v) => [v.labels.state, v.value])).toEqual([['idle', 3]]);
  });

  it('records lag as now minus the chunk end, never negative', async () => {
    const metrics = createMetrics(new Registry(), { defaultMetrics: false });
    metrics.recordLag('s', new Date(10_000), 25_500);
    expect(await valueOf(metrics.registry, METRIC.lag, { stream: 's' })).toBe(15.5);
    metrics.recordLag('s', new Date(30_000), 25_500);
    expect(await valueOf(metrics.registry, METRIC.lag, { stream: 's' })).toBe(0);
  });
});

describe('bounded stream labels', () => {
  it('gives the first N streams a series and folds the rest into "other"', () => {
    const labels = new StreamLabels(2);
    expect(['a', 'b', 'c', 'a', 'd', 'b'].map((s) => labels.label(s))).toEqual(['a', 'b', 'other', 'a', 'other', 'b']);
    expect(new StreamLabels(0).label('a')).toBe('other');
    expect(new StreamLabels(5).label('other')).toBe('other');
  });

  it('refuses a bad limit with a typed error', () => {
    expect(() => new StreamLabels(-1)).toThrow(PaddockError);
    expect(() => new StreamLabels(1.5)).toThrow(/whole number/);
  });

  it('sums queue depth and takes the maximum lag over the overflow streams, and forgets stopped streams', async () => {
    const metrics = createMetrics(new Registry(), { defaultMetrics: false, maxStreams: 1 });
    const { registry } = metrics;
    metrics.setQueueDepth('a', 1);
    metrics.setQueueDepth('b', 2);
    metrics.setQueueDepth('c', 3);
    metrics.setQueueDepth('b', 4);
    expect(await valueOf(registry, METRIC.queueDepth, { stream: 'a' })).toBe(1);
    expect(await valueOf(registry, METRIC.queueDepth, { stream: 'other' })).toBe(7);
    metrics.recordLag('b', new Date(0), 5000);
    metrics.recordLag('c', new Date(0), 9000);
    expect(await valueOf(registry, METRIC.lag, { stream: 'other' })).toBe(9);
    metrics.setRegistrySize('b', { known: 4, active: 1 });
    metrics.setRegistrySize('c', { known: 6, active: 2 });
    expect(await valueOf(registry, METRIC.registryHorses, { stream: 'other', state: 'known' })).toBe(10);

    metrics.forgetStream('c');
    expect(await valueOf(registry, METRIC.queueDepth, { stream: 'other' })).toBe(4);
    expect(await valueOf(registry, METRIC.lag, { stream: 'other' })).toBe(5);
    expect(await valueOf(registry, METRIC.registryHorses, { stream: 'other', state: 'active' })).toBe(1);
    metrics.forgetStream('a');
    expect(await valueOf(registry, METRIC.queueDepth, { stream: 'a' })).toBeUndefined();
    metrics.forgetStream('b');
    expect(await valueOf(registry, METRIC.queueDepth, { stream: 'other' })).toBeUndefined();
  });

  it('counts overflow streams together', async () => {
    const metrics = createMetrics(new Registry(), { defaultMetrics: false, maxStreams: 1 });
    for (const stream of ['a', 'b', 'c']) metrics.countChunk(stream, 'processed');
    expect(await valueOf(metrics.registry, METRIC.chunks, { stream: 'other' })).toBe(2);
  });
});

describe('overheadRatio', () => {
  it('is the registry share of the total, and 0 for an empty chunk', () => {
    const timings = { load_registry: 2, decode: 500, detect: 300, embed: 100, track: 10, thumbnails: 4, persist: 3, total: 1000 };
    expect(overheadRatio(timings)).toBeCloseTo(0.009, 12);
    expect(overheadRatio(timings, 1)).toBeCloseTo(0.01, 12);
    expect(overheadRatio({ ...timings, total: 0 })).toBe(0);
  });
});
