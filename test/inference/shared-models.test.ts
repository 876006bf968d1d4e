/**
 * The real models in ../shared/models on the photos in ../shared/data, through the shipped
 * configs: the numbers PROVENANCE.md reports must come back.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_CONFIG_DIR, PROJECT_ROOT } from '../../src/config/index.ts';
import { createDetector, type Detector } from '../../src/inference/detector.ts';
import { cosine, createEmbedder, type Embedder } from '../../src/inference/embedder.ts';
import type { RgbImage } from '../../src/inference/preprocess.ts';
import { silentLogger } from '../../src/log/index.ts';
import type { Box, Detection } from '../../src/tracking/types.ts';

const SHARED = path.resolve(PROJECT_ROOT, '..', 'shared');
const model = (name: string) => path.join(SHARED, 'models', `${name}.onnx`);
/**
 * The shipped config with the reference settings PROVENANCE.md measured with (score ≥ 0.3, the
 * deep embedding alone), so the raw models' numbers can be checked; the shipped tracking
 * settings (lower detector threshold, coat fusion) are tested with the tracker.
 */
async function rawConfig(name: string, overrides: Record<string, unknown>): Promise<string> {
  const shipped = JSON.parse(await readFile(path.join(MODEL_CONFIG_DIR, `${name}.json`), 'utf8')) as Record<string, unknown>;
  const dir = await mkdtemp(path.join(tmpdir(), 'paddock-config-'));
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify({ ...shipped, ...overrides }));
  return file;
}

const common = { executionProviders: ['cpu'] as const, intraOpThreads: 0, interOpThreads: 0, logger: silentLogger() };

