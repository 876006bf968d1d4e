/**
 * Association, one frame: which detection continues which track. Three stages, each one optimal
 * assignment (Jonker–Volgenant), ByteTrack-style with appearance as in BoT-SORT:
 *  1. confirmed tracks (tracked and lost) × high-score detections, fused cost
 *     iouWeight·(1 − IoU) + (1 − iouWeight)·cosine distance to the track's running appearance.
 *     Gates: IoU with the predicted box ≥ minIoU, and a distance above maxAppearanceDistance
 *     refuses the pair unless IoU ≥ appearanceVetoMaxIoU (a weak ReID model never splits a
 *     clearly overlapping track); a distance above maxOverlapAppearanceDistance refuses it even
 *     then, but only on a track whose own views agree (trustedAppearanceSimilarity), so a horse
 *     walking in front of another does not take over its track. Lost tracks are re-found by
 *     appearance wherever they are (best cosine over bank and running appearance ≥
 *     refindSimilarity), or by IoU ≥ lowScoreMinIoU with a compatible look — but never on a
 *     detection a followed track's prediction overlaps at IoU ≥ SPOKEN_FOR_IOU;
 *  2. still-unmatched tracked tracks × low-score detections, by IoU only;
 *  3. tentative tracks × remaining high-score detections.
 * Pure: the tracks are only read.
 */
import { linearSumAssignment } from './assignment.ts';
import { bankSimilarity, dot } from './featureBank.ts';
import { iou } from './geometry.ts';
import type { TrackerOptions } from './options.ts';
import type { Box, Detection, FeatureBank } from './types.ts';

/** What association reads of a track. */
export interface AssociationTrack {
  phase: 'tentative' | 'tracked' | 'lost';
  confirmed: boolean;
  /** The Kalman box predicted for this frame. */
  predicted: Box;
  bank: FeatureBank | null;
  /** Running appearance (unit), null before the first confident view. */
  appearance: Float32Array | null;
  /** Running agreement of its views with its appearance; NaN before the second view. */
  selfSimilarity: number;
  /** Frames since its last detection (0 while followed). */
  lostFrames: number;
}

export interface FrameMatches<T> {
  pairs: { track: T; detection: number; wasLost: boolean }[];
  matchedTrack: Set<T>;
  matchedDetection: Uint8Array;
}

/** IoU with a followed track's predicted box from which a detection is that track's, not a lost track's to re-find. */
export const SPOKEN_FOR_IOU = 0.8;

/** The three matching stages over `high` and `low` (detection indexes by score band). */
export function matchDetections<T extends AssociationTrack>(
  tracks: readonly T[],
  detections: readonly Detection[],
  embeddings: readonly (Float32Array | null)[],
  high: readonly number[],
  low: readonly number[],
  options: TrackerOptions,
): FrameMatches<T> {
  const matchedTrack = new Set<T>();
  const matchedDetection = new Uint8Array(detections.length);
  const pairs: { track: T; detection: number; wasLost: boolean }[] = [];
  const commit = (matches: [T, number][]): void => {
    for (const [track, detection] of matches) {
      matchedTrack.add(track);
      matchedDetection[detection] = 1;
      pairs.push({ track, detection, wasLost: track.phase === 'lost' });
    }
  };

  // Stage 1: confirmed tracks × high-score detections (fused cost; lost tracks by appearance).
  const confirmedTracks = tracks.filter((track) => track.confirmed);
  // A detection a followed track overlaps this closely is that track's next box: a lost track
  // may not take it by appearance (a look-alike re-found on another horse's track).
  // Only a follower that could take the detection itself speaks for it (one whose appearance gate
  // refuses it — a look-alike twin — leaves it to the others).
  // Asked once per detection however many lost tracks want it (0 unknown, 1 free, 2 spoken for).
  const following = tracks.filter((track) => track.phase !== 'lost');
  const spoken = new Uint8Array(detections.length);
  const spokenFor = (d: number): boolean => {
    if (spoken[d] === 0) {
      const taken = following.some((track) => {
        if (iou(track.predicted, detections[d]!.box) < SPOKEN_FOR_IOU) return false;
        const cost = track.phase === 'tentative' ? tentativeCost(track, detections[d]!.box, embeddings[d] ?? null, options) : fusedCost(track, detections[d]!.box, embeddings[d] ?? null, options);
        return cost !== Number.POSITIVE_INFINITY;
      });
      spoken[d] = taken ? 2 : 1;
    }
    return spoken[d] === 2;
  };
  commit(
    associate(confirmedTracks, high, (track, d) =>
      track.phase === 'lost' && spokenFor(d) ? Number.POSITIVE_INFINITY : fusedCost(track, detections[d]!.box, embeddings[d] ?? null, options),
    ),
  );
  // Stage 2: tracked tracks still unmatched × low-score detections, IoU only.
  const stillTracked = confirmedTracks.filter((track) => track.phase === 'tracked' && !matchedTrack.has(track));
  commit(
    associate(stillTracked, low, (track, d) => {
      const overlap = iou(track.predicted, detections[d]!.box);
      return overlap >= options.lowScoreMinIoU ? 1 - overlap : Number.POSITIVE_INFINITY;
    }),
  );
  // Stage 3: tentative tracks × remaining high-score detections.
  const tentative = tracks.filter((track) => track.phase === 'tentative');
  const remainingHigh = high.filter((d) => matchedDetection[d] === 0);
  commit(associate(tentative, remainingHigh, (track, d) => tentativeCost(track, detections[d]!.box, embeddings[d] ?? null, options)));
  return { pairs, matchedTrack, matchedDetection };
}

