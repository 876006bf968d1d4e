/** One sampled frame of a chunk, as packed RGB24 pixels. */
export interface DecodedFrame {
  /** 0-based position among the frames sampled from this chunk. */
  index: number;
  /** Seconds from the chunk's first frame, from the frame's real presentation timestamp. */
  timestampS: number;
  width: number;
  height: number;
  /** RGB24, width * height * 3 bytes, row-major, no padding. */
  data: Buffer;
  /** Grey MOTION_THUMBNAIL-sized copy from ffmpeg (only with DecodeOptions.motionThumbnail), for motion gating. */
  motionThumbnail?: Buffer;
}

export interface DecodeOptions {
  /** Frames per second taken from the chunk (the first frame of every 1/sampleFps interval). */
  sampleFps: number;
  /** Frames are scaled by ffmpeg to fit within maxWidth x maxHeight, keeping aspect, never upscaled. */
  maxWidth?: number;
  maxHeight?: number;
  /** Seconds of the chunk decoded at most (its declared duration plus a margin); unset: all of it. */
  maxDurationS?: number;
  /** ffmpeg also writes each frame's small grey copy (DecodedFrame.motionThumbnail). */
  motionThumbnail?: boolean;
  /** ffmpeg is killed when it delivers no frame for this long while we wait for one. */
  timeoutMs: number;
  /** Explicit ffmpeg binary (FFMPEG_PATH); otherwise PATH, then @ffmpeg-installer/ffmpeg. */
  ffmpegPath?: string;
  /** Local inputs must resolve (symlinks and `..` followed) inside one of these directories. */
  allowedPaths?: string[];
  /** http(s) inputs must name one of these hosts (`host`, `host:port` or `*.domain`). */
  allowedHosts?: string[];
}
