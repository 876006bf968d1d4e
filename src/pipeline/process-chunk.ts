import type { ChunkEvent } from '../../machines/types.ts';
import { PaddockError } from '../errors/index.ts';
import type { Detector, Embedder } from '../inference/index.ts';
import type { Detection, HorseStatus } from '../tracking/index.ts';
import type { Logger } from '../log/index.ts';
import type { RegistrySnapshot } from '../registry/index.ts';
import { BestThumbnails, encodeSightingThumbnail, encodeThumbnail } from '../thumbnails/index.ts';
import { createChunkTracker, type TrackerOptions } from '../tracking/index.ts';
import { decodeChunk, MotionGate, type CameraMotionCarry, type DecodedFrame, type DecodeOptions, type MotionGateOptions } from '../video/index.ts';
import type { ChunkOutcome, EncodedThumbnail, InferenceWork } from './types.ts';

/** Decoding goes at most this far past a chunk's declared duration (seconds, or share of it if more). */
const DURATION_MARGIN_S = 2;
const DURATION_MARGIN_RATIO = 0.1;

export interface ProcessChunkDeps {
  detector: Detector;
  embedder: Embedder;
  decodeOptions: DecodeOptions;
  /** Motion gating; off without it or with threshold 0 (ffmpeg then writes no grey copies). */
  motionGate?: MotionGateOptions;
  /** Camera motion compensation (each frame's pan and zoom estimated, the tracks moved along); off without it. */
  cameraMotion?: CameraMotionCarry;
  trackerOptions?: Partial<TrackerOptions>;
  logger: Logger;
}

/**
 * Tracking stage of one chunk: frames stream from ffmpeg through the motion gate, the detector,
 * the embedder (only for the detections the tracker needs a vector for) and the tracker; only
 * the best thumbnail crop per track is kept, and encoded once at the end for horses whose stored
 * avatar it beats.
 */
