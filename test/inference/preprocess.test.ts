import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.ts';
import { parseModelConfig, type InputSpec, type ModelConfigFile } from '../../src/inference/model-config.ts';
import {
  computePlacement,
  cropRegion,
  frameToModelBox,
  modelToFrameBox,
  TensorWriter,
  type RgbImage,
} from '../../src/inference/preprocess.ts';
import { solidFrame } from './fixtures.ts';

const SHARED = path.resolve(PROJECT_ROOT, '..', 'shared');

function inputSpec(input: Partial<ModelConfigFile['input']>): InputSpec {
  return parseModelConfig({
    name: 'spec',
    task: 'reid',
    input: { layout: 'NCHW', width: 416, height: 416, colorOrder: 'RGB', resize: 'letterbox', ...input },
    output: { layout: 'embedding' },
  }).input;
}

const yolox = inputSpec({ colorOrder: 'BGR', letterbox: { placement: 'top-left', fill: 114 } });
const nanodet = inputSpec({ width: 320, height: 320, letterbox: { placement: 'center', fill: 0 } });
const stretch = inputSpec({ width: 128, height: 256, resize: 'stretch' });

describe('placement', () => {
  it('follows the YOLOX rule r = min(416/H, 416/W), floor(W*r) x floor(H*r), top-left', () => {
    // 773 * (416/773) is 415.99999999999994 in doubles, and Python's int() gives 415 as well
    expect(computePlacement({ x: 0, y: 0, w: 773, h: 512 }, yolox)).toMatchObject({ resizedWidth: 415, resizedHeight: 275, offsetX: 0, offsetY: 0 });
    expect(computePlacement({ x: 0, y: 0, w: 640, h: 360 }, yolox)).toMatchObject({ resizedWidth: 416, resizedHeight: 234, offsetX: 0, offsetY: 0 });
    expect(computePlacement({ x: 0, y: 0, w: 300, h: 600 }, yolox)).toMatchObject({ resizedWidth: 208, resizedHeight: 416 });
  });

  it('centres the image when asked (NanoDet)', () => {
    expect(computePlacement({ x: 0, y: 0, w: 640, h: 424 }, nanodet)).toMatchObject({ resizedWidth: 320, resizedHeight: 212, offsetX: 0, offsetY: 54 });
    expect(computePlacement({ x: 0, y: 0, w: 200, h: 400 }, nanodet)).toMatchObject({ resizedWidth: 160, resizedHeight: 320, offsetX: 80, offsetY: 0 });
  });

  it.each([
    ['top-left letterbox', yolox, { x: 0, y: 0, w: 773, h: 512 }],
    ['centred letterbox', nanodet, { x: 0, y: 0, w: 640, h: 424 }],
    ['stretch of a crop', stretch, { x: 37, y: 12, w: 150, h: 90 }],
  ])('maps boxes to the model input and back exactly (%s)', (_label, spec, region) => {
    const placement = computePlacement(region, spec);
    for (const box of [
      { x: region.x, y: region.y, w: region.w, h: region.h },
      { x: region.x + 10.25, y: region.y + 3.5, w: 40.75, h: 20 },
      { x: region.x + region.w / 2, y: region.y + region.h / 3, w: 1, h: 1 },
    ]) {
      const [x1, y1, x2, y2] = frameToModelBox(box, placement);
      const back = modelToFrameBox(x1, y1, x2, y2, placement, 10_000, 10_000);
      expect(back.x).toBeCloseTo(box.x, 9);
      expect(back.y).toBeCloseTo(box.y, 9);
      expect(back.w).toBeCloseTo(box.w, 9);
      expect(back.h).toBeCloseTo(box.h, 9);
    }
  });

  it('the full letterboxed image maps to the full frame, and boxes are clipped to it', () => {
    const placement = computePlacement({ x: 0, y: 0, w: 640, h: 360 }, yolox);
    const whole = modelToFrameBox(0, 0, placement.resizedWidth, placement.resizedHeight, placement, 640, 360);
    expect(whole).toEqual({ x: 0, y: 0, w: 640, h: 360 });
    expect(modelToFrameBox(-20, -5, 500, 416, placement, 640, 360)).toEqual({ x: 0, y: 0, w: 640, h: 360 });
  });
});

