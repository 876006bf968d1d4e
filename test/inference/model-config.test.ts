import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODEL_CONFIG_DIR, PROJECT_ROOT } from '../../src/config/index.ts';
import { COCO_CLASSES } from '../../src/inference/coco-classes.ts';
import {
  loadModelConfig,
  modelConfigCandidates,
  parseModelConfig,
  resolveModelConfigPath,
  type ModelConfigFile,
} from '../../src/inference/model-config.ts';

const SHARED = path.resolve(PROJECT_ROOT, '..', 'shared');

const minimal: ModelConfigFile = {
  name: 'tiny',
  task: 'detector',
  input: { layout: 'NCHW', width: 64, height: 32, colorOrder: 'RGB', resize: 'letterbox' },
  output: { layout: 'yolov8' },
  classes: ['cat', 'horse'],
};

describe('parseModelConfig', () => {
  it('fills the defaults and finds the horse class by name', () => {
    const config = parseModelConfig(minimal);
    expect(config.input).toMatchObject({ scale: 1, mean: [0, 0, 0], std: [1, 1, 1], letterbox: { placement: 'center', fill: 114 } });
    expect(config.output.strides).toEqual([8, 16, 32]);
    expect(config.horseClassIds).toEqual([1]);
    expect(config.scoreThreshold).toBe(0.3);
    expect(config.nmsIouThreshold).toBe(0.45);
  });

  it('resolves "coco" to the 80 darknet names with horse at 17', () => {
    const config = parseModelConfig({ ...minimal, classes: 'coco' });
    expect(config.classes).toHaveLength(80);
    expect(config.horseClassIds).toEqual([17]);
    expect(config.classes[17]).toBe('horse');
  });

  it('takes the only class of a single-class model as the horse', () => {
    expect(parseModelConfig({ ...minimal, classes: ['animal'] }).horseClassIds).toEqual([0]);
  });

  it.each([
    ['an unknown top-level key', { ...minimal, extra: 1 }, /extra/],
    ['an unknown input key', { ...minimal, input: { ...minimal.input, normalise: true } }, /normalise/],
    ['a zero std', { ...minimal, input: { ...minimal.input, std: [1, 0, 1] } }, /input\.std/],
    ['two mean values', { ...minimal, input: { ...minimal.input, mean: [1, 2] } }, /input\.mean/],
    ['an unknown layout', { ...minimal, output: { layout: 'yolov9' } }, /output\.layout/],
    ['a reid model with a detection layout', { ...minimal, task: 'reid' }, /embedding/],
    ['a detector without classes', { ...minimal, classes: undefined }, /classes/],
    ['no horse class', { ...minimal, classes: ['cat', 'dog'] }, /horseClassIds/],
    ['a horse id beyond the classes', { ...minimal, horseClassIds: [2] }, /not a class index/],
  ])('refuses %s with MODEL_INVALID', (_label, raw, message) => {
    expect(() => parseModelConfig(raw, 'x.json')).toThrow(message);
    try {
      parseModelConfig(raw, 'x.json');
    } catch (error) {
      expect(error).toMatchObject({ code: 'MODEL_INVALID' });
    }
  });
});

describe('config resolution', () => {
  it('tries the explicit path only, else <model>.json beside the model, else models/configs/<model>.json', () => {
    expect(modelConfigCandidates('/m/det.onnx', '/c/explicit.json')).toEqual(['/c/explicit.json']);
    expect(modelConfigCandidates('/m/det.onnx')).toEqual(['/m/det.json', path.join(MODEL_CONFIG_DIR, 'det.json')]);
  });

  it('prefers the file beside the model and falls back to the config folder', async () => {
    const modelDir = await mkdtemp(path.join(os.tmpdir(), 'paddock-models-'));
    const configDir = await mkdtemp(path.join(os.tmpdir(), 'paddock-configs-'));
    const modelPath = path.join(modelDir, 'det.onnx');
    await writeFile(path.join(configDir, 'det.json'), '{}');
    expect(resolveModelConfigPath(modelPath, undefined, configDir)).toBe(path.join(configDir, 'det.json'));
    await writeFile(path.join(modelDir, 'det.json'), '{}');
    expect(resolveModelConfigPath(modelPath, undefined, configDir)).toBe(path.join(modelDir, 'det.json'));
    expect(() => resolveModelConfigPath(path.join(modelDir, 'other.onnx'), undefined, configDir)).toThrow(/other\.json/);
  });

  it('a missing explicit config is MODEL_MISSING', async () => {
    await expect(loadModelConfig('/nonexistent/config.json')).rejects.toMatchObject({ code: 'MODEL_MISSING' });
  });
});

const TEST_ONLY_CONFIG_DIR = path.join(PROJECT_ROOT, 'test', 'fixtures', 'models');

describe('shipped configs', () => {
  it('no config for the AGPL YOLO11n files is shipped in models/configs', async () => {
    expect((await readdir(MODEL_CONFIG_DIR)).filter((name) => name.startsWith('yolo11n'))).toEqual([]);
  });

  it('every model in ../shared/models has a valid config: in models/configs, or for the AGPL test-only YOLO11n files in test/fixtures/models', async () => {
    const models = (await readdir(path.join(SHARED, 'models'))).filter((file) => file.endsWith('.onnx'));
    expect(models.length).toBeGreaterThanOrEqual(6);
    for (const model of models) {
      const testOnly = model.startsWith('yolo11n');
      const configDir = testOnly ? TEST_ONLY_CONFIG_DIR : MODEL_CONFIG_DIR;
      const configPath = resolveModelConfigPath(path.join(SHARED, 'models', model), undefined, configDir);
      expect(configPath).toBe(path.join(configDir, model.replace(/\.onnx$/, '.json')));
      const config = await loadModelConfig(configPath);
      expect(config.name).toBe(model.replace(/\.onnx$/, ''));
    }
  });

  it('every config in models/configs parses', async () => {
    for (const file of (await readdir(MODEL_CONFIG_DIR)).filter((name) => name.endsWith('.json'))) {
      await expect(loadModelConfig(path.join(MODEL_CONFIG_DIR, file))).resolves.toBeDefined();
    }
  });

  it('the COCO names match ../shared/data/coco.names', async () => {
    const names = (await readFile(path.join(SHARED, 'data', 'coco.names'), 'utf8')).split('\n').filter((line) => line.length > 0);
    expect(COCO_CLASSES).toEqual(names);
  });
});
