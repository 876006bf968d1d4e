/**
 * Motion gating: whether the detector must run on a frame, from ffmpeg's small grey copy of it
 * (DecodedFrame.motionThumbnail). The copy is compared with the one of the last frame the
 * detector ran on — not with the previous frame, so slow motion adds up until it counts. Pure.
 */

export interface MotionGateOptions {
  /** Mean absolute grey difference (0–255) to the last detected frame from which the scene changed; 0 turns gating off. */
  threshold: number;
  /** The detector runs at least every this many frames, however still the scene: a horse standing still is never lost. */
  maxHeldFrames: number;
}

export class MotionGate {
  private reference: Uint8Array | null = null;
  private held = 0;

  constructor(private readonly options: MotionGateOptions) {}

  /**
   * True when the detector must run on this frame: gating is off, there is no copy to compare,
   * the tracker cannot hold (`mayHold` false), maxHeldFrames were held already, or the scene
   * changed. Otherwise the frame is held (counted) and false is returned.
   */
  shouldDetect(thumbnail: Uint8Array | undefined, mayHold: boolean): boolean {
    const { threshold, maxHeldFrames } = this.options;
    const reference = this.reference;
    const hold =
      threshold > 0 &&
      mayHold &&
      this.held < maxHeldFrames &&
      thumbnail !== undefined &&
      reference !== null &&
      reference.length === thumbnail.length &&
      meanAbsoluteDifference(reference, thumbnail) < threshold;
    if (hold) {
      this.held += 1;
      return false;
    }
    this.reference = thumbnail ?? null;
    this.held = 0;
    return true;
  }
}

/** Mean of |a[i] − b[i]| over two equally long byte arrays. */
export function meanAbsoluteDifference(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += Math.abs(a[i]! - b[i]!);
  return a.length === 0 ? 0 : sum / a.length;
}
