import type { MotRow } from '../eval/index.ts';
import type { PersistedChunk } from './types.ts';

/**
 * A chunk's tracked boxes as MOTChallenge prediction rows in the stream's frame numbering:
 * frame = round(t × fps) + 1, t counted from the stream's first chunk, boxes in video pixels.
 */
export function motRowsOf(persisted: PersistedChunk, chunkOffsetS: number, video: { fps: number; width: number; height: number }): MotRow[] {
  const { outcome, result } = persisted;
  const scaleX = outcome.frameWidth > 0 ? video.width / outcome.frameWidth : 1;
  const scaleY = outcome.frameHeight > 0 ? video.height / outcome.frameHeight : 1;
  const rows: MotRow[] = [];
  outcome.tracking.horses.forEach((horse, index) => {
    const trackingId = result.horses[index]?.tracking_id ?? horse.trackingId;
    for (const tracked of horse.frames) {
      rows.push({
        frame: Math.round((chunkOffsetS + tracked.timestampS) * video.fps) + 1,
        id: trackingId,
        x: tracked.box.x * scaleX,
        y: tracked.box.y * scaleY,
        w: tracked.box.w * scaleX,
        h: tracked.box.h * scaleY,
        conf: tracked.score,
      });
    }
  });
  return rows.sort((a, b) => a.frame - b.frame || a.id - b.id);
}
