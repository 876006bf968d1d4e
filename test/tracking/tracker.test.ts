import { describe, expect, it } from 'vitest';
import { createChunkTracker, type ChunkTracker, type FrameUpdate } from '../../src/tracking/tracker.ts';
import { PaddockError } from '../../src/errors/index.ts';
import { HORSE_PALETTE } from '../../src/tracking/types.ts';
import { mulberry32 } from '../../src/synth/random.ts';
import { bankSimilarity } from '../../src/tracking/featureBank.ts';
import { frame, groupSplitScene, identities, noisyEmbedding, normalize, scene, SIDE_BY_SIDE, sideBySideMergeScene, type SceneFrame } from './helpers.ts';

const chunkStart = new Date('2026-01-01T10:00:00Z');

function tracker(options = {}): ChunkTracker {
  return createChunkTracker({ known: [], nextTrackingId: 1, chunkStart, options });
}

function run(t: ChunkTracker, frames: SceneFrame[]): FrameUpdate[] {
  return frames.map(({ frame: perception }) => t.update(perception));
}

/** For each scripted horse, the set of horse IDs its detections were given (once identified). */
function idsPerTruth(frames: SceneFrame[], updates: FrameUpdate[]): Map<number, Set<string>> {
  const ids = new Map<number, Set<string>>();
  frames.forEach(({ truth }, f) => {
    truth.forEach((horse, d) => {
      const id = updates[f]!.assignments[d]!.horseId;
      if (id === null || horse < 0) return;
      if (!ids.has(horse)) ids.set(horse, new Set());
      ids.get(horse)!.add(id);
    });
  });
  return ids;
}

