import { describe, expect, it } from 'vitest';
import { knownHorseAfterChunk } from '../../src/tracking/handover.ts';
import { decodeTrackerState, encodeTrackerState, type TrackerState } from '../../src/tracking/state.ts';
import { createChunkTracker, type ChunkTrackingResult } from '../../src/tracking/tracker.ts';
import type { FramePerception, KnownHorse } from '../../src/tracking/types.ts';
import type { TrackerOptions } from '../../src/tracking/options.ts';
import { groupSplitScene, identities, scene, SIDE_BY_SIDE, sideBySideMergeScene, type SceneFrame } from './helpers.ts';

const streamStart = Date.parse('2026-01-01T10:00:00Z');
const FPS = 5;

/** Runs `frames` as consecutive chunks of `framesPerChunk`, carrying the registry and (optionally) the tracker state. */
function runChunks(frames: SceneFrame[], framesPerChunk: number, continuousTracks: boolean, roundTrip = true, options: Partial<TrackerOptions> = {}): ChunkTrackingResult[] {
  let known: KnownHorse[] = [];
  let nextTrackingId = 1;
  let state: TrackerState | null = null;
  const results: ChunkTrackingResult[] = [];
  for (let start = 0, sequence = 1; start < frames.length; start += framesPerChunk, sequence += 1) {
    const chunkStart = new Date(streamStart + (start / FPS) * 1000);
    const tracker = createChunkTracker({ known, nextTrackingId, chunkStart, state, sequence, options: { ...options, continuousTracks } });
    frames.slice(start, start + framesPerChunk).forEach(({ frame }, i) => {
      const local: FramePerception = { ...frame, frameIndex: i, timestampS: i / FPS };
      tracker.update(local);
    });
    const result = tracker.finish();
    results.push(result);
    const byId = new Map(known.map((horse) => [horse.id, horse]));
    for (const horse of result.horses) byId.set(horse.id, knownHorseAfterChunk(horse, byId.get(horse.id)));
    known = [...byId.values()];
    nextTrackingId = result.nextTrackingId;
    state = roundTrip ? decodeTrackerState(encodeTrackerState(result.state)) : result.state;
  }
  return results;
}

