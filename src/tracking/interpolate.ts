/**
 * Boxes for the frames a horse went unseen within a chunk (hidden behind another, missed by the
 * detector): linear interpolation between the boxes before and after the gap, as ByteTrack and
 * BoT-SORT do for their tracks. The chunk's result is only reported at its end, so a gap closed
 * within the chunk costs no latency; a gap across a chunk boundary stays open.
 *
 * Pure: observations in, observations out.
 */
import type { TrackedBox } from './track.ts';
import type { Box } from './types.ts';

/** A frame the tracker saw (detected or held). */
export interface FrameTime {
  frameIndex: number;
  timestampS: number;
}

/**
 * `observations` (sorted by frame) with an interpolated box added for every frame of `frames`
 * strictly between two consecutive observations at most `maxGapS` apart, unless `crowded` says
 * one of the gap's boxes lands on another horse (a guess in a crowd could be that horse), or
 * `atViewEdge` says the box before the gap lies at the edge of the view (the horse may have
 * stepped out of view in between): such a gap stays open. Interpolated boxes have score 0 and
 * `interpolated: true`: they are no detections.
 */
export function fillGaps(
  observations: readonly TrackedBox[],
  frames: readonly FrameTime[],
  maxGapS: number,
  crowded: (frameIndex: number, box: Box) => boolean = () => false,
  atViewEdge: (box: Box) => boolean = () => false,
): TrackedBox[] {
  if (maxGapS <= 0 || observations.length < 2) return [...observations];
  const filled: TrackedBox[] = [];
  let at = 0;
  for (let k = 0; k < observations.length; k += 1) {
    const before = observations[k]!;
    filled.push(before);
    const after = observations[k + 1];
    if (after === undefined) break;
    const gapS = after.timestampS - before.timestampS;
    // A horse last seen at the edge may have stepped out of view: a horse seen at the edge only after the gap was walking toward it, in view.
    if (after.frameIndex - before.frameIndex <= 1 || gapS > maxGapS || gapS <= 0 || atViewEdge(before.box)) continue;
    while (at < frames.length && frames[at]!.frameIndex <= before.frameIndex) at += 1;
    const gap: TrackedBox[] = [];
    for (; at < frames.length && frames[at]!.frameIndex < after.frameIndex; at += 1) {
      const frame = frames[at]!;
      const t = (frame.timestampS - before.timestampS) / gapS;
      const a = before.box;
      const b = after.box;
      const box = { x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y), w: a.w + t * (b.w - a.w), h: a.h + t * (b.h - a.h) };
      gap.push({ frameIndex: frame.frameIndex, timestampS: frame.timestampS, box, score: 0, interpolated: true });
    }
    if (!gap.some((box) => crowded(box.frameIndex, box.box))) filled.push(...gap);
  }
  return filled;
}
