import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { coatDescriptor } from '../../appearance/index.ts';
import { calibrate, type CalibrationResult, type CalibrationSample } from '../../calibration/index.ts';
import { UsageError } from '../../errors/index.ts';
import { readMotFile, type MotRow } from '../../eval/index.ts';
import { createDetector, createEmbedder, resolveModelConfigPath } from '../../inference/index.ts';
import { DECODE_MAX_SIDE } from '../../pipeline/index.ts';
import type { Box } from '../../tracking/index.ts';
import { decodeChunk, decodeOptionsFromConfig, probeVideo } from '../../video/index.ts';
import { commandContext } from '../context.ts';

interface CalibrateOptions {
  clip: string;
  gt: string;
  outDir: string;
  json?: boolean;
}

/** A detection and a true box are the same horse from this IoU on. */
const MATCH_IOU = 0.5;

export function registerCalibrateCommand(program: Command): void {
  program
    .command('calibrate')
    .description(
      'derive the model-dependent tracker settings of the configured detector and reid model (PADDOCK_*_MODEL) from a clip with MOTChallenge ground truth, and write their configs',
    )
    .requiredOption('--clip <file>', 'a video with at least two horses')
    .requiredOption('--gt <file>', 'its ground truth, frame,id,x,y,w,h,... (frame = round(t × fps) + 1)')
    .option('--out-dir <dir>', 'where the calibrated configs are written (point PADDOCK_*_CONFIG at them)', './calibrated')
    .option('--json', 'print the report as one JSON object')
    .action(async (options: CalibrateOptions) => {
      const { config, logger } = commandContext();
      const gt = await readMotFile(options.gt);
      if (gt.length === 0) throw new UsageError(`${options.gt} has no ground-truth rows`);
      const probe = await probeVideo(path.resolve(options.clip), path.basename(options.clip), decodeOptionsFromConfig(config));
      if (probe.fps === undefined) throw new UsageError(`cannot tell the frame rate of ${options.clip}`);
      const common = { executionProviders: config.models.executionProviders, intraOpThreads: config.models.intraOpThreads, interOpThreads: config.models.interOpThreads, logger };
      const detector = await createDetector({ ...common, modelPath: config.models.detector.modelPath, configPath: config.models.detector.configPath });
      const embedder = await createEmbedder({ ...common, modelPath: config.models.reid.modelPath, configPath: config.models.reid.configPath, coatWeight: 0 });
      const samples: CalibrationSample[] = [];
      try {
        const byFrame = groupByFrame(gt);
        const decodeOptions = decodeOptionsFromConfig(config, { maxWidth: DECODE_MAX_SIDE, maxHeight: DECODE_MAX_SIDE });
        for await (const frame of decodeChunk(path.resolve(options.clip), path.basename(options.clip), decodeOptions)) {
          const truth = byFrame.get(Math.round(frame.timestampS * probe.fps) + 1);
          if (truth === undefined) continue;
          // Ground truth is in the video's pixels; frames may come scaled down.
          const scale = probe.width > 0 ? frame.width / probe.width : 1;
          const trueBoxes = truth.map((row) => ({ id: row.id, box: { x: row.x * scale, y: row.y * scale, w: row.w * scale, h: row.h * scale } }));
          const detections = await detector.detect(frame);
          const matches = matchGreedy(trueBoxes, detections.map((detection) => detection.box));
          if (matches.length === 0) continue;
          const deep = await embedder.embed(frame, matches.map(({ detection }) => detections[detection]!.box));
          matches.forEach(({ truth: t, detection }, i) => {
            const box = detections[detection]!.box;
            samples.push({ horseId: trueBoxes[t]!.id, frame: frame.index, score: detections[detection]!.score, deep: deep[i]!, coat: coatDescriptor(frame, box) });
          });
        }
      } finally {
        await Promise.all([detector.release(), embedder.release()]);
      }
      let result: CalibrationResult;
      try {
        result = calibrate(samples);
      } catch (error) {
        throw new UsageError(`${options.clip}: ${(error as Error).message}`);
      }
      const written = await writeConfigs(options.outDir, config.models, result);
      if (options.json) process.stdout.write(`${JSON.stringify({ ...result, written })}\n`);
      else process.stdout.write(formatReport(result, written));
    });
}

