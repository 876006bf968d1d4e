/**
 * Video decoding: a chunk URI in, timed RGB24 frames out.
 *
 *   decodeChunk ─► resolveVideoInput (allowed forms, allow-lists; before ffmpeg starts)
 *               ─► buildDecodeArgs (sample + scale + showinfo; protocol/demuxer whitelists)
 *               ─► RawFrameProcess (ffmpeg stdout frames paired with showinfo pts, backpressured)
 *               ─► classifyOutcome (typed VIDEO_* error once ffmpeg has finished)
 *   MotionGate: from ffmpeg's small grey copies, whether a frame needs the detector at all
 *   CameraMotionEstimator: each frame's pan and zoom since the one before, for the tracker
 */
export type { DecodedFrame, DecodeOptions } from './types.ts';
export { decodeChunk } from './decode.ts';
export { decodeOptionsFromConfig } from './options.ts';
export { probeVideo, parseProbeOutput, type VideoProbe } from './probe.ts';
export { resolveFfmpegPath } from './ffmpeg-path.ts';
export { resolveVideoInput, type VideoInput, type InputPolicy } from './input-policy.ts';
export { VIDEO_DEMUXERS, MOTION_THUMBNAIL } from './ffmpeg-args.ts';
export { MotionGate, meanAbsoluteDifference, type MotionGateOptions } from './motion-gate.ts';
export { CameraMotionCarry, CameraMotionEstimator, estimateCameraMotion, greyForCameraMotion, type GreyImage } from './camera-motion.ts';
