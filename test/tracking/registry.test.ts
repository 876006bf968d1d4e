import { knownHorseAfterChunk } from '../../src/tracking/handover.ts';
import { describe, expect, it } from 'vitest';
import { createChunkTracker, type ChunkTrackingResult, type HorseChunkResult } from '../../src/tracking/tracker.ts';
import { matchIdentities } from '../../src/tracking/identity.ts';
import { HorseGallery } from '../../src/tracking/gallery.ts';
import { createFeatureBank } from '../../src/tracking/featureBank.ts';
import { colorFor, type KnownHorse } from '../../src/tracking/types.ts';
import { mulberry32 } from '../../src/synth/random.ts';
import { frame, identities, noisyEmbedding, scene, type ScriptedHorse, type SceneFrame } from './helpers.ts';

const t0 = new Date('2026-01-01T10:00:00Z');

const toKnown = (horse: HorseChunkResult): KnownHorse => knownHorseAfterChunk(horse);

function runChunk(
  frames: SceneFrame[],
  init: { known: KnownHorse[]; nextTrackingId: number; chunkStart: Date; herd?: { expectedCount: number; officialIds: string[] }; options?: object },
): ChunkTrackingResult {
  const tracker = createChunkTracker(init);
  for (const { frame } of frames) tracker.update(frame);
  return tracker.finish();
}

function summary(result: ChunkTrackingResult): [string, number, string, string][] {
  return result.horses.map((h) => [h.id, h.trackingId, h.color, h.status]);
}

const [idA, idB, idC] = identities(3);
const horseA: ScriptedHorse = { identity: idA!, start: { x: 100, y: 100, w: 120, h: 80 }, velocity: { dx: 5, dy: 0 } };
const horseB: ScriptedHorse = { identity: idB!, start: { x: 100, y: 450, w: 120, h: 80 }, velocity: { dx: 5, dy: 0 } };
const horseC: ScriptedHorse = { identity: idC!, start: { x: 700, y: 250, w: 120, h: 80 }, velocity: { dx: -5, dy: 0 } };