export async function processChunk(
  deps: ProcessChunkDeps,
  event: ChunkEvent,
  registry: RegistrySnapshot,
  signal: AbortSignal,
  loadRegistryMs = 0,
): Promise<ChunkOutcome> {
  const startedAt = performance.now();
  const timings = { load_registry: loadRegistryMs, decode: 0, detect: 0, embed: 0, track: 0, thumbnails: 0, persist: 0, total: 0 };
  const tracker = createChunkTracker({
    known: registry.horses,
    nextTrackingId: registry.nextTrackingId,
    chunkStart: event.startTime,
    state: registry.trackerState,
    sequence: event.sequence,
    ...(registry.herd === null ? {} : { herd: registry.herd }),
    ...(deps.trackerOptions === undefined ? {} : { options: deps.trackerOptions }),
    clock: () => performance.now(),
  });
  const crops = new BestThumbnails<number>();
  let framesDecoded = 0;
  const inference: InferenceWork = { framesDetected: 0, framesHeld: 0, embeddingsComputed: 0, embeddingsSkipped: 0 };
  const gate = deps.motionGate !== undefined && deps.motionGate.threshold > 0 ? new MotionGate(deps.motionGate) : null;
  let frameWidth = 0;
  let frameHeight = 0;
  let partial: string | null = null;
  const camera = deps.cameraMotion?.estimatorFor(event.streamId, event.sequence) ?? null;

  // A file longer than its event says (a 2-hour file sent as a 4 s chunk) is decoded no further
  // than the declared duration and a margin: it cannot hold a tracking slot for hours.
  const maxDurationS = event.durationS + Math.max(DURATION_MARGIN_S, DURATION_MARGIN_RATIO * event.durationS);
  const frames = decodeChunk(event.uri, event.chunkId, { ...deps.decodeOptions, maxDurationS, motionThumbnail: gate !== null })[Symbol.asyncIterator]();
  try {
    while (true) {
      if (signal.aborted) throw new PaddockError('INTERNAL', `chunk ${event.chunkId} aborted: the stream actor stopped`);
      let mark = performance.now();
      let next: IteratorResult<DecodedFrame>;
      try {
        next = await frames.next();
      } catch (error) {
        // A chunk that breaks off mid-stream keeps what was decoded before the break.
        if (error instanceof PaddockError && error.code === 'VIDEO_CORRUPT' && framesDecoded > 0) {
          partial = error.message;
          deps.logger.warn({ stream_id: event.streamId, chunk_id: event.chunkId, frames: framesDecoded, err: error.message }, 'chunk video broke off; using the frames decoded before the break');
          break;
        }
        throw error;
      }
      timings.decode += performance.now() - mark;
      if (next.done) break;
      const frame = next.value;
      framesDecoded += 1;
      frameWidth = frame.width;
      frameHeight = frame.height;

      if (gate !== null && !gate.shouldDetect(frame.motionThumbnail, tracker.mayHold())) {
        mark = performance.now();
        tracker.hold({ frameIndex: frame.index, timestampS: frame.timestampS });
        inference.framesHeld += 1;
        timings.track += performance.now() - mark;
        continue;
      }

      mark = performance.now();
      const cameraMotion = camera?.next(frame);
      timings.track += performance.now() - mark;

      mark = performance.now();
      const detections = await deps.detector.detect(frame);
      inference.framesDetected += 1;
      timings.detect += performance.now() - mark;

      mark = performance.now();
      const embeddings = await embedNeeded(deps.embedder, frame, detections, tracker.embeddingsNeeded({ detections, cameraMotion }), inference);
      timings.embed += performance.now() - mark;

      mark = performance.now();
      const update = tracker.update({
        frameIndex: frame.index,
        timestampS: frame.timestampS,
        width: frame.width,
        height: frame.height,
        detections,
        embeddings,
        cameraMotion,
      });
      timings.track += performance.now() - mark;

      mark = performance.now();
      update.assignments.forEach((assignment, i) => {
        if (assignment.trackKey !== null && assignment.bestThumbnailCandidate) {
          const detection = detections[i]!;
          crops.offer(assignment.trackKey, frame, detection.box, detection.score);
        }
      });
      timings.thumbnails += performance.now() - mark;
    }
  } finally {
    await frames.return?.();
  }
  if (camera !== null) deps.cameraMotion!.keep(event.streamId, event.sequence, camera);

  let mark = performance.now();
  const tracking = tracker.finish();
  timings.track += performance.now() - mark;

  mark = performance.now();
  const thumbnails = new Map<string, EncodedThumbnail>();
  const sightingThumbnails = new Map<string, Buffer>();
  const stored = new Map(registry.horses.map((horse) => [horse.id, horse]));
  await Promise.all(
    tracking.horses.map(async (horse) => {
      if (horse.thumbnailTrackKey === null) return;
      const crop = crops.get(horse.thumbnailTrackKey);
      if (crop === undefined) return;
      const current = stored.get(horse.id);
      if (current !== undefined && current.thumbnailBytes > 0 && (current.thumbnailQuality ?? -1) >= crop.quality) {
        if (wantsSightingPicture(horse.status, horse.id, event.sequence)) sightingThumbnails.set(horse.id, await encodeSightingThumbnail(crop));
        return;
      }
      // A better avatar: it is this sighting's picture too, at no extra encoding.
      const jpeg = await encodeThumbnail(crop);
      thumbnails.set(horse.id, { jpeg, quality: crop.quality });
      sightingThumbnails.set(horse.id, jpeg);
    }),
  );
  timings.thumbnails += performance.now() - mark;

  return { event, tracking, thumbnails, sightingThumbnails, timings, registryMatchMs: tracking.registryMatchMs, framesDecoded, inference, frameWidth, frameHeight, partial, startedAt };
}

/**
 * Chunks between two pictures of a horse that stays in view (a minute of 10 s chunks): its
 * timeline gets a picture when it arrives or comes back, when its avatar improves (that JPEG is
 * reused), and otherwise now and then, which keeps encoding off most chunks and the sightings
 * table small.
 */
export const SIGHTING_PICTURE_EVERY = 6;

export function wantsSightingPicture(status: HorseStatus, horseId: string, sequence: number): boolean {
  if (status !== 'continued') return true;
  // Spread over the chunks, so the horses of a stream are not all pictured in the same one.
  let spread = 0;
  for (let i = 0; i < horseId.length; i += 1) spread += horseId.charCodeAt(i);
  return (sequence + spread) % SIGHTING_PICTURE_EVERY === 0;
}

/** Embeds the detections the tracker needs a vector for (ReID on demand); null for the others. */
async function embedNeeded(embedder: Embedder, frame: DecodedFrame, detections: readonly Detection[], needed: Uint8Array, work: InferenceWork): Promise<(Float32Array | null)[]> {
  const wanted: number[] = [];
  for (let d = 0; d < detections.length; d += 1) if (needed[d] === 1) wanted.push(d);
  work.embeddingsComputed += wanted.length;
  work.embeddingsSkipped += detections.length - wanted.length;
  const embeddings: (Float32Array | null)[] = detections.map(() => null);
  if (wanted.length === 0) return embeddings;
  const vectors = await embedder.embed(frame, wanted.map((d) => detections[d]!.box));
  wanted.forEach((d, i) => {
    embeddings[d] = vectors[i]!;
  });
  return embeddings;
}
