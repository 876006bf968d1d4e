import { describe, expect, it } from 'vitest';
import { fillGaps, type FrameTime } from '../../src/tracking/interpolate.ts';
import type { TrackedBox } from '../../src/tracking/track.ts';
import { createChunkTracker } from '../../src/tracking/tracker.ts';
import { identities, scene } from './helpers.ts';

const frames: FrameTime[] = Array.from({ length: 20 }, (_, i) => ({ frameIndex: i, timestampS: i / 5 }));
const seen = (frameIndex: number, x: number): TrackedBox => ({ frameIndex, timestampS: frameIndex / 5, box: { x, y: 50, w: 100, h: 60 }, score: 0.9 });

describe('interpolated boxes for short gaps', () => {
  it('fills the frames between two sightings at most maxGapS apart, linearly, marked as no detection', () => {
    const filled = fillGaps([seen(2, 100), seen(6, 180)], frames, 1);
    expect(filled.map((box) => box.frameIndex)).toEqual([2, 3, 4, 5, 6]);
    expect(filled.slice(1, 4).map((box) => box.box.x)).toEqual([120, 140, 160]);
    expect(filled.slice(1, 4).every((box) => box.interpolated === true && box.score === 0)).toBe(true);
    expect(filled[0]!.interpolated).toBeUndefined();
  });

  it('leaves longer gaps open, and only fills frames the tracker saw', () => {
    expect(fillGaps([seen(2, 100), seen(9, 180)], frames, 1).map((box) => box.frameIndex)).toEqual([2, 9]);
    const sparse = frames.filter((frame) => frame.frameIndex % 2 === 0);
    expect(fillGaps([seen(2, 100), seen(6, 180)], sparse, 1).map((box) => box.frameIndex)).toEqual([2, 4, 6]);
    expect(fillGaps([seen(2, 100), seen(6, 180)], frames, 0)).toHaveLength(2);
  });

  it('leaves a gap open when one of its boxes would land on another horse (a guess in a crowd)', () => {
    const onOther = (frameIndex: number) => frameIndex === 4;
    expect(fillGaps([seen(2, 100), seen(6, 180)], frames, 1, (frameIndex) => onOther(frameIndex)).map((box) => box.frameIndex)).toEqual([2, 6]);
    expect(fillGaps([seen(2, 100), seen(6, 180), seen(9, 240)], frames, 1, (frameIndex) => onOther(frameIndex)).map((box) => box.frameIndex)).toEqual([2, 6, 7, 8, 9]);
  });

  it('leaves a gap open when the box before it lies at the edge of the view (the horse may have stepped out)', () => {
    const atEdge = (box: { x: number }) => box.x <= 0;
    const never = () => false;
    expect(fillGaps([seen(2, 0), seen(6, 180)], frames, 1, never, atEdge).map((box) => box.frameIndex)).toEqual([2, 6]);
    // Seen at the edge only after the gap: it was walking toward the edge, in view.
    expect(fillGaps([seen(2, 180), seen(6, 0)], frames, 1, never, atEdge).map((box) => box.frameIndex)).toEqual([2, 3, 4, 5, 6]);
    expect(fillGaps([seen(2, 100), seen(6, 180)], frames, 1, never, atEdge).map((box) => box.frameIndex)).toEqual([2, 3, 4, 5, 6]);
  });

  it('a horse that walks out of the view at its edge and comes back is not reported while it was out', () => {
    const [a] = identities(1);
    // a walks left out of the 1280-px frame (frames 6–9 it is not there) and comes back in.
    const x = (f: number) => (f < 6 ? 40 - 8 * f : f > 9 ? 8 * (f - 10) : -200);
    const tracker = createChunkTracker({ known: [], nextTrackingId: 1, chunkStart: new Date('2026-01-01T10:00:00Z') });
    const sceneFrames = scene([{ identity: a!, start: { x: 0, y: 100, w: 120, h: 80 }, velocity: { dx: 0, dy: 0 }, visible: (f) => f < 6 || f > 9 }], 20);
    for (const { frame } of sceneFrames) {
      const f = frame.frameIndex;
      tracker.update({ ...frame, detections: frame.detections.map((d) => ({ ...d, box: { ...d.box, x: Math.max(0, x(f)), w: 120 + Math.min(0, x(f)) } })) });
    }
    const horse = tracker.finish().horses[0]!;
    expect(horse.frames.map((box) => box.frameIndex)).toEqual([0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('a horse hidden for four frames is reported in them, its detections counted as before', () => {
    const [a] = identities(1);
    const hidden = (f: number) => f < 8 || f > 11;
    const sceneFrames = scene([{ identity: a!, start: { x: 100, y: 100, w: 120, h: 80 }, velocity: { dx: 5, dy: 0 }, visible: hidden }], 20);
    const tracker = createChunkTracker({ known: [], nextTrackingId: 1, chunkStart: new Date('2026-01-01T10:00:00Z') });
    for (const { frame } of sceneFrames) tracker.update(frame);
    const horse = tracker.finish().horses[0]!;
    expect(horse.detections).toBe(16);
    expect(horse.frames.map((box) => box.frameIndex)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const gap = horse.frames.filter((box) => box.interpolated === true);
    expect(gap.map((box) => box.frameIndex)).toEqual([8, 9, 10, 11]);
    // On the line between the boxes of frames 7 and 12 (5 px a frame).
    for (const box of gap) expect(Math.abs(box.box.x - (100 + 5 * box.frameIndex))).toBeLessThan(4);
  });

  it('a horse missed for four frames right where another horse stands is left out of them', () => {
    const [a, b] = identities(2);
    // b stands still where a's path would be interpolated while a is missed (frames 8–11).
    const sceneFrames = scene(
      [
        { identity: a!, start: { x: 100, y: 100, w: 120, h: 80 }, velocity: { dx: 5, dy: 0 }, visible: (f) => f < 8 || f > 11 },
        { identity: b!, start: { x: 145, y: 100, w: 120, h: 80 }, velocity: { dx: 0, dy: 0 }, visible: (f) => f >= 8 && f <= 11 },
      ],
      20,
    );
    const tracker = createChunkTracker({ known: [], nextTrackingId: 1, chunkStart: new Date('2026-01-01T10:00:00Z'), options: { confirmHits: 1 } });
    for (const { frame } of sceneFrames) tracker.update(frame);
    const { horses, provisional } = tracker.finish();
    const interpolated = [...horses.flatMap((horse) => horse.frames), ...provisional.flatMap((track) => track.frames)].filter((box) => box.interpolated === true);
    expect(interpolated).toEqual([]);
  });
});