/** One optimal assignment of tracks × detections under `cost` (+Infinity = forbidden). */
function associate<T>(tracks: readonly T[], detections: readonly number[], cost: (track: T, detection: number) => number): [T, number][] {
  if (tracks.length === 0 || detections.length === 0) return [];
  const matrix = new Float64Array(tracks.length * detections.length);
  for (let t = 0; t < tracks.length; t += 1) {
    for (let d = 0; d < detections.length; d += 1) matrix[t * detections.length + d] = cost(tracks[t]!, detections[d]!);
  }
  const rowToCol = linearSumAssignment(matrix, tracks.length, detections.length);
  const matches: [T, number][] = [];
  for (let t = 0; t < tracks.length; t += 1) {
    const column = rowToCol[t]!;
    if (column >= 0) matches.push([tracks[t]!, detections[column]!]);
  }
  return matches;
}

function fusedCost(track: AssociationTrack, box: Box, embedding: Float32Array | null, options: TrackerOptions): number {
  const overlap = iou(track.predicted, box);
  if (track.phase === 'lost') {
    // Lost: re-found by appearance anywhere, or by a clear overlap with a compatible look.
    const similarity = lostTrackSimilarity(track, embedding);
    const known = similarity !== Number.NEGATIVE_INFINITY;
    const byAppearance = similarity >= options.refindSimilarity && withinReach(track, box, options);
    const byOverlap = overlap >= options.lowScoreMinIoU && (!known || 1 - similarity <= options.maxAppearanceDistance);
    if (!byAppearance && !byOverlap) return Number.POSITIVE_INFINITY;
    const distance = known ? 1 - similarity : 1 - overlap;
    return options.iouWeight * (1 - overlap) + (1 - options.iouWeight) * distance;
  }
  if (overlap < options.minIoU) return Number.POSITIVE_INFINITY;
  return overlapAppearanceCost(track, overlap, embedding, options);
}

/**
 * Whether a horse lost `lostFrames` frames ago can be at `box`: its centre within refindReach
 * body lengths (the predicted box's longer side) per frame lost. A look-alike across the frame
 * a moment later is another horse, not this one re-found.
 */
export function withinReach(track: AssociationTrack, box: Box, options: TrackerOptions): boolean {
  if (options.refindReach === 0) return true;
  const p = track.predicted;
  const reach = options.refindReach * Math.max(p.w, p.h, 1) * Math.max(1, track.lostFrames);
  return Math.hypot(box.x + box.w / 2 - (p.x + p.w / 2), box.y + box.h / 2 - (p.y + p.h / 2)) <= reach;
}

/** Best cosine of a detection with a lost track's bank or running appearance; −Infinity without either (or without the detection's vector). */
function lostTrackSimilarity(track: AssociationTrack, embedding: Float32Array | null): number {
  if (embedding === null) return Number.NEGATIVE_INFINITY;
  let similarity = track.bank === null ? Number.NEGATIVE_INFINITY : bankSimilarity(track.bank, embedding);
  if (track.appearance !== null && track.appearance.length === embedding.length) similarity = Math.max(similarity, dot(track.appearance, embedding));
  return similarity;
}

function tentativeCost(track: AssociationTrack, box: Box, embedding: Float32Array | null, options: TrackerOptions): number {
  const overlap = iou(track.predicted, box);
  if (overlap < options.tentativeMinIoU) return Number.POSITIVE_INFINITY;
  return overlapAppearanceCost(track, overlap, embedding, options);
}

function overlapAppearanceCost(track: AssociationTrack, overlap: number, embedding: Float32Array | null, options: TrackerOptions): number {
  // A detection without a vector was judged an unambiguous continuation (ReID on demand): overlap decides.
  if (embedding === null || track.appearance === null || track.appearance.length !== embedding.length) return 1 - overlap;
  const distance = 1 - dot(track.appearance, embedding);
  if (distance > options.maxAppearanceDistance && overlap < options.appearanceVetoMaxIoU) return Number.POSITIVE_INFINITY;
  // A look this far from the track's is another horse, however well the boxes overlap — when
  // the track's own views agree well enough for its appearance to be trusted at all.
  if (distance > options.maxOverlapAppearanceDistance && track.selfSimilarity >= options.trustedAppearanceSimilarity) return Number.POSITIVE_INFINITY;
  return options.iouWeight * (1 - overlap) + (1 - options.iouWeight) * distance;
}