describe('cropRegion', () => {
  it('grows the box by the margin on every side and clips it to the frame', () => {
    expect(cropRegion({ x: 100, y: 50, w: 100, h: 40 }, 0.05, 640, 360)).toEqual({ x: 95, y: 48, w: 110, h: 44 });
    expect(cropRegion({ x: 0, y: 340, w: 50, h: 40 }, 0.1, 640, 360)).toEqual({ x: 0, y: 336, w: 55, h: 24 });
    expect(cropRegion({ x: 639.5, y: 10, w: 0.2, h: 5 }, 0, 640, 360)).toEqual({ x: 639, y: 10, w: 1, h: 5 });
  });
});

function written(spec: InputSpec, image: RgbImage, region = { x: 0, y: 0, w: image.width, h: image.height }) {
  const writer = new TensorWriter(spec);
  const target = new Float32Array(writer.itemSize * 2).fill(Number.NaN);
  writer.write(image, region, target, 1);
  return { item: target.subarray(writer.itemSize), first: target.subarray(0, writer.itemSize) };
}

describe('TensorWriter', () => {
  it('writes colour order, scale/mean/std and the padding fill, NCHW, into its batch slot only', () => {
    const spec = inputSpec({ width: 8, height: 8, colorOrder: 'BGR', scale: 2, mean: [10, 20, 30], std: [2, 4, 8], letterbox: { placement: 'center', fill: 114 } });
    const { item, first } = written(spec, solidFrame(16, 8, [10, 20, 30]));
    expect(first.every(Number.isNaN)).toBe(true);
    const plane = 64;
    const expectImage = [(30 * 2 - 10) / 2, (20 * 2 - 20) / 4, (10 * 2 - 30) / 8];
    const expectFill = [(114 * 2 - 10) / 2, (114 * 2 - 20) / 4, (114 * 2 - 30) / 8];
    // 16x8 → 8x4, centred: rows 2..5 are image, rows 0,1,6,7 padding
    for (let c = 0; c < 3; c += 1) {
      for (let y = 0; y < 8; y += 1) {
        const expected = y >= 2 && y < 6 ? expectImage[c] : expectFill[c];
        for (let x = 0; x < 8; x += 1) expect(item[c * plane + y * 8 + x]).toBeCloseTo(expected as number, 4);
      }
    }
  });

  it('writes NHWC interleaved, RGB', () => {
    const spec = inputSpec({ layout: 'NHWC', width: 4, height: 2, resize: 'stretch', scale: 1 / 255 });
    const { item } = written(spec, solidFrame(9, 5, [255, 0, 51]));
    for (let pixel = 0; pixel < 8; pixel += 1) {
      expect(item[pixel * 3]).toBeCloseTo(1, 5);
      expect(item[pixel * 3 + 1]).toBeCloseTo(0, 5);
      expect(item[pixel * 3 + 2]).toBeCloseTo(0.2, 5);
    }
  });

  it('copies pixels exactly at scale 1 and reads only the crop region', () => {
    const image = solidFrame(6, 4, [0, 0, 0]);
    for (let i = 0; i < image.data.length; i += 1) image.data[i] = (i * 7) % 256;
    const spec = inputSpec({ layout: 'NHWC', width: 3, height: 2, resize: 'stretch' });
    const { item } = written(spec, image, { x: 2, y: 1, w: 3, h: 2 });
    for (let y = 0; y < 2; y += 1) {
      for (let x = 0; x < 3; x += 1) {
        for (let c = 0; c < 3; c += 1) expect(item[(y * 3 + x) * 3 + c]).toBeCloseTo(image.data[((y + 1) * 6 + x + 2) * 3 + c] as number, 4);
      }
    }
  });

  it('downscales with anti-aliasing, close to sharp\'s linear kernel', async () => {
    const { data, info } = await sharp(path.join(SHARED, 'data', 'horses.jpg')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const spec = inputSpec({ layout: 'NHWC', width: 416, height: 275, resize: 'stretch' });
    const { item } = written(spec, { width: info.width, height: info.height, data });
    const reference = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
      .resize(416, 275, { fit: 'fill', kernel: 'linear' })
      .raw()
      .toBuffer();
    let total = 0;
    for (let i = 0; i < reference.length; i += 1) total += Math.abs((reference[i] as number) - (item[i] as number));
    expect(total / reference.length).toBeLessThan(0.5);
  });
});
