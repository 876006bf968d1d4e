/**
 * Ground-truth lines of a synthetic stream (MOTChallenge text, one numbering for the whole
 * stream: frame = round(t × fps) + 1). Pure formatting; files are written by writer.ts.
 */
import type { FrameTruth, HorseTruth } from './render.ts';

/** Horses less visible than this (hidden behind others or mostly off-frame) are left out of gt.txt. */
export const MIN_LISTED_VISIBILITY = 0.1;

export function isListed(horse: HorseTruth): boolean {
  return horse.visibility >= MIN_LISTED_VISIBILITY && horse.box.w > 0 && horse.box.h > 0;
}

/** `frame,id,x,y,w,h,1,-1,-1,-1` for every listed horse of a frame. */
export function motLines(truth: FrameTruth): string {
  let text = '';
  const frame = truth.frameIndex + 1;
  for (const horse of truth.horses) {
    if (!isListed(horse)) continue;
    const { x, y, w, h } = horse.box;
    text += `${frame},${horse.id},${x},${y},${w},${h},1,-1,-1,-1\n`;
  }
  return text;
}

/** `frame,id,visibility` (visibility in 0..1, three decimals) for the same rows as motLines. */
export function visibilityLines(truth: FrameTruth): string {
  let text = '';
  const frame = truth.frameIndex + 1;
  for (const horse of truth.horses) {
    if (!isListed(horse)) continue;
    text += `${frame},${horse.id},${horse.visibility.toFixed(3)}\n`;
  }
  return text;
}
