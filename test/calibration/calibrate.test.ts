import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { calibrate, rocAuc, type CalibrationSample } from '../../src/calibration/calibrate.ts';
import { PROJECT_ROOT } from '../../src/config/index.ts';
import { parseModelConfig } from '../../src/inference/model-config.ts';
import { runCli } from '../helpers/cli.ts';

const SHARED = path.resolve(PROJECT_ROOT, '..', 'shared');

function unit(values: number[]): Float32Array {
  const norm = Math.hypot(...values);
  return Float32Array.from(values.map((value) => value / norm));
}

/** Two horses whose deep embeddings barely differ (person re-ID on horses) but whose coats do. */
function samples(): CalibrationSample[] {
  const list: CalibrationSample[] = [];
  for (let frame = 0; frame < 12; frame += 1) {
    const wobble = Math.sin(frame) * 0.3;
    list.push({ horseId: 1, frame, score: 0.5 + frame / 40, deep: unit([1, wobble, 0.2]), coat: unit([1, 0.1, 0]) });
    list.push({ horseId: 2, frame, score: 0.4 + frame / 40, deep: unit([1, -wobble, 0.25]), coat: unit([0.1, 1, 0]) });
  }
  return list;
}

describe('calibration', () => {
  it('ROC AUC: 1 for separated groups, 0.5 for identical ones, ties count half', () => {
    expect(rocAuc([0.8, 0.9], [0.1, 0.2])).toBe(1);
    expect(rocAuc([0.5, 0.5], [0.5, 0.5])).toBe(0.5);
    expect(rocAuc([0.1], [0.9])).toBe(0);
  });

  it('fuses the coat when the deep embedding confuses the horses, and derives thresholds from the scores and the separation', () => {
    const result = calibrate(samples());
    const deep = result.cues.find((cue) => cue.coatWeight === 0)!;
    expect(result.chosen.coatWeight).toBeGreaterThan(0);
    expect(result.chosen.coatWeight).toBeLessThan(1);
    expect(result.chosen.auc).toBeGreaterThan(deep.auc);
    expect(result.appearance.coatWeight).toBe(result.chosen.coatWeight);
    expect(result.detectorTracking.highScore).toBeCloseTo(0.45, 1);
    expect(result.reidTracking.reidSimilarity).toBeGreaterThan(result.chosen.different.p50);
    expect(result.reidTracking.maxAppearanceDistance).toBeCloseTo(1 - result.reidTracking.reidSimilarity!, 2);
  });

  it('needs at least two horses', () => {
    expect(() => calibrate(samples().filter((sample) => sample.horseId === 1))).toThrow(/at least 2 horses/);
  });

  it(
    'paddock calibrate on paddock-2horses writes configs that load, and reports each cue',
    async () => {
      const out = await mkdtemp(path.join(tmpdir(), 'paddock-calibrate-'));
      try {
        const clip = path.join(SHARED, 'data', 'real', 'paddock-2horses');
        const result = await runCli(['calibrate', '--clip', path.join(clip, 'clip.mp4'), '--gt', path.join(clip, 'gt.txt'), '--out-dir', out, '--json'], {
          PADDOCK_DETECTOR_MODEL: path.join(SHARED, 'models', 'yolox_nano_416x416.onnx'),
          PADDOCK_REID_MODEL: path.join(SHARED, 'models', 'osnet_x0_25_msmt17.onnx'),
          PADDOCK_EP: 'cpu',
        });
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        const report = JSON.parse(result.stdout) as ReturnType<typeof calibrate> & { written: string[] };
        expect(report.horses).toBe(2);
        // The coat separates a black horse from a chestnut better than the person re-ID model does.
        const deep = report.cues.find((cue) => cue.coatWeight === 0)!;
        expect(report.chosen.auc).toBeGreaterThan(deep.auc);
        expect(report.written.map((file) => path.basename(file)).sort()).toEqual(['osnet_x0_25_msmt17.json', 'yolox_nano_416x416.json']);
        for (const file of report.written) {
          const config = parseModelConfig(JSON.parse(await readFile(file, 'utf8')), file);
          expect(Object.keys(config.tracking).length).toBeGreaterThan(0);
        }
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
