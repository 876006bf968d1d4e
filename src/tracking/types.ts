/**
 * Data shapes shared by the pipeline stages. Pure data: no I/O, no classes with behaviour.
 */

/** An axis-aligned box in frame pixels; (x, y) is the top-left corner. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** One detector hit in a frame. */
export interface Detection {
  box: Box;
  score: number;
  classId: number;
}

/** Everything perception found in one sampled frame of a chunk. */
export interface FramePerception {
  /** 0-based index of the sampled frame within the chunk. */
  frameIndex: number;
  /** Seconds from the chunk's first frame (exact presentation time of this frame). */
  timestampS: number;
  width: number;
  height: number;
  detections: Detection[];
  /**
   * One L2-normalised appearance vector per detection, same order; null where the tracker said
   * it needs none (ChunkTracker.embeddingsNeeded: ReID on demand).
   */
  embeddings: (Float32Array | null)[];
  /** How the camera moved since the previous sampled frame; absent: it did not, or it is not known. */
  cameraMotion?: CameraMotion | undefined;
}

/** A zoom and pan of the camera between two frames: p' = scale · (p − centre) + centre + (tx, ty), in frame pixels. */
export interface CameraMotion {
  scale: number;
  tx: number;
  ty: number;
  centreX: number;
  centreY: number;
}

/**
 * A horse's appearance memory: the vector of its first appearance, a running mean (EMA) of
 * recent appearance, and up to K diverse exemplars. All vectors share one dimension.
 */
export interface FeatureBank {
  first: Float32Array;
  mean: Float32Array;
  exemplars: Float32Array[];
}

/** What the tracker needs to know about a registered horse when a chunk starts. */
export interface KnownHorse {
  id: string;
  trackingId: number;
  name: string | null;
  color: string;
  features: FeatureBank;
  lastBox: Box | null;
  lastSeen: Date;
  firstDetected: Date;
  totalDetections: number;
  confidenceScore: number;
}

/** How a horse came to be in a chunk (the tracker's module comment defines each precisely). */
export type HorseStatus = 'new' | 'reactivated' | 'continued';

/** 10-colour palette; a new horse takes the next colour after the previous horse's. */
export const HORSE_PALETTE = [
  '#e6194b',
  '#3cb44b',
  '#ffe119',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#46f0f0',
  '#f032e6',
  '#bcf60c',
  '#fabebe',
] as const;

export function horseIdFor(trackingId: number): string {
  return `horse_${String(trackingId).padStart(3, '0')}`;
}

export function colorFor(trackingId: number): string {
  return HORSE_PALETTE[(trackingId - 1) % HORSE_PALETTE.length] ?? HORSE_PALETTE[0];
}
