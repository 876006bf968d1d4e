import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.ts';
import type { RgbImage } from '../../src/inference/preprocess.ts';
import { CameraMotionCarry, CameraMotionEstimator, estimateCameraMotion, greyForCameraMotion } from '../../src/video/camera-motion.ts';

const PHOTO = path.resolve(PROJECT_ROOT, '..', 'shared', 'data', 'horses.jpg');
const WIDTH = 640;
const HEIGHT = 360;

/** A 640×360 view of the real photo: the window at (left, top) of `size` × `size`·9/16 pixels, resized to the frame. */
async function view(left: number, top: number, size = WIDTH): Promise<RgbImage> {
  const { data } = await sharp(PHOTO)
    .removeAlpha()
    .extract({ left: Math.round(left), top: Math.round(top), width: Math.round(size), height: Math.round((size * HEIGHT) / WIDTH) })
    .resize(WIDTH, HEIGHT, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: WIDTH, height: HEIGHT, data };
}

describe('camera motion between two frames', () => {
  let photoWidth = 0;
  beforeAll(async () => {
    photoWidth = (await sharp(PHOTO).metadata()).width ?? 0;
    expect(photoWidth).toBeGreaterThan(WIDTH);
  });

  it('a pan is measured to within a pixel or two, in frame pixels', async () => {
    const previous = greyForCameraMotion(await view(40, 20));
    // The window moves right and up: the scene moves left and down in the frame.
    const current = greyForCameraMotion(await view(64, 8));
    const motion = estimateCameraMotion(previous, current);
    expect(motion.scale).toBeCloseTo(1, 2);
    expect(Math.abs(motion.tx - -24)).toBeLessThanOrEqual(2);
    expect(Math.abs(motion.ty - 12)).toBeLessThanOrEqual(2);
    expect(motion.centreX).toBe(WIDTH / 2);
    expect(motion.centreY).toBe(HEIGHT / 2);
  });

  it('a zoom in about the frame centre is measured as its scale', async () => {
    const previous = greyForCameraMotion(await view(40, 20, 640));
    // A 580-wide window with the same centre, shown at 640: everything grows by 640 / 580.
    const current = greyForCameraMotion(await view(40 + 30, 20 + (30 * HEIGHT) / WIDTH, 580));
    const motion = estimateCameraMotion(previous, current);
    expect(motion.scale).toBeGreaterThan(1.09);
    expect(motion.scale).toBeLessThan(1.12);
    expect(Math.abs(motion.tx)).toBeLessThanOrEqual(3);
    expect(Math.abs(motion.ty)).toBeLessThanOrEqual(3);
  });

  it('a still camera with something moving in front of it is no camera motion', async () => {
    const background = await view(40, 20);
    // A 120×90 block (a horse walking by) moves 30 px between the frames; the rest stands still.
    const withBlock = (x: number): RgbImage => {
      const data = Buffer.from(background.data);
      for (let y = 150; y < 240; y += 1) data.fill(30, (y * WIDTH + x) * 3, (y * WIDTH + x + 120) * 3);
      return { ...background, data };
    };
    const motion = estimateCameraMotion(greyForCameraMotion(withBlock(200)), greyForCameraMotion(withBlock(230)));
    expect(motion.scale).toBeCloseTo(1, 2);
    expect(Math.abs(motion.tx)).toBeLessThanOrEqual(1);
    expect(Math.abs(motion.ty)).toBeLessThanOrEqual(1);
  });

  it('frames of different sizes, or a uniform frame, give no motion rather than a guess', async () => {
    const frame = await view(40, 20);
    const small = greyForCameraMotion({ width: 320, height: 180, data: Buffer.alloc(320 * 180 * 3, 90) });
    expect(estimateCameraMotion(greyForCameraMotion(frame), small)).toMatchObject({ scale: 1, tx: 0, ty: 0 });
    const flat = greyForCameraMotion({ width: WIDTH, height: HEIGHT, data: Buffer.alloc(WIDTH * HEIGHT * 3, 128) });
    expect(estimateCameraMotion(flat, flat)).toMatchObject({ scale: 1, tx: 0, ty: 0 });
  });

  it('the estimator gives nothing for the first frame, then each frame against the one before', async () => {
    const estimator = new CameraMotionEstimator();
    expect(estimator.next(await view(40, 20))).toBeUndefined();
    const first = estimator.next(await view(50, 20))!;
    const second = estimator.next(await view(70, 20))!;
    expect(Math.abs(first.tx - -10)).toBeLessThanOrEqual(2);
    expect(Math.abs(second.tx - -20)).toBeLessThanOrEqual(2);
  });

  it('a chunk starts from the last frame of the chunk before only when it directly follows it, and few streams are kept', async () => {
    const carry = new CameraMotionCarry(2);
    const first = carry.estimatorFor('cam-1', 1);
    expect(first.next(await view(40, 20))).toBeUndefined();
    first.next(await view(50, 20));
    carry.keep('cam-1', 1, first);
    const following = carry.estimatorFor('cam-1', 2).next(await view(62, 20))!;
    expect(Math.abs(following.tx - -12)).toBeLessThanOrEqual(2);
    // A gap in the sequence (chunk 3 after 1), or another stream, starts afresh.
    expect(carry.estimatorFor('cam-1', 3).next(await view(62, 20))).toBeUndefined();
    expect(carry.estimatorFor('cam-2', 2).next(await view(62, 20))).toBeUndefined();
    for (const stream of ['cam-2', 'cam-3']) {
      const estimator = carry.estimatorFor(stream, 1);
      estimator.next(await view(40, 20));
      carry.keep(stream, 1, estimator);
    }
    expect(carry.size).toBe(2);
    expect(carry.estimatorFor('cam-1', 2).next(await view(62, 20))).toBeUndefined();
  });
});