describe('registry decision across chunks', () => {
  it('reactivates a horse seen in an earlier chunk with the same ID, number and colour', () => {
    const first = runChunk(scene([horseA, horseB], 20, { seed: 1 }), { known: [], nextTrackingId: 1, chunkStart: t0 });
    expect(summary(first)).toEqual([
      ['horse_001', 1, colorFor(1), 'new'],
      ['horse_002', 2, colorFor(2), 'new'],
    ]);
    // An hour later, B then A walk in elsewhere, with a newcomer C.
    const later = new Date(t0.getTime() + 3_600_000);
    const moved = (h: ScriptedHorse, y: number): ScriptedHorse => ({ ...h, start: { ...h.start, y } });
    const second = runChunk(scene([moved(horseB, 50), moved(horseA, 500), horseC], 20, { seed: 2 }), {
      known: first.horses.map(toKnown),
      nextTrackingId: first.nextTrackingId,
      chunkStart: later,
    });
    expect(summary(second)).toEqual([
      ['horse_001', 1, colorFor(1), 'reactivated'],
      ['horse_002', 2, colorFor(2), 'reactivated'],
      ['horse_003', 3, colorFor(3), 'new'],
    ]);
    expect(second.nextTrackingId).toBe(4);
    expect(second.horses[0]!.firstSeen.getTime()).toBe(later.getTime());
  });

  it('continues horses whose tracks run on from the previous chunk, without a confirmation wait', () => {
    const first = runChunk(scene([horseA, horseB], 20, { seed: 1 }), { known: [], nextTrackingId: 1, chunkStart: t0 });
    const nextStart = new Date(t0.getTime() + 4000); // 20 frames at 5 fps
    const tracker = createChunkTracker({ known: first.horses.map(toKnown), nextTrackingId: first.nextTrackingId, chunkStart: nextStart });
    const frames = scene([horseA, horseB], 20, { seed: 2, firstFrame: 20 });
    const update = tracker.update(frames[0]!.frame);
    expect(update.assignments.map((a) => a.horseId)).toEqual(['horse_001', 'horse_002']);
    for (const { frame } of frames.slice(1)) tracker.update(frame);
    const second = tracker.finish();
    expect(summary(second)).toEqual([
      ['horse_001', 1, colorFor(1), 'continued'],
      ['horse_002', 2, colorFor(2), 'continued'],
    ]);
    expect(second.horses.map((h) => h.detections)).toEqual([20, 20]);
  });

  it('never lets two tracks claim one known horse', () => {
    // Known: only A. Two horses that both look like A enter together; the closer look wins.
    const random = mulberry32(11);
    const known: KnownHorse[] = [
      {
        id: 'horse_001',
        trackingId: 1,
        name: 'Ada',
        color: colorFor(1),
        features: createFeatureBank(idA!),
        lastBox: null,
        lastSeen: new Date(t0.getTime() - 86_400_000),
        firstDetected: new Date(t0.getTime() - 86_400_000),
        totalDetections: 100,
        confidenceScore: 0.9,
      },
    ];
    const lookalike = noisyEmbedding(random, idA!, 0.45); // cos ≈ 0.9 with A: above threshold
    const result = runChunk(scene([{ ...horseB, identity: lookalike }, horseA], 15, { seed: 4, noise: 0.1 }), {
      known,
      nextTrackingId: 2,
      chunkStart: t0,
    });
    expect(result.horses.map((h) => [h.id, h.name, h.status])).toEqual([
      ['horse_001', 'Ada', 'reactivated'],
      ['horse_002', null, 'new'],
    ]);
    // The real A (second scripted horse, at y = 100) got horse_001.
    expect(result.horses[0]!.frames[0]!.box.y).toBeLessThan(200);
  });

  it('reactivates a known horse that walks in through the frame edge, though its cut-off first views look unlike it', () => {
    const first = runChunk(scene([horseA], 20, { seed: 1 }), { known: [], nextTrackingId: 1, chunkStart: t0 });
    // An hour later A walks in from the left edge: for 2 s only its front is in the frame, and
    // that partial view embeds far from A (cos ≈ 0.5); then it is in full view.
    const [, , , other] = identities(4);
    const partial = new Float32Array(idA!.length);
    for (let i = 0; i < partial.length; i += 1) partial[i] = 0.5 * idA![i]! + 0.87 * other![i]!;
    const random = mulberry32(31);
    const frames: SceneFrame[] = [];
    for (let f = 0; f < 25; f += 1) {
      const entering = f < 10;
      const box = entering ? { x: 0, y: 300, w: 30 + 9 * f, h: 80 } : { x: 20 + 6 * (f - 10), y: 300, w: 120, h: 80 };
      frames.push({ frame: frame(f, [{ box, embedding: noisyEmbedding(random, entering ? partial : idA!, 0.2) }]), truth: [0] });
    }
    const second = runChunk(frames, { known: first.horses.map(toKnown), nextTrackingId: first.nextTrackingId, chunkStart: new Date(t0.getTime() + 3_600_000) });
    expect(summary(second)).toEqual([['horse_001', 1, colorFor(1), 'reactivated']]);
    expect(second.nextTrackingId).toBe(2);
    // Every box of the chunk, the cut-off ones included, went to horse_001.
    expect(second.horses[0]!.detections).toBe(25);
  });

  it('matchIdentities is an assignment, not greedy', () => {
    // Query 0 likes X (0.9) and Y (0.85); query 1 likes only X (0.88). Greedy would give X to 0 and
    // leave 1 unmatched; the assignment gives Y to 0 and X to 1.
    const x = new Float32Array([1, 0, 0]);
    const y = new Float32Array([0, 1, 0]);
    const unit = (v: number[]): Float32Array => {
      const n = Math.hypot(...v);
      return new Float32Array(v.map((c) => c / n));
    };
    const q0 = unit([0.9, 0.85, 0.1]);
    const q1 = unit([0.88, 0, 0.47]);
    const gallery = new HorseGallery([createFeatureBank(x), createFeatureBank(y)], 3);
    const matches = matchIdentities({ queries: [q0, q1], gallery, galleryEligible: null, liveBanks: [], threshold: 0.6 });
    expect(matches.map((m) => m && m.index)).toEqual([1, 0]);
    const single = matchIdentities({ queries: [q0, q1], gallery: new HorseGallery([createFeatureBank(x)], 3), galleryEligible: null, liveBanks: [], threshold: 0.6 });
    expect(single.filter((m) => m !== null)).toHaveLength(1);
  });

  it('never reuses tracking numbers, even when told a stale nextTrackingId', () => {
    const stale: KnownHorse = {
      id: 'horse_007',
      trackingId: 7,
      name: null,
      color: colorFor(7),
      features: createFeatureBank(idC!),
      lastBox: null,
      lastSeen: t0,
      firstDetected: t0,
      totalDetections: 1,
      confidenceScore: 0.9,
    };
    const result = runChunk(scene([horseA], 10), { known: [stale], nextTrackingId: 3, chunkStart: t0 });
    expect(summary(result)).toEqual([['horse_008', 8, colorFor(8), 'new']]);
    expect(result.nextTrackingId).toBe(9);
  });

  it('learns feature banks only from confident, unoccluded detections', () => {
    const first = runChunk(scene([horseA], 10), { known: [], nextTrackingId: 1, chunkStart: t0 });
    const knownA = toKnown(first.horses[0]!);
    const before = Array.from(knownA.features.mean);
    // Next chunk: A is always overlapped by another detection (IoU > 0.1), or low-confidence.
    const overlapping = scene([{ ...horseA, score: (f) => (f % 2 === 0 ? 0.9 : 0.55) }], 10, {
      seed: 5,
      firstFrame: 10,
      extra: (f) => (f % 2 === 0 ? [{ box: { x: 100 + 5 * f + 30, y: 110, w: 120, h: 80 }, embedding: idB!, score: 0.3 }] : []),
    });
    const second = runChunk(overlapping, { known: [knownA], nextTrackingId: 2, chunkStart: new Date(t0.getTime() + 2000) });
    expect(second.horses.map((h) => h.id)).toEqual(['horse_001']);
    expect(second.horses[0]!.detections).toBe(10);
    expect(Array.from(second.horses[0]!.features.mean)).toEqual(before);
    // Whereas clear, confident detections do move the mean.
    const third = runChunk(scene([horseA], 10, { seed: 6, firstFrame: 10 }), { known: [knownA], nextTrackingId: 2, chunkStart: new Date(t0.getTime() + 2000) });
    expect(Array.from(third.horses[0]!.features.mean)).not.toEqual(before);
  });
});