describe('chunk tracker within a chunk', () => {
  it('tracks two moving horses as two new horses with palette colours and absolute times', () => {
    const [a, b] = identities(2);
    const frames = scene(
      [
        { identity: a!, start: { x: 100, y: 100, w: 120, h: 80 }, velocity: { dx: 8, dy: 0 } },
        { identity: b!, start: { x: 100, y: 400, w: 120, h: 80 }, velocity: { dx: 6, dy: -2 } },
      ],
      20,
    );
    const t = tracker();
    const updates = run(t, frames);
    const result = t.finish();
    expect(result.horses.map((h) => [h.id, h.trackingId, h.color, h.status, h.detections])).toEqual([
      ['horse_001', 1, HORSE_PALETTE[0], 'new', 20],
      ['horse_002', 2, HORSE_PALETTE[1], 'new', 20],
    ]);
    expect(result.nextTrackingId).toBe(3);
    const first = result.horses[0]!;
    expect(first.firstSeen.toISOString()).toBe('2026-01-01T10:00:00.000Z');
    expect(first.lastSeen.toISOString()).toBe('2026-01-01T10:00:03.800Z'); // frame 19 at 5 fps
    expect(first.meanConfidence).toBeCloseTo(0.9, 9);
    expect(first.frames.map((f) => f.frameIndex)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect([...idsPerTruth(frames, updates).values()].map((s) => [...s])).toEqual([['horse_001'], ['horse_002']]);
  });

  it('confirms a track only after confirmHits hits: one or two false detections never create a horse', () => {
    const [a, clutter] = identities(2);
    const random = mulberry32(5);
    // Identity on confirmation (no establishment wait), to see confirmHits alone.
    const t = tracker({ newHorseMinTrackS: 0, newHorseMinCleanViews: 0 });
    const updates: FrameUpdate[] = [];
    for (let f = 0; f < 10; f += 1) {
      const objects = [{ box: { x: 100 + 5 * f, y: 100, w: 120, h: 80 }, embedding: noisyEmbedding(random, a!, 0.3) }];
      // A false detection for two consecutive frames, and a lone one later.
      if (f === 2 || f === 3 || f === 7) objects.push({ box: { x: 900, y: 500, w: 100, h: 70 }, embedding: noisyEmbedding(random, clutter!, 0.3) });
      updates.push(t.update(frame(f, objects)));
    }
    expect(updates[0]!.assignments[0]!.horseId).toBeNull(); // tentative at first
    expect(updates[2]!.assignments[0]!.horseId).toBe('horse_001'); // confirmed on the 3rd hit
    expect(updates[2]!.assignments[1]!.trackKey).not.toBeNull(); // the clutter got a tentative track …
    expect(updates[3]!.assignments[1]!.horseId).toBeNull(); // … which never got a horse
    const result = t.finish();
    expect(result.horses.map((h) => h.id)).toEqual(['horse_001']);
    expect(result.nextTrackingId).toBe(2);
  });

  it('matches low-score detections to existing tracks in the second stage, by IoU only', () => {
    const [a] = identities(1);
    const frames = scene([{ identity: a!, start: { x: 100, y: 100, w: 120, h: 80 }, velocity: { dx: 5, dy: 0 }, score: (f) => (f >= 5 && f < 10 ? 0.3 : 0.9) }], 15, {
      // A low-score detection far from any track: must not start a track.
      extra: (f) => (f >= 2 ? [{ box: { x: 800, y: 500, w: 100, h: 60 }, embedding: identities(1, 64, 1234)[0]!, score: 0.35 }] : []),
    });
    const t = tracker();
    const updates = run(t, frames);
    for (let f = 5; f < 10; f += 1) expect(updates[f]!.assignments[0]!.horseId).toBe('horse_001');
    for (let f = 2; f < 15; f += 1) expect(updates[f]!.assignments[1]!.trackKey).toBeNull();
    const result = t.finish();
    expect(result.horses).toHaveLength(1);
    expect(result.horses[0]!.detections).toBe(15);
    expect(result.horses[0]!.meanConfidence).toBeCloseTo((10 * 0.9 + 5 * 0.3) / 15, 9);
  });

  it('ignores detections below lowScore', () => {
    const [a] = identities(1);
    const frames = scene([{ identity: a!, start: { x: 100, y: 100, w: 120, h: 80 }, velocity: { dx: 5, dy: 0 }, score: () => 0.05 }], 10);
    const t = tracker();
    const updates = run(t, frames);
    expect(updates.every((u) => u.assignments[0]!.trackKey === null)).toBe(true);
    expect(t.finish().horses).toHaveLength(0);
  });

  it('re-finds a lost track by appearance after a gap, somewhere else', () => {
    const [a, b] = identities(2);
    const frames = scene(
      [
        // Horse A vanishes for frames 10–19 and reappears 500 px away.
        {
          identity: a!,
          start: { x: 100, y: 100, w: 120, h: 80 },
          velocity: { dx: 4, dy: 0 },
          visible: (f) => f < 10 || f >= 20,
        },
        { identity: b!, start: { x: 100, y: 450, w: 120, h: 80 }, velocity: { dx: 4, dy: 0 } },
      ],
      30,
    );
    // Teleport A's reappearance.
    for (const sceneFrame of frames.slice(20)) sceneFrame.frame.detections[0]!.box.y += 250;
    const t = tracker();
    const updates = run(t, frames);
    expect(updates[20]!.assignments[0]!.horseId).toBe('horse_001'); // immediately, no tentative wait
    const result = t.finish();
    expect(result.horses.map((h) => [h.id, h.detections])).toEqual([
      ['horse_001', 20],
      ['horse_002', 30],
    ]);
  });

  it('never re-finds a horse lost a frame ago in a look-alike across the frame', () => {
    const [a] = identities(1);
    const frames = scene(
      [
        // Horse A is followed for 10 frames, then gone; a horse that looks just like it shows up
        // 600 px away one frame later (a herd of bays), while A's track is only 1–2 frames lost.
        { identity: a!, start: { x: 100, y: 100, w: 120, h: 80 }, velocity: { dx: 4, dy: 0 }, visible: (f) => f < 10 },
        { identity: a!, start: { x: 700, y: 400, w: 120, h: 80 }, velocity: { dx: 0, dy: 0 }, visible: (f) => f >= 11 },
      ],
      14,
    );
    const updates = run(tracker(), frames);
    const keyOf = (f: number, horse: number) => updates[f]!.assignments[frames[f]!.truth.indexOf(horse)]!.trackKey;
    expect(keyOf(9, 0)).not.toBeNull();
    expect(keyOf(11, 1)).not.toBe(keyOf(9, 0));
    // With the reach switched off, appearance alone re-finds it there (what the reach prevents).
    const anywhere = run(tracker({ refindReach: 0 }), frames);
    expect(anywhere[11]!.assignments[frames[11]!.truth.indexOf(1)]!.trackKey).toBe(keyOf(9, 0));
  });

  it('never gives a horse the ID of a look-alike seen a few frames far from it', () => {
    const [a] = identities(1);
    const frames = scene(
      [
        // Horse A, decided, leaves at frame 10; a bay that looks just like it is seen 500 px away
        // in its last 4 frames (fewer than CO_VISIBLE_MIN_FRAMES) and stays.
        { identity: a!, start: { x: 100, y: 100, w: 120, h: 80 }, velocity: { dx: 4, dy: 0 }, visible: (f) => f < 10 },
        { identity: a!, start: { x: 700, y: 400, w: 120, h: 80 }, velocity: { dx: 2, dy: 0 }, visible: (f) => f >= 6 },
      ],
      20,
    );
    const t = tracker();
    run(t, frames);
    expect(t.finish().horses.map((h) => [h.id, h.status, h.detections])).toEqual([
      ['horse_001', 'new', 10],
      ['horse_002', 'new', 14],
    ]);
  });

  it('keeps a lost horse at its last size: one walking away, hidden a while, is re-found where it was', () => {
    const [a] = identities(1);
    const random = mulberry32(7);
    // Horse A walks away from the camera (its box shrinks) for 10 frames, is hidden for 12 and
    // shows again where it was, at its last size, with no appearance vector (ReID on demand): only
    // the overlap with its predicted box can re-find it. Shrunk further by its last trend, that box
    // would have collapsed to a sliver.
    const boxAt = (f: number) => ({ x: 640 - (200 - 8 * f) / 2, y: 300 - (120 - 5 * f) / 2, w: 200 - 8 * f, h: 120 - 5 * f });
    const t = tracker();
    const updates: FrameUpdate[] = [];
    for (let f = 0; f < 10; f += 1) updates.push(t.update(frame(f, [{ box: boxAt(f), embedding: noisyEmbedding(random, a!, 0.2) }])));
    for (let f = 10; f < 22; f += 1) updates.push(t.update(frame(f, [])));
    const back = t.update({ ...frame(22, [{ box: boxAt(9), embedding: a! }]), embeddings: [null] });
    expect(updates[9]!.assignments[0]!.horseId).toBe('horse_001');
    expect(back.assignments[0]!.trackKey).toBe(updates[9]!.assignments[0]!.trackKey);
    expect(back.assignments[0]!.horseId).toBe('horse_001');
  });

  it('keeps the ID of a horse that leaves for longer than maxLostFrames and comes back', () => {
    const [a, b] = identities(2);
    const frames = scene(
      [
        { identity: a!, start: { x: 100, y: 100, w: 120, h: 80 }, velocity: { dx: 4, dy: 0 }, visible: (f) => f < 8 || f >= 25 },
        { identity: b!, start: { x: 100, y: 450, w: 120, h: 80 }, velocity: { dx: 4, dy: 0 } },
      ],
      35,
    );
    const t = tracker({ maxLostFrames: 5 });
    const updates = run(t, frames);
    expect(updates[25]!.assignments[0]!.horseId).toBeNull(); // a fresh tentative track …
    expect(updates[27]!.assignments[0]!.horseId).toBe('horse_001'); // … confirmed and re-identified
    const result = t.finish();
    expect(result.horses.map((h) => [h.id, h.status, h.detections])).toEqual([
      ['horse_001', 'new', 18],
      ['horse_002', 'new', 35],
    ]);
    expect(result.nextTrackingId).toBe(3);
  });

  it('keeps identities through a crossing', () => {
    const [a, b] = identities(2);
    const frames = scene(
      [
        { identity: a!, start: { x: 100, y: 300, w: 120, h: 80 }, velocity: { dx: 20, dy: 0 } },
        { identity: b!, start: { x: 900, y: 320, w: 120, h: 80 }, velocity: { dx: -20, dy: 0 } },
      ],
      40,
      { jitter: 2 },
    );
    const t = tracker();
    const updates = run(t, frames);
    const ids = idsPerTruth(frames, updates);
    expect([...ids.get(0)!]).toEqual(['horse_001']);
    expect([...ids.get(1)!]).toEqual(['horse_002']);
    expect(t.finish().horses).toHaveLength(2);
  });

  describe('ReID on demand', () => {
    /** Runs the frames asking the tracker first, and gives it vectors only where it asked for one. */
    function runOnDemand(t: ChunkTracker, frames: SceneFrame[]): { updates: FrameUpdate[]; needed: Uint8Array[] } {
      const needed: Uint8Array[] = [];
      const updates = frames.map(({ frame: perception }) => {
        const need = t.embeddingsNeeded(perception);
        needed.push(need);
        return t.update({ ...perception, embeddings: perception.embeddings.map((vector, d) => (need[d] === 1 ? vector : null)) });
      });
      return { updates, needed };
    }

    it('skips the embedder for a decided horse followed alone, refreshing it every reidRefreshFrames', () => {
      const [a] = identities(1);
      const frames = scene([{ identity: a!, start: { x: 100, y: 100, w: 120, h: 80 }, velocity: { dx: 8, dy: 0 } }], 30);
      const t = tracker({ reidRefreshFrames: 4 });
      const { updates, needed } = runOnDemand(t, frames);
      const firstDecided = updates.findIndex((update) => update.assignments[0]!.horseId !== null);
      expect(firstDecided).toBeGreaterThan(0);
      // Undecided, the track gathers its look from every view.
      expect(needed.slice(0, firstDecided + 1).every((need) => need[0] === 1)).toBe(true);
      // Decided and alone: one vector in every 5 frames (4 skipped after each embedded one).
      const after = needed.slice(firstDecided + 1).map((need) => need[0]);
      expect(after.slice(0, 10)).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
      expect(t.finish().horses.map((horse) => [horse.id, horse.detections])).toEqual([['horse_001', 30]]);
    });

    it('embeds every detection partly hidden by another, and never a low-score one', () => {
      const [a, b] = identities(2);
      const frames = scene(
        [
          { identity: a!, start: { x: 100, y: 300, w: 120, h: 80 }, velocity: { dx: 20, dy: 0 } },
          { identity: b!, start: { x: 900, y: 320, w: 120, h: 80 }, velocity: { dx: -20, dy: 0 } },
        ],
        40,
        { jitter: 2, extra: (f) => [{ box: { x: 600, y: 40, w: 60, h: 40 }, embedding: a!, score: f % 2 === 0 ? 0.3 : 0.05 }] },
      );
      const t = tracker();
      const { updates, needed } = runOnDemand(t, frames);
      frames.forEach(({ frame: perception }, f) => {
        perception.detections.forEach((detection, d) => {
          if (detection.score < 0.5) expect(needed[f]![d]).toBe(0);
        });
        // While one horse's box hides a tenth of the other's or more (they cross), both are embedded.
        const [boxA, boxB] = perception.detections.map((detection) => detection.box);
        const overlapW = Math.min(boxA!.x + boxA!.w, boxB!.x + boxB!.w) - Math.max(boxA!.x, boxB!.x);
        const overlapH = Math.min(boxA!.y + boxA!.h, boxB!.y + boxB!.h) - Math.max(boxA!.y, boxB!.y);
        const hidden = Math.max(0, overlapW) * Math.max(0, overlapH);
        if (hidden >= 0.1 * Math.min(boxA!.w * boxA!.h, boxB!.w * boxB!.h)) expect([needed[f]![0], needed[f]![1]]).toEqual([1, 1]);
      });
      const ids = idsPerTruth(frames, updates);
      expect([...ids.get(0)!]).toEqual(['horse_001']);
      expect([...ids.get(1)!]).toEqual(['horse_002']);
      expect(needed.some((need) => need[0] === 0)).toBe(true);
    });

    it('gives the same horses and boxes as embedding everything', () => {
      const [a, b, c] = identities(3);
      const horses = [
        { identity: a!, start: { x: 100, y: 300, w: 120, h: 80 }, velocity: { dx: 15, dy: 0 } },
        { identity: b!, start: { x: 900, y: 320, w: 120, h: 80 }, velocity: { dx: -15, dy: 0 } },
        { identity: c!, start: { x: 500, y: 50, w: 100, h: 70 }, velocity: { dx: 2, dy: 1 }, visible: (f: number) => f < 12 || f > 25 },
      ];
      const frames = scene(horses, 60, { jitter: 2 });
      const everything = tracker({ reidRefreshFrames: 0 });
      const all = run(everything, frames);
      const onDemand = tracker();
      const { updates, needed } = runOnDemand(onDemand, frames);
      expect(needed.every((need) => need.every((flag) => flag === 1))).toBe(false);
      expect(updates.map((update) => update.assignments.map((assignment) => assignment.horseId))).toEqual(all.map((update) => update.assignments.map((assignment) => assignment.horseId)));
      const summary = (t: ChunkTracker) => t.finish().horses.map((horse) => [horse.id, horse.detections, horse.frames.map((tracked) => tracked.box)]);
      expect(summary(onDemand)).toEqual(summary(everything));
    });

    it('asks for every vector when reidRefreshFrames is 0', () => {
      const [a] = identities(1);
      const frames = scene([{ identity: a!, start: { x: 100, y: 100, w: 120, h: 80 }, velocity: { dx: 8, dy: 0 } }], 20);
      const { needed } = runOnDemand(tracker({ reidRefreshFrames: 0 }), frames);
      expect(needed.every((need) => need[0] === 1)).toBe(true);
    });
  });

  it('holds the scene for frames the detector skipped: decided horses keep their latest box, nothing ages', () => {
    const [a, b] = identities(2);
    const frames = scene(
      [
        { identity: a!, start: { x: 100, y: 100, w: 120, h: 80 }, velocity: { dx: 0, dy: 0 } },
        { identity: b!, start: { x: 400, y: 300, w: 120, h: 80 }, velocity: { dx: 0, dy: 0 } },
      ],
      40,
    );
    const t = tracker();
    let held = 0;
    frames.forEach(({ frame: perception }, f) => {
      // Every third frame detected once both horses are decided (as motion gating does on a still scene).
      if (t.mayHold() && f % 3 !== 0) {
        t.hold(perception);
        held += 1;
      } else t.update(perception);
    });
    expect(held).toBeGreaterThan(15);
    const horses = t.finish().horses;
    expect(horses.map((horse) => [horse.id, horse.frames.length])).toEqual([
      ['horse_001', 40],
      ['horse_002', 40],
    ]);
    // A held frame repeats the horse's latest detected box.
    const first = horses[0]!.frames;
    const heldFrame = first.findIndex((tracked, i) => i > 0 && tracked.box.x === first[i - 1]!.box.x && tracked.box.y === first[i - 1]!.box.y);
    expect(heldFrame).toBeGreaterThan(0);
  });

  it('cannot hold while a track is tentative or lost; an undecided track keeps its latest box on held frames', () => {
    const [a, b] = identities(2);
    const frames = scene(
      [
        { identity: a!, start: { x: 100, y: 100, w: 120, h: 80 }, velocity: { dx: 0, dy: 0 } },
        // B shows from frame 4 on, and is missed by the detector in frame 8.
        { identity: b!, start: { x: 500, y: 300, w: 120, h: 80 }, velocity: { dx: 0, dy: 0 }, visible: (f) => f >= 4 && f !== 8 },
      ],
      12,
    );
    const t = tracker({ newHorseMinTrackS: 1 });
    expect(t.mayHold()).toBe(true); // an empty scene: nothing to follow
    const holdable: boolean[] = [];
    const updates: FrameUpdate[] = [];
    for (const f of [0, 1, 2]) {
      updates.push(t.update(frames[f]!.frame));
      holdable.push(t.mayHold());
    }
    // A: tentative for two frames, then confirmed but not yet a horse (tracked for less than newHorseMinTrackS).
    expect(holdable).toEqual([false, false, true]);
    expect(updates[2]!.assignments[0]!.horseId).toBeNull();
    t.hold(frames[3]!.frame);
    for (const f of [4, 5, 6, 7, 8]) {
      updates.push(t.update(frames[f]!.frame));
      holdable.push(t.mayHold());
    }
    // B tentative (frames 4, 5), then followed; lost in frame 8, when it must be looked for.
    expect(holdable.slice(3)).toEqual([false, false, true, true, false]);
    for (const f of [9, 10, 11]) updates.push(t.update(frames[f]!.frame));
    t.embeddingsNeeded(frames[11]!.frame);
    expect(() => t.hold(frames[11]!.frame)).toThrow(PaddockError);
    const horses = t.finish().horses;
    // A's held frame is reported at its latest box once it is a horse, like its detected ones.
    expect(horses[0]!.frames.map((tracked) => tracked.frameIndex)).toEqual(Array.from({ length: 12 }, (_, f) => f));
    expect(horses[0]!.frames[3]!.box).toEqual(horses[0]!.frames[2]!.box);
  });

  it('reports thumbnail candidates per detection and the best track key per horse', () => {
    const [a] = identities(1);
    const sizes = [100, 140, 120, 160, 150];
    const random = mulberry32(9);
    const t = tracker({ newHorseMinTrackS: 0 });
    const flags = sizes.map((w, f) => t.update(frame(f, [{ box: { x: 100 + 2 * f, y: 100, w, h: 80 }, embedding: noisyEmbedding(random, a!, 0.2) }])).assignments[0]!);
    expect(flags.map((x) => x.bestThumbnailCandidate)).toEqual([true, true, false, true, false]);
    const key = flags[0]!.trackKey;
    expect(flags.every((x) => x.trackKey === key)).toBe(true);
    const horse = t.finish().horses[0]!;
    expect(horse.thumbnailTrackKey).toBe(key);
    expect(horse.thumbnailQuality).toBeCloseTo(160 * 80 * 0.9, 6);
  });

  it('creates a new horse only from an established track, then attributes all its boxes', () => {
    const [a] = identities(1);
    const frames = scene([{ identity: a!, start: { x: 100, y: 100, w: 120, h: 80 }, velocity: { dx: 5, dy: 0 } }], 12);
    const t = tracker({ newHorseMinTrackS: 1, newHorseMinCleanViews: 3 });
    const updates = run(t, frames);
    // Confirmed on the 3rd hit (frame 2), but only 1 s after its first view (frame 5 at 5 fps) a horse.
    expect(updates.slice(0, 5).every((u) => u.assignments[0]!.horseId === null)).toBe(true);
    expect(updates[5]!.assignments[0]!.horseId).toBe('horse_001');
    const horse = t.finish().horses[0]!;
    expect(horse.detections).toBe(12);
    expect(horse.frames.map((f) => f.frameIndex)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('never makes a horse of the visible piece of a horse hidden behind another', () => {
    const [front, piece] = identities(2);
    const random = mulberry32(21);
    const t = tracker();
    for (let f = 0; f < 25; f += 1) {
      const objects = [{ box: { x: 400 + 2 * f, y: 300, w: 160, h: 110 }, embedding: noisyEmbedding(random, front!, 0.3) }];
      // A sliver sticking out from behind the front horse: confident, but always occluded.
      if (f >= 3) objects.push({ box: { x: 380 + 2 * f, y: 330, w: 40, h: 60 }, embedding: noisyEmbedding(random, piece!, 0.3) });
      t.update(frame(f, objects));
    }
    expect(t.finish().horses.map((h) => h.id)).toEqual(['horse_001']);
  });

  it('makes a horse of a piece that stays behind another for twice newHorseMaxWaitS: a horse standing there', () => {
    const [front, behind] = identities(2);
    const random = mulberry32(23);
    const t = tracker({ newHorseMaxWaitS: 2 });
    const updates: FrameUpdate[] = [];
    for (let f = 0; f < 30; f += 1) {
      const objects = [
        { box: { x: 400 + 2 * f, y: 300, w: 160, h: 110 }, embedding: noisyEmbedding(random, front!, 0.3) },
        // Its back above the front horse's, always inside the front horse's box.
        { box: { x: 420 + 2 * f, y: 305, w: 90, h: 40 }, embedding: noisyEmbedding(random, behind!, 0.3), score: 0.7 },
      ];
      updates.push(t.update(frame(f, objects)));
    }
    expect(updates[19]!.assignments[1]!.horseId).toBeNull(); // 3.8 s: still a piece
    expect(updates[20]!.assignments[1]!.horseId).toBe('horse_002'); // 4 s
    const horses = t.finish().horses;
    expect(horses.map((h) => h.id)).toEqual(['horse_001', 'horse_002']);
    expect(horses[1]!.detections).toBe(30);
  });

  it('still makes a horse of one never seen unoccluded, once its track lasted newHorseMaxWaitS', () => {
    const [a, b] = identities(2);
    const random = mulberry32(25);
    const t = tracker({ newHorseMaxWaitS: 3 });
    const updates: FrameUpdate[] = [];
    for (let f = 0; f < 25; f += 1) {
      // Two horses grazing side by side, their boxes always overlapping.
      updates.push(
        t.update(
          frame(f, [
            { box: { x: 300 + f, y: 300, w: 150, h: 100 }, embedding: noisyEmbedding(random, a!, 0.2) },
            { box: { x: 420 + f, y: 320, w: 150, h: 100 }, embedding: noisyEmbedding(random, b!, 0.2) },
          ]),
        ),
      );
    }
    expect(updates[13]!.assignments.every((assignment) => assignment.horseId === null)).toBe(true); // 2.6 s: waiting
    expect(updates[15]!.assignments.map((assignment) => assignment.horseId)).toEqual(['horse_001', 'horse_002']); // 3 s
    expect(t.finish().horses.map((horse) => horse.detections)).toEqual([25, 25]);
  });

  it('reports a small occluded piece of a tracked horse at its completed extent', () => {
    const [a, b] = identities(2);
    const random = mulberry32(22);
    const t = tracker({ newHorseMinTrackS: 0 });
    let last: FrameUpdate | null = null;
    for (let f = 0; f < 12; f += 1) {
      const objects = [{ box: { x: 100 + 2 * f, y: 300, w: 160, h: 100 }, embedding: noisyEmbedding(random, a!, 0.2) }];
      if (f >= 8) {
        // B walks in front of A's right half: A's detection shrinks to its visible left part.
        objects[0]!.box.w = 70;
        objects.push({ box: { x: 100 + 2 * f + 65, y: 290, w: 170, h: 120 }, embedding: noisyEmbedding(random, b!, 0.2) });
      }
      last = t.update(frame(f, objects));
    }
    expect(last!.assignments[0]!.horseId).toBe('horse_001');
    const a1 = t.finish().horses.find((h) => h.id === 'horse_001')!;
    const reported = a1.frames.find((f) => f.frameIndex === 11)!.box;
    // The left edge stays; the box extends behind B to A's unoccluded width.
    expect(reported.x).toBeCloseTo(122, 6);
    expect(reported.w).toBeGreaterThan(150);
    expect(reported.h).toBeCloseTo(100, 0);
    // Without completion, the piece is not reported at all.
    const plain = tracker({ newHorseMinTrackS: 0, completeOccluded: false });
    const random2 = mulberry32(22);
    for (let f = 0; f < 12; f += 1) {
      const objects = [{ box: { x: 100 + 2 * f, y: 300, w: f >= 8 ? 70 : 160, h: 100 }, embedding: noisyEmbedding(random2, a!, 0.2) }];
      if (f >= 8) objects.push({ box: { x: 100 + 2 * f + 65, y: 290, w: 170, h: 120 }, embedding: noisyEmbedding(random2, b!, 0.2) });
      plain.update(frame(f, objects));
    }
    expect(plain.finish().horses.find((h) => h.id === 'horse_001')!.frames.map((f) => f.frameIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('completes an occluded piece behind the horse in front of it, not toward one that stands behind it', () => {
    const [a, back, front] = identities(3);
    const random = mulberry32(27);
    const t = tracker({ newHorseMinTrackS: 0 });
    for (let f = 0; f < 12; f += 1) {
      const objects = [{ box: { x: 300, y: 300, w: 160, h: 100 }, embedding: noisyEmbedding(random, a!, 0.2) }];
      if (f >= 8) {
        // A's left part shows between two horses: one farther away (its box ends higher) that
        // overlaps most of the piece, and a nearer one (its box reaches lower) in front of A's right.
        objects[0]!.box.w = 70;
        objects.push({ box: { x: 240, y: 240, w: 130, h: 120 }, embedding: noisyEmbedding(random, back!, 0.2) });
        objects.push({ box: { x: 360, y: 320, w: 170, h: 120 }, embedding: noisyEmbedding(random, front!, 0.2) });
      }
      t.update(frame(f, objects));
    }
    const reported = t.finish().horses.find((h) => h.id === 'horse_001')!.frames.find((f) => f.frameIndex === 11)!.box;
    // The box grows right, behind the nearer horse; grown toward the one behind, it would start at 210.
    expect(reported.x).toBeCloseTo(300, 6);
    expect(reported.w).toBeGreaterThan(150);
  });

  it('completes an occluded piece to the horse\'s size as the camera zoomed it', () => {
    const [a, b] = identities(2);
    const random = mulberry32(27);
    const t = tracker({ newHorseMinTrackS: 0 });
    const zoom = { scale: 1.5, tx: 0, ty: 0, centreX: 640, centreY: 360 };
    for (let f = 0; f < 12; f += 1) {
      // A stands clean (160 × 100); at frame 8 the camera zooms in 1.5× (A is now 240 × 150) and
      // B, in front, hides all but A's left 100 px.
      const objects =
        f < 8
          ? [{ box: { x: 500, y: 300, w: 160, h: 100 }, embedding: noisyEmbedding(random, a!, 0.2) }]
          : [
              { box: { x: 430, y: 270, w: 100, h: 150 }, embedding: noisyEmbedding(random, a!, 0.2) },
              { box: { x: 525, y: 260, w: 255, h: 180 }, embedding: noisyEmbedding(random, b!, 0.2) },
            ];
      t.update(f === 8 ? { ...frame(f, objects), cameraMotion: zoom } : frame(f, objects));
    }
    const reported = t.finish().horses.find((h) => h.id === 'horse_001')!.frames.find((f) => f.frameIndex === 11)!.box;
    // Completed to the zoomed size, not to the 160 px A measured before the zoom.
    expect(reported.w).toBeGreaterThan(220);
    expect(reported.h).toBeGreaterThan(140);
  });

  it('reports the piece of a horse sticking out beside the horse in front of it at its completed extent', () => {
    const [a, b] = identities(2);
    const random = mulberry32(31);
    const t = tracker({ newHorseMinTrackS: 0 });
    for (let f = 0; f < 20; f += 1) {
      // A stands in front (its box reaches lower). B walks up behind it and stops at x 380: from
      // frame 10 only its part right of A shows, a box beside A's (touching it, not inside it),
      // narrower and taller in shape than B.
      const bBox = f < 10 ? { x: 560 - 18 * f, y: 200, w: 150, h: 110 } : { x: 460, y: 200, w: 70, h: 110 };
      t.update(
        frame(f, [
          { box: { x: 300, y: 300, w: 160, h: 120 }, embedding: noisyEmbedding(random, a!, 0.2) },
          { box: bBox, embedding: noisyEmbedding(random, b!, 0.2) },
        ]),
      );
    }
    const horseB = t.finish().horses.find((h) => h.frames.some((f) => f.frameIndex === 0 && f.box.x === 560))!;
    const hidden = horseB.frames.filter((f) => f.frameIndex >= 12);
    expect(hidden).toHaveLength(8);
    // Grown behind A to B's size, every frame: the piece teaches the track no smaller size.
    for (const { box } of hidden) {
      expect(box.x).toBeGreaterThan(375);
      expect(box.x).toBeLessThan(395);
      expect(box.w).toBeGreaterThan(135);
    }
  });

  it('gives a horse known only from a piece its ID back when it steps out whole where the piece was', () => {
    const [a, piece, whole] = identities(3);
    const random = mulberry32(41);
    const t = tracker({ newHorseMinTrackS: 0, newHorseMaxWaitS: 2 });
    for (let f = 0; f < 36; f += 1) {
      // A stands in front. Of B, behind it, only its back shows above A for 3 s (a piece that looks
      // like nothing B looks like whole); then B is hidden, and from frame 18 it stands out whole,
      // its box over where the piece was.
      const objects = [{ box: { x: 300, y: 300, w: 160, h: 120 }, embedding: noisyEmbedding(random, a!, 0.2) }];
      if (f < 15) objects.push({ box: { x: 320, y: 260, w: 120, h: 40 }, embedding: noisyEmbedding(random, piece!, 0.2) });
      if (f >= 18) objects.push({ box: { x: 330, y: 230, w: 150, h: 110 }, embedding: noisyEmbedding(random, whole!, 0.2) });
      t.update(frame(f, objects));
    }
    const horses = t.finish().horses;
    expect(horses.map((horse) => horse.id)).toEqual(['horse_001', 'horse_002']);
    const b = horses[1]!.frames;
    expect(b.some((tracked) => tracked.frameIndex < 15)).toBe(true);
    expect(b.some((tracked) => tracked.frameIndex >= 30 && tracked.box.h === 110)).toBe(true);
  });

  it('gives a horse swallowed by a merged box its ID back when it leaves the group, looking different', () => {
    // A and B side by side, then one box over both, then A's alone; B steps out on the other side
    // looking unlike before, and C walks in far away (helpers.groupSplitScene).
    const t = tracker({ newHorseMinTrackS: 0, newHorseMaxWaitS: 2 });
    const updates = run(t, groupSplitScene());
    expect(t.finish().horses.map((horse) => horse.id)).toEqual(['horse_001', 'horse_002', 'horse_003']);
    expect(updates[5]!.assignments.map((assignment) => assignment.horseId)).toEqual(['horse_001', 'horse_002']);
    expect(updates[44]!.assignments.map((assignment) => assignment.horseId)).toEqual(['horse_001', 'horse_002', 'horse_003']);
  });

  it("reports a horse's own part of a box the detector drew over it and the horse beside it", () => {
    const frames = sideBySideMergeScene();
    const t = tracker();
    const updates = run(t, frames);
    const result = t.finish();
    const horseA = result.horses.find((horse) => horse.id === updates[29]!.assignments[0]!.horseId)!;
    const reported = new Map(horseA.frames.map((tracked) => [tracked.frameIndex, tracked.box]));
    // Where B is (its own box, or its prediction while just missed), A is the merged box's rest.
    for (let i = 10; i < 15; i += 1) expect(reported.get(i), `frame ${i}`).toEqual({ x: 100, y: 100, w: 160, h: 80 });
    // A horse missed for long is no longer where its prediction is: the box is reported as seen.
    expect(reported.get(20)).toEqual(SIDE_BY_SIDE.merged);
    expect(result.horses).toHaveLength(2);
  });

  it('a horse missed by the detector for a frame is not claimed by a look-alike tracked beside it', () => {
    const [a] = identities(1);
    const random = mulberry32(31);
    const seen = (box: { x: number; y: number; w: number; h: number }) => ({ box, embedding: noisyEmbedding(random, a!, 0.05) });
    const boxA = { x: 100, y: 100, w: 120, h: 80 };
    const boxB = { x: 240, y: 100, w: 120, h: 80 };
    // A alone (0–9), then B beside it looking the same (10–29); the detector misses A in frame 13.
    const frames = Array.from({ length: 30 }, (_, i) => {
      const objects = i === 13 ? [] : [seen(boxA)];
      if (i >= 10) objects.push(seen(boxB));
      return frame(i, objects);
    });
    const t = tracker({ newHorseMinTrackS: 0 });
    const updates = frames.map((f) => t.update(f));
    const horseA = updates[9]!.assignments[0]!.horseId;
    expect(horseA).toBe('horse_001');
    // Without the rule B took horse_001 in frame 13, and A came back as a second horse.
    expect(updates[13]!.assignments[0]!.horseId).not.toBe(horseA);
    expect(updates[29]!.assignments.map((assignment) => assignment.horseId)).toEqual(['horse_001', 'horse_002']);
  });

  it('learns no appearance from a box the detector merged over two horses standing together', () => {
    const [a, b] = identities(2);
    const random = mulberry32(13);
    const boxA = { x: 100, y: 100, w: 120, h: 80 };
    const boxB = { x: 232, y: 100, w: 120, h: 80 };
    const merged = { x: 100, y: 100, w: 240, h: 80 };
    // One box over both horses: its look is half of each.
    const both = normalize(a!.map((value, k) => value + b![k]!));
    const frames = Array.from({ length: 25 }, (_, i) =>
      i < 10
        ? frame(i, [{ box: boxA, embedding: noisyEmbedding(random, a!, 0.1) }, { box: boxB, embedding: noisyEmbedding(random, b!, 0.1) }])
        : frame(i, [{ box: merged, embedding: noisyEmbedding(random, both, 0.1) }]),
    );
    const t = tracker();
    const updates = frames.map((f) => t.update(f));
    const result = t.finish();
    const horseA = result.horses.find((horse) => horse.id === updates[9]!.assignments[0]!.horseId)!;
    expect(updates[20]!.assignments[0]!.horseId).toBe(horseA.id);
    // Learnt, the merged views would put horse B's look into horse A's bank (cosine ≈ 0.7).
    expect(bankSimilarity(horseA.features, b!)).toBeLessThan(0.4);
    expect(bankSimilarity(horseA.features, a!)).toBeGreaterThan(0.9);
  });

  it('does not let a different-looking horse take over a trusted track by overlap alone', () => {
    const [a, b] = identities(2);
    const random = mulberry32(23);
    const t = tracker({ newHorseMinTrackS: 0 });
    const updates: FrameUpdate[] = [];
    for (let f = 0; f < 16; f += 1) {
      // A stands still; from frame 8 it is hidden and B stands exactly where A was.
      const identity = f < 8 ? a! : b!;
      updates.push(t.update(frame(f, [{ box: { x: 300, y: 300, w: 150, h: 100 }, embedding: noisyEmbedding(random, identity, 0.2) }])));
    }
    expect(updates[7]!.assignments[0]!.horseId).toBe('horse_001');
    expect(updates[15]!.assignments[0]!.horseId).toBe('horse_002');
    // A weak ReID model (views that disagree with each other) never vetoes: overlap keeps the track.
    const weak = tracker({ newHorseMinTrackS: 0 });
    const random2 = mulberry32(24);
    const weakUpdates: FrameUpdate[] = [];
    for (let f = 0; f < 16; f += 1) {
      weakUpdates.push(weak.update(frame(f, [{ box: { x: 300, y: 300, w: 150, h: 100 }, embedding: noisyEmbedding(random2, f < 8 ? a! : b!, 2.5) }])));
    }
    expect(new Set(weakUpdates.slice(3).map((u) => u.assignments[0]!.horseId))).toEqual(new Set(['horse_001']));
  });

  it('follows the camera: a jolt that moves every horse by one spacing keeps look-alikes on their own tracks only with the camera motion', () => {
    const [look] = identities(1);
    const JOLT_FRAME = 15;
    const JOLT_PX = -150;
    // Two look-alike horses standing 150 px apart; at frame 15 the camera jolts, and both land
    // 150 px to the left in the frame: the left one where nothing was, the right one on the left one's spot.
    const still = (x: number) => ({ identity: look!, start: { x, y: 300, w: 120, h: 80 }, velocity: { dx: 0, dy: 0 } });
    const frames = scene([still(400), still(550)], 25, { noise: 0.1, jitter: 0.5 }).map((sceneFrame, f) => {
      if (f < JOLT_FRAME) return sceneFrame;
      const detections = sceneFrame.frame.detections.map((detection) => ({ ...detection, box: { ...detection.box, x: detection.box.x + JOLT_PX } }));
      return { ...sceneFrame, frame: { ...sceneFrame.frame, detections } };
    });
    const jolt = { scale: 1, tx: JOLT_PX, ty: 0, centreX: 640, centreY: 360 };
    const idsOf = (withCameraMotion: boolean) => {
      const t = tracker();
      const updates = frames.map(({ frame: perception }, f) => t.update(withCameraMotion && f === JOLT_FRAME ? { ...perception, cameraMotion: jolt } : perception));
      return idsPerTruth(frames, updates);
    };
    const followed = idsOf(true);
    expect([...followed.values()].map((ids) => [...ids])).toEqual([['horse_001'], ['horse_002']]);
    // Without it the left horse's prediction takes the right horse's detection: IDs swap or split.
    const unfollowed = idsOf(false);
    expect([...unfollowed.values()].some((ids) => ids.size > 1)).toBe(true);
  });

  it('refuses a camera motion that is not finite or zooms beyond reason', () => {
    const [look] = identities(1);
    const t = tracker();
    const perception = frame(0, [{ box: { x: 10, y: 10, w: 50, h: 40 }, embedding: look! }]);
    t.update(perception);
    expect(() => t.update({ ...frame(1, []), cameraMotion: { scale: 3, tx: 0, ty: 0, centreX: 0, centreY: 0 } })).toThrow(PaddockError);
    expect(() => t.embeddingsNeeded({ detections: [], cameraMotion: { scale: 1, tx: Number.NaN, ty: 0, centreX: 0, centreY: 0 } })).toThrow(PaddockError);
  });

  it('is deterministic', () => {
    const ids = identities(4);
    const script = ids.map((identity, i) => ({
      identity,
      start: { x: 50 + 200 * i, y: 100 + 100 * i, w: 110, h: 75 },
      velocity: { dx: 10 - 5 * i, dy: 3 * (i - 2) },
      visible: (f: number) => (f + i) % 9 !== 0,
    }));
    const once = (): string => {
      const t = tracker();
      const updates = run(t, scene(script, 40, { seed: 3, jitter: 3 }));
      const result = t.finish();
      const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v)));
      return JSON.stringify([plain(updates), plain(result)]);
    };
    expect(once()).toBe(once());
  });

  it('refuses malformed frames and options with a typed error', () => {
    const t = tracker();
    const bad = frame(0, [{ box: { x: 0, y: 0, w: 10, h: 10 }, embedding: new Float32Array([1, 0]) }]);
    bad.embeddings = [];
    expect(() => t.update(bad)).toThrow(PaddockError);
    const nanBox = frame(0, [{ box: { x: Number.NaN, y: 0, w: 10, h: 10 }, embedding: new Float32Array([1, 0]) }]);
    expect(() => t.update(nanBox)).toThrow(PaddockError);
    expect(() => tracker({ confirmHits: 0 })).toThrow(PaddockError);
    expect(() => tracker({ lowScore: 0.9, highScore: 0.5 })).toThrow(PaddockError);
    expect(() => createChunkTracker({ known: [], nextTrackingId: 0, chunkStart })).toThrow(PaddockError);
  });
});