describe('tracking across chunks', () => {
  const [a, b] = identities(2);
  // Horse a walks across the frame the whole time; horse b enters one frame before a chunk boundary.
  const frames = scene(
    [
      { identity: a!, start: { x: 40, y: 100, w: 120, h: 80 }, velocity: { dx: 6, dy: 0 } },
      { identity: b!, start: { x: 600, y: 400, w: 120, h: 80 }, velocity: { dx: -4, dy: 0 }, visible: (f) => f >= 8 },
    ],
    30,
  );

  it('a horse walking over chunk boundaries keeps its ID, continued, and the chunk length does not change the registry', () => {
    for (const framesPerChunk of [5, 10, 30]) {
      const results = runChunks(frames, framesPerChunk, true);
      const ids = new Set(results.flatMap((result) => result.horses.map((horse) => horse.id)));
      expect(ids.size).toBe(2);
      const created = results.findIndex((result) => result.horses.some((horse) => horse.id === 'horse_001' && horse.status === 'new'));
      expect(created).toBeGreaterThanOrEqual(0);
      // Decided once (possibly in the chunk after the one it was first seen in), then continued in every later chunk.
      for (const result of results.slice(created + 1)) expect(result.horses.find((horse) => horse.id === 'horse_001')?.status).toBe('continued');
    }
  });

  it('a horse swallowed by a merged box in one chunk keeps its ID when it leaves the group in the next (the group box is in the state)', () => {
    // The merged box covers frames 10–19, B steps out from frame 24: chunks of 12 put the boundary between.
    const results = runChunks(groupSplitScene(), 12, true, true, { newHorseMinTrackS: 0, newHorseMaxWaitS: 2 });
    const ids = new Set(results.flatMap((result) => result.horses.map((horse) => horse.id)));
    expect([...ids].sort()).toEqual(['horse_001', 'horse_002', 'horse_003']);
    expect(results.at(-1)!.horses.map((horse) => horse.id).sort()).toEqual(['horse_001', 'horse_002', 'horse_003']);
  });

  it("a box over a horse and the one beside it in a chunk's first frame is reported as the horse's part (its last box is in the state)", () => {
    // Chunks of 10: the merged box starts with the second chunk; of 12: B is missed from its first frame.
    for (const framesPerChunk of [10, 12]) {
      const second = runChunks(sideBySideMergeScene(), framesPerChunk, true)[1]!;
      const horseA = second.horses.find((horse) => horse.frames.some((tracked) => tracked.box.w === SIDE_BY_SIDE.merged.w))!;
      expect(horseA.frames[0], `chunks of ${framesPerChunk}`).toMatchObject({ frameIndex: 0, box: { x: 100, w: 160 } });
    }
  });

  it('a track confirmed at a chunk end is reported provisional, then identified in the next chunk', () => {
    const results = runChunks(frames, 10, true);
    const provisional = results.flatMap((result) => result.provisional.map((track) => track.trackKey));
    const identified = results.flatMap((result) => result.identified);
    for (const key of provisional) expect(identified.map((entry) => entry.trackKey)).toContain(key);
  });

  it('the persisted state of 10 live tracks stays under 64 KB (512-d appearance plus the coat descriptor)', () => {
    const dim = 540;
    const vector = () => Float32Array.from({ length: dim }, (_, i) => Math.sin(i + 1));
    const state: TrackerState = {
      version: 1,
      sequence: 7,
      lastFrameMs: streamStart,
      nextTrackKey: 11,
      tracks: Array.from({ length: 10 }, (_, key) => ({
        key,
        phase: 'tracked' as const,
        kalman: { position: [1, 2, 3, 4], velocity: [0, 0, 0, 0], pp: [1, 1, 1, 1], pv: [0, 0, 0, 0], vv: [1, 1, 1, 1] },
        hits: 5,
        lostFrames: 0,
        confirmed: true,
        horseId: null,
        bank: { first: vector(), mean: vector(), exemplars: Array.from({ length: 8 }, vector) },
        appearance: vector(),
        firstSeenMs: streamStart,
        cleanViews: 3,
        visibleViews: 3,
        selfSimilarity: 0.9,
        fullW: 100,
        fullH: 80,
        provisional: false,
        swallowedIn: { x: 10.25, y: 20, w: 300.5, h: 120 },
        lastReported: { box: { x: 10.25, y: 20, w: 150.125, h: 120 }, score: 0.8766 },
        coVisibleHorses: [
          ['horse_001', 12],
          ['horse_002', 3],
        ] as [string, number][],
        coVisibleTracks: [
          [1, 5],
          [2, 1],
        ] as [number, number][],
      })),
    };
    const bytes = encodeTrackerState(state);
    expect(bytes.byteLength).toBeLessThanOrEqual(64 * 1024);
    const decoded = decodeTrackerState(bytes);
    expect(decoded.tracks).toHaveLength(10);
    expect(decoded.tracks[0]!.lastReported).toEqual({ box: { x: 10.3, y: 20, w: 150.1, h: 120 }, score: 0.877 });
    let dot = 0;
    const original = Float32Array.from(state.tracks[0]!.appearance!);
    const norm = Math.hypot(...original);
    decoded.tracks[0]!.appearance!.forEach((value, i) => (dot += (value * original[i]!) / norm));
    expect(dot).toBeGreaterThan(0.999);
  });

  it('a corrupt state is a clear TRACKING_STATE_INVALID error', () => {
    expect(() => decodeTrackerState(Buffer.from('{"version":9}'))).toThrow(/version 9/);
    expect(() => decodeTrackerState(Buffer.from('not json'))).toThrow(expect.objectContaining({ code: 'TRACKING_STATE_INVALID' }));
  });
});
