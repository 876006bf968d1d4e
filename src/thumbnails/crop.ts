import { PaddockError } from '../errors/index.ts';
import type { Box } from '../tracking/index.ts';
import type { DecodedFrame } from '../video/index.ts';

/** A copy of the pixels around one detection, kept until the chunk ends and it is encoded. */
export interface ThumbnailCrop {
  width: number;
  height: number;
  /** RGB24, width * height * 3 bytes. */
  data: Buffer;
  /** The thumbnailQuality of the detection it was cut from. */
  quality: number;
}

/** Extra context around the box on each side, as a fraction of the box's width/height. */
export const THUMBNAIL_MARGIN = 0.1;

/** Box area × confidence: bigger, surer detections make better avatars. 0 for degenerate input. */
export function thumbnailQuality(box: Box, confidence: number): number {
  const quality = Math.max(0, box.w) * Math.max(0, box.h) * confidence;
  return Number.isFinite(quality) && quality > 0 ? quality : 0;
}

/** The box grown by the margin and clipped to the frame, in whole pixels. */
export function cropRegion(frameWidth: number, frameHeight: number, box: Box): { x: number; y: number; width: number; height: number } {
  const marginX = box.w * THUMBNAIL_MARGIN;
  const marginY = box.h * THUMBNAIL_MARGIN;
  const left = Math.max(0, Math.floor(box.x - marginX));
  const top = Math.max(0, Math.floor(box.y - marginY));
  const right = Math.min(frameWidth, Math.ceil(box.x + box.w + marginX));
  const bottom = Math.min(frameHeight, Math.ceil(box.y + box.h + marginY));
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** Copies just the crop region (box + 10 % margin, clipped to the frame) out of an RGB24 frame. */
export function cropForThumbnail(frame: DecodedFrame, box: Box, quality: number): ThumbnailCrop {
  const { width, height, data } = frame;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0) || data.length !== width * height * 3) {
    throw new PaddockError('THUMBNAIL_INVALID', `frame ${frame.index} is not ${width}x${height} RGB24 (${data.length} bytes)`, {
      details: { frameIndex: frame.index, width, height, bytes: data.length },
    });
  }
  if (![box.x, box.y, box.w, box.h].every(Number.isFinite)) {
    throw new PaddockError('THUMBNAIL_INVALID', `box ${JSON.stringify(box)} has a non-finite coordinate`, { details: { box } });
  }
  const region = cropRegion(width, height, box);
  if (region.width <= 0 || region.height <= 0) {
    throw new PaddockError('THUMBNAIL_INVALID', `box ${JSON.stringify(box)} lies outside the ${width}x${height} frame`, {
      details: { box, width, height },
    });
  }
  const rowBytes = region.width * 3;
  const out = Buffer.allocUnsafe(rowBytes * region.height);
  for (let row = 0; row < region.height; row += 1) {
    const source = ((region.y + row) * width + region.x) * 3;
    data.copy(out, row * rowBytes, source, source + rowBytes);
  }
  return { width: region.width, height: region.height, data: out, quality };
}