function groupByFrame(rows: readonly MotRow[]): Map<number, MotRow[]> {
  const byFrame = new Map<number, MotRow[]>();
  for (const row of rows) byFrame.set(row.frame, [...(byFrame.get(row.frame) ?? []), row]);
  return byFrame;
}

/** Pairs of (true box, detection) by descending IoU, each used once, IoU ≥ MATCH_IOU. */
function matchGreedy(truth: readonly { box: Box }[], detections: readonly Box[]): { truth: number; detection: number }[] {
  const pairs: { truth: number; detection: number; overlap: number }[] = [];
  truth.forEach(({ box }, t) => detections.forEach((detection, d) => pairs.push({ truth: t, detection: d, overlap: iou(box, detection) })));
  pairs.sort((a, b) => b.overlap - a.overlap);
  const usedTruth = new Set<number>();
  const usedDetection = new Set<number>();
  const matches: { truth: number; detection: number }[] = [];
  for (const pair of pairs) {
    if (pair.overlap < MATCH_IOU || usedTruth.has(pair.truth) || usedDetection.has(pair.detection)) continue;
    usedTruth.add(pair.truth);
    usedDetection.add(pair.detection);
    matches.push(pair);
  }
  return matches;
}

function iou(a: Box, b: Box): number {
  const ix = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const iy = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  if (ix <= 0 || iy <= 0) return 0;
  return (ix * iy) / (a.w * a.h + b.w * b.h - ix * iy);
}

/** The configured models' configs with the calibrated settings merged in, written to outDir. */
async function writeConfigs(
  outDir: string,
  models: { detector: { modelPath: string; configPath: string | undefined }; reid: { modelPath: string; configPath: string | undefined } },
  result: CalibrationResult,
): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  const merge = async (model: { modelPath: string; configPath: string | undefined }, patch: (config: Record<string, unknown>) => Record<string, unknown>) => {
    const source = resolveModelConfigPath(model.modelPath, model.configPath);
    const config = JSON.parse(await readFile(source, 'utf8')) as Record<string, unknown>;
    const target = path.join(outDir, path.basename(source));
    await writeFile(target, `${JSON.stringify(patch(config), null, 2)}\n`);
    written.push(target);
  };
  const tracking = (config: Record<string, unknown>) => (config.tracking ?? {}) as Record<string, unknown>;
  await merge(models.detector, (config) => ({ ...config, tracking: { ...tracking(config), ...result.detectorTracking } }));
  await merge(models.reid, (config) => ({ ...config, tracking: { ...tracking(config), ...result.reidTracking }, appearance: result.appearance }));
  return written;
}

function formatReport(result: CalibrationResult, written: string[]): string {
  const f = (value: number) => value.toFixed(3);
  const lines = [
    `true boxes matched: ${result.samples} (${result.horses} horses); detector scores p10 ${f(result.scores.p10)}, p50 ${f(result.scores.p50)}, p90 ${f(result.scores.p90)}`,
    'appearance cue (coat weight)   ROC AUC  same p10/p50    different p50/p90  best cut (balanced accuracy)',
    ...result.cues.map(
      (cue) =>
        `${(cue.coatWeight === 0 ? 'deep embedding alone' : cue.coatWeight === 1 ? 'coat descriptor alone' : `fused, coat ${cue.coatWeight}`).padEnd(30)} ${f(cue.auc).padStart(7)}  ` +
        `${f(cue.same.p10)}/${f(cue.same.p50)}    ${f(cue.different.p50)}/${f(cue.different.p90)}        ${f(cue.threshold)} (${f(cue.balancedAccuracy)})`,
    ),
    `chosen: coat weight ${result.chosen.coatWeight}`,
    `detector tracking: ${JSON.stringify(result.detectorTracking)}`,
    `reid tracking: ${JSON.stringify(result.reidTracking)}`,
    ...written.map((file) => `wrote ${file}`),
  ];
  return `${lines.join('\n')}\n`;
}
