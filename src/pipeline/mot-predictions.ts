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
  for (const track of outcome.tracking.provisional) {
    for (const tracked of track.frames) {
      rows.push({
        frame: Math.round((chunkOffsetS + tracked.timestampS) * video.fps) + 1,
        id: PROVISIONAL_MOT_ID_OFFSET + track.trackKey,
        x: tracked.box.x * scaleX,
        y: tracked.box.y * scaleY,
        w: tracked.box.w * scaleX,
        h: tracked.box.h * scaleY,
        conf: tracked.score,
      });
    }
  }
  return rows.sort((a, b) => a.frame - b.frame || a.id - b.id);
}

/** MOT IDs of provisional tracks: this offset plus the track number, until they are joined to their horse. */
export const PROVISIONAL_MOT_ID_OFFSET = 1_000_000;

/**
 * Joins provisional rows to the horses they turned out to be (from the chunks' `identified`
 * lists, by tracking number). Rows of tracks never decided keep their provisional ID, or are
 * left out with `undecided: 'drop'` (scoring identities: an undecided track claims none).
 */
export function joinProvisionalRows(rows: readonly MotRow[], chunks: readonly Pick<PersistedChunk, 'result'>[], undecided: 'keep' | 'drop' = 'keep'): MotRow[] {
  const horseOfTrack = new Map<number, number>();
  const trackingIdOf = new Map<string, number>();
  for (const { result } of chunks) {
    for (const horse of result.horses) if (horse.id !== null && horse.tracking_id !== null) trackingIdOf.set(horse.id, horse.tracking_id);
  }
  for (const { result } of chunks) {
    for (const entry of result.identified) {
      const trackingId = trackingIdOf.get(entry.id);
      if (trackingId !== undefined) horseOfTrack.set(PROVISIONAL_MOT_ID_OFFSET + entry.track_id, trackingId);
    }
  }
  // A horse keeps one box per frame: its own track's box wins over a joined provisional one.
  const own = new Set(rows.filter((row) => row.id < PROVISIONAL_MOT_ID_OFFSET).map((row) => `${row.frame}:${row.id}`));
  const joined: MotRow[] = [];
  for (const row of rows) {
    const id = horseOfTrack.get(row.id);
    if (id === undefined) {
      if (undecided === 'keep' || row.id < PROVISIONAL_MOT_ID_OFFSET) joined.push(row);
    }
    else if (!own.has(`${row.frame}:${id}`)) {
      own.add(`${row.frame}:${id}`);
      joined.push({ ...row, id });
    }
  }
  return joined.sort((a, b) => a.frame - b.frame || a.id - b.id);
}
