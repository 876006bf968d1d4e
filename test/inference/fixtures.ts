/**
 * Tiny ONNX models for inference tests, built with models/onnx-graph.ts: each output is a
 * constant tensor we control, plus mean(input item) × gain, so a test decides exactly what the
 * "network" says, and (with a gain) can tell the batch items apart by their brightness.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GraphBuilder } from '../../models/onnx-graph.ts';
import type { ModelConfigFile } from '../../src/inference/model-config.ts';

export interface FixtureOutput {
  name: string;
  /** Dims of one batch item (the batch axis is added in front). */
  itemDims: number[];
  values: Float32Array;
  /** Added mean(input item) × gain; same length as values. */
  gain?: Float32Array;
}

export interface FixtureModel {
  inputName: string;
  /** Full input dims, batch first: a string batch is dynamic. */
  inputDims: Array<number | string>;
  outputs: FixtureOutput[];
}

export function fixtureModelBytes(model: FixtureModel): Uint8Array {
  const g = new GraphBuilder('fixture');
  const input = g.input(model.inputName, model.inputDims);
  const batch = model.inputDims[0] ?? 1;
  const mean = g.op('ReduceMean', [input], { axes: [1, 2, 3], keepdims: 1 });
  for (const output of model.outputs) {
    const itemSize = output.itemDims.reduce((product, dim) => product * dim, 1);
    if (output.values.length !== itemSize) throw new RangeError(`fixture output ${output.name} needs ${itemSize} values`);
    const perItem = g.op('Reshape', [mean, g.int64s([-1, ...output.itemDims.map(() => 1)])]);
    const gain = g.initializer(`${output.name}_gain`, output.gain ?? new Float32Array(itemSize), [1, ...output.itemDims]);
    const values = g.initializer(`${output.name}_values`, output.values, [1, ...output.itemDims]);
    const scaled = g.op('Mul', [perItem, gain]);
    g.output(g.rename(g.op('Add', [scaled, values]), output.name), [batch, ...output.itemDims]);
  }
  return g.toBytes();
}

export interface WrittenFixture {
  dir: string;
  modelPath: string;
  configPath: string;
}

/** Writes `<dir>/<name>.onnx` and, when given, `<dir>/<name>.json` beside it. */
export async function writeFixture(name: string, model: FixtureModel, config?: ModelConfigFile, dir?: string): Promise<WrittenFixture> {
  const target = dir ?? (await mkdtemp(path.join(os.tmpdir(), 'paddock-inference-')));
  const modelPath = path.join(target, `${name}.onnx`);
  const configPath = path.join(target, `${name}.json`);
  await writeFile(modelPath, fixtureModelBytes(model));
  if (config !== undefined) await writeFile(configPath, JSON.stringify(config));
  return { dir: target, modelPath, configPath };
}

/** A uniform RGB24 frame. */
export function solidFrame(width: number, height: number, rgb: [number, number, number]): { width: number; height: number; data: Buffer } {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i += 1) {
    data[i * 3] = rgb[0];
    data[i * 3 + 1] = rgb[1];
    data[i * 3 + 2] = rgb[2];
  }
  return { width, height, data };
}

/** A detector config for the fixtures: 64x64 NCHW RGB /255 input. */
export function fixtureDetectorConfig(
  layout: 'yolov8' | 'yolov5' | 'yolox' | 'nanodet',
  classes: string[],
  extra: Partial<ModelConfigFile> = {},
): ModelConfigFile {
  return {
    name: `fixture-${layout}`,
    task: 'detector',
    input: {
      name: 'images',
      layout: 'NCHW',
      width: 64,
      height: 64,
      colorOrder: 'RGB',
      scale: 1 / 255,
      resize: 'letterbox',
      letterbox: { placement: 'top-left', fill: 114 },
    },
    output: { layout },
    classes,
    scoreThreshold: 0.3,
    nmsIouThreshold: 0.45,
    ...extra,
  };
}