async function photo(name: string): Promise<RgbImage> {
  const { data, info } = await sharp(path.join(SHARED, 'data', name)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

function mirrored(image: RgbImage): RgbImage {
  const data = Buffer.alloc(image.width * image.height * 3);
  for (let y = 0; y < image.height; y += 1) {
    for (let x = 0; x < image.width; x += 1) {
      const from = (y * image.width + x) * 3;
      const to = (y * image.width + image.width - 1 - x) * 3;
      data[to] = image.data[from] as number;
      data[to + 1] = image.data[from + 1] as number;
      data[to + 2] = image.data[from + 2] as number;
    }
  }
  return { width: image.width, height: image.height, data };
}

const corners = (box: Box) => [box.x, box.y, box.x + box.w, box.y + box.h];
const fromCorners = ([x1, y1, x2, y2]: number[]): Box => ({ x: x1 as number, y: y1 as number, w: (x2 as number) - (x1 as number), h: (y2 as number) - (y1 as number) });

function expectNear(detection: Detection | undefined, score: number, reference: number[], pixels = 4): void {
  expect(detection).toBeDefined();
  expect(detection?.classId).toBe(17);
  expect(detection?.score).toBeCloseTo(score, 1);
  corners(detection?.box as Box).forEach((value, index) => expect(Math.abs(value - (reference[index] as number))).toBeLessThan(pixels));
}

let horses: RgbImage;
let person: RgbImage;
let dog: RgbImage;

beforeAll(async () => {
  [horses, person, dog] = await Promise.all([photo('horses.jpg'), photo('person.jpg'), photo('dog.jpg')]);
});

describe('YOLOX-nano (models/configs/yolox_nano_416x416.json)', () => {
  let detector: Detector;
  beforeAll(async () => {
    detector = await createDetector({ ...common, modelPath: model('yolox_nano_416x416'), configPath: await rawConfig('yolox_nano_416x416', { scoreThreshold: 0.3 }) });
  });
  afterAll(() => detector.release());

  it('finds the 4 horses of horses.jpg, and the cow duplicate of the grey horse is not a fifth', async () => {
    const found = await detector.detect(horses);
    expect(found).toHaveLength(4);
    expectNear(found[0], 0.802, [0.0, 182.9, 365.4, 410.8]);
    expectNear(found[1], 0.647, [246.0, 167.8, 437.9, 363.1]);
    expectNear(found[2], 0.594, [438.1, 210.1, 596.2, 344.9]);
    expectNear(found[3], 0.328, [0.0, 184.8, 152.4, 266.9]);
    expect(found.every((detection) => detection.score >= 0.3)).toBe(true);
  });

  it('finds the horse of person.jpg and nothing else, and no horse in dog.jpg', async () => {
    const [onPerson, onDog] = await detector.detectBatch([person, dog]);
    expect(onPerson).toHaveLength(1);
    expectNear(onPerson?.[0], 0.852, [403.8, 138.1, 602.4, 342.5]);
    expect(onDog).toEqual([]);
  });
});

describe('NanoDet-m (models/configs/nanodet_m_320.json)', () => {
  it('decodes the horse of person.jpg and finds none in dog.jpg', async () => {
    const detector = await createDetector({ ...common, modelPath: model('nanodet_m_320') });
    const found = await detector.detect(person);
    expect(found).toHaveLength(1);
    expectNear(found[0], 0.671, [402.0, 135.0, 601.8, 340.8], 6);
    expect(await detector.detect(dog)).toEqual([]);
    await detector.release();
  });
});

// PROVENANCE's crops of the 4 YOLOX horses: white, brown (left), dark brown, dappled grey
const HORSES = [
  [0, 183, 365, 411],
  [0, 185, 152, 267],
  [246, 168, 438, 363],
  [438, 210, 596, 345],
].map(fromCorners);

async function similarities(embedder: Embedder) {
  const base = await embedder.embed(horses, HORSES);
  const flipped = await embedder.embed(
    mirrored(horses),
    HORSES.map((box) => ({ ...box, x: horses.width - box.x - box.w })),
  );
  const shifted = await embedder.embed(horses, HORSES.map((box) => ({ ...box, x: box.x + 0.08 * box.w, y: box.y + 0.05 * box.h })));
  const same = base.flatMap((vector, i) => [cosine(vector, flipped[i] as Float32Array), cosine(vector, shifted[i] as Float32Array)]);
  const different = base.flatMap((vector, i) => base.slice(i + 1).map((other) => cosine(vector, other)));
  return { base, same, different };
}

describe.each([
  ['osnet_x0_25_msmt17', 512, true],
  ['person-reidentification-retail-0287', 256, false],
])('ReID %s', (name, dimension, dynamicBatch) => {
  it('scores the same horse (flipped, shifted) 0.86–0.99 and different horses at most 0.75', async () => {
    const embedder = await createEmbedder({ ...common, modelPath: model(name), cropMargin: 0, configPath: await rawConfig(name, { appearance: { coatWeight: 0 } }) });
    expect(embedder.dimension).toBe(dimension);
    expect(embedder.dynamicBatch).toBe(dynamicBatch);
    const { base, same, different } = await similarities(embedder);
    for (const vector of base) expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    for (const value of same) {
      expect(value).toBeGreaterThanOrEqual(0.86);
      expect(value).toBeLessThanOrEqual(0.99);
    }
    for (const value of different) expect(value).toBeLessThanOrEqual(0.75);
    // a batched run gives the same vectors as one crop at a time
    const single = await embedder.embed(horses, [HORSES[2] as Box]);
    expect(cosine(single[0] as Float32Array, base[2] as Float32Array)).toBeCloseTo(1, 5);
    await embedder.release();
  });
});

describe('ReID person-reidentification-retail-0248 (NHWC, batch 1)', () => {
  it('loads and embeds, telling a flipped horse from the others', async () => {
    const embedder = await createEmbedder({ ...common, modelPath: model('person-reidentification-retail-0248'), cropMargin: 0, configPath: await rawConfig('person-reidentification-retail-0248', { appearance: { coatWeight: 0 } }) });
    expect(embedder.config.input.layout).toBe('NHWC');
    expect(embedder.dimension).toBe(256);
    const { same, different } = await similarities(embedder);
    expect(Math.min(...same)).toBeGreaterThan(0.75);
    expect(Math.max(...different)).toBeLessThan(0.7);
    await embedder.release();
  });
});