describe('herd mode', () => {
  const knownHerd = (): KnownHorse[] =>
    [idA!, idB!].map((identity, i) => ({
      id: `horse_00${i + 1}`,
      trackingId: i + 1,
      name: null,
      color: colorFor(i + 1),
      features: createFeatureBank(identity),
      lastBox: null,
      lastSeen: new Date(t0.getTime() - 86_400_000),
      firstDetected: new Date(t0.getTime() - 86_400_000),
      totalDetections: 10,
      confidenceScore: 0.9,
    }));

  it('at the expected count assigns every track to an official horse, even on weak appearance, and creates none', () => {
    // Embeddings so noisy that similarity stays far below the 0.75 threshold.
    const frames = scene([horseA, horseB], 20, { seed: 8, noise: 2.5 });
    const plain = runChunk(frames, { known: knownHerd(), nextTrackingId: 3, chunkStart: t0 });
    expect(plain.horses.every((h) => h.status === 'new')).toBe(true); // without herd mode: strangers
    const herd = runChunk(frames, { known: knownHerd(), nextTrackingId: 3, chunkStart: t0, herd: { expectedCount: 2, officialIds: ['horse_001', 'horse_002'] } });
    expect(summary(herd)).toEqual([
      ['horse_001', 1, colorFor(1), 'reactivated'],
      ['horse_002', 2, colorFor(2), 'reactivated'],
    ]);
    expect(herd.nextTrackingId).toBe(3);
    // Assignment follows appearance: A's detections (y ≈ 100) went to horse_001.
    expect(herd.horses[0]!.frames[0]!.box.y).toBeLessThan(200);
  });

  it('at the expected count never gives two simultaneous tracks one horse, nor makes a third', () => {
    const herd = runChunk(scene([horseA, horseB, horseC], 20, { seed: 9 }), {
      known: knownHerd(),
      nextTrackingId: 3,
      chunkStart: t0,
      herd: { expectedCount: 2, officialIds: ['horse_001', 'horse_002'] },
    });
    expect(herd.horses.map((h) => [h.id, h.detections])).toEqual([
      ['horse_001', 20],
      ['horse_002', 20],
    ]);
    for (const horse of herd.horses) {
      const frameIndexes = horse.frames.map((f) => f.frameIndex);
      expect(new Set(frameIndexes).size).toBe(frameIndexes.length);
    }
    expect(herd.nextTrackingId).toBe(3);
  });

  it('below the expected count discovers new horses, then stops at the count', () => {
    const result = runChunk(
      scene([horseA, horseB, horseC, { ...horseC, identity: identities(1, 64, 77)[0]!, start: { x: 700, y: 600, w: 120, h: 80 }, visible: (f) => f >= 10 }], 20, { seed: 10 }),
      { known: knownHerd(), nextTrackingId: 3, chunkStart: t0, herd: { expectedCount: 3, officialIds: ['horse_001', 'horse_002'] } },
    );
    // C is discovered (horse_003); the fourth horse, arriving once the herd is complete, creates nothing.
    expect(summary(result)).toEqual([
      ['horse_001', 1, colorFor(1), 'reactivated'],
      ['horse_002', 2, colorFor(2), 'reactivated'],
      ['horse_003', 3, colorFor(3), 'new'],
    ]);
    expect(result.nextTrackingId).toBe(4);
  });

  it('at the expected count hands a herd horse to a new track even while its old track is still lost', () => {
    // Weak appearance: A vanishes for 5 frames and reappears far away, where its lost track cannot
    // re-find it; the new track must take horse_001 (ending the lost track), not wait or duplicate.
    const frames = scene(
      [
        { ...horseA, visible: (f) => f < 8 || f >= 13 },
        horseB,
      ],
      25,
      { seed: 12, noise: 2.5 },
    );
    for (const sceneFrame of frames.slice(13)) sceneFrame.frame.detections[0]!.box.x += 600;
    const herd = runChunk(frames, { known: knownHerd(), nextTrackingId: 3, chunkStart: t0, herd: { expectedCount: 2, officialIds: [] } });
    expect(herd.horses.map((h) => [h.id, h.detections])).toEqual([
      ['horse_001', 20],
      ['horse_002', 25],
    ]);
  });
});

describe('robustness', () => {
  it('ignores known horses whose features have another dimension instead of failing', () => {
    const odd: KnownHorse = {
      id: 'horse_001',
      trackingId: 1,
      name: null,
      color: colorFor(1),
      features: createFeatureBank(new Float32Array(32).fill(0.1)),
      lastBox: { ...horseA.start },
      lastSeen: t0,
      firstDetected: t0,
      totalDetections: 1,
      confidenceScore: 0.9,
    };
    const result = runChunk(scene([{ ...horseA, start: { x: 900, y: 500, w: 120, h: 80 } }], 10), { known: [odd], nextTrackingId: 2, chunkStart: t0 });
    expect(summary(result)).toEqual([['horse_002', 2, colorFor(2), 'new']]);
  });
});
