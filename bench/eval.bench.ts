/**
 * MOT evaluation cost on a 10 000-row stream: 1000 frames × 10 horses, predictions jittered,
 * with misses, false positives and an ID switch every 100 frames per horse. Shows the full
 * evaluateMot (CLEAR + identity + HOTA + consistency) and its parts; the TUD-Stadtmitte files
 * (1156 + 749 rows) give a real-data point.
 */
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config/index.ts';
import { crossChunkConsistency, evaluateMot, hotaMetrics, identityMetrics, readMotFile, type MotRow } from '../src/eval/index.ts';
import { summarize, timeIt } from './stats.ts';

const FRAMES = 1000;
const HORSES = 10;
const RUNS = 20;

function syntheticStream(): { gt: MotRow[]; pred: MotRow[] } {
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const gt: MotRow[] = [];
  const pred: MotRow[] = [];
  for (let f = 1; f <= FRAMES; f += 1) {
    for (let h = 0; h < HORSES; h += 1) {
      const x = 60 * h + 20 * Math.sin(f / 30 + h);
      const y = 200 + 15 * Math.cos(f / 40 + h);
      gt.push({ frame: f, id: h + 1, x, y, w: 50, h: 40, conf: 1 });
      if (random() < 0.9) {
        const id = 100 + h + 20 * Math.floor((f + 10 * h) / 100);
        pred.push({ frame: f, id, x: x + (random() - 0.5) * 8, y: y + (random() - 0.5) * 8, w: 50 + (random() - 0.5) * 6, h: 40, conf: random() });
      }
    }
    if (random() < 0.3) pred.push({ frame: f, id: 9000 + f, x: random() * 600, y: random() * 400, w: 40, h: 40, conf: 0.2 });
  }
  return { gt, pred };
}

export async function run(): Promise<void> {
  const { gt, pred } = syntheticStream();
  console.log(`eval: ${gt.length} ground-truth rows, ${pred.length} predicted rows, ${FRAMES} frames`);
  summarize('evaluateMot (all metrics), 10k rows', await timeIt(() => evaluateMot(gt, pred), RUNS));
  summarize('identityMetrics, 10k rows', await timeIt(() => identityMetrics(gt, pred), RUNS));
  summarize('hotaMetrics, 10k rows', await timeIt(() => hotaMetrics(gt, pred), RUNS));
  summarize('crossChunkConsistency, 10k rows', await timeIt(() => crossChunkConsistency(gt, pred), RUNS));
  const dir = path.resolve(PROJECT_ROOT, '..', 'shared', 'data', 'mot', 'TUD-Stadtmitte');
  const tudGt = await readMotFile(path.join(dir, 'gt.txt'));
  const tudPred = await readMotFile(path.join(dir, 'test.txt'));
  summarize('evaluateMot, TUD-Stadtmitte', await timeIt(() => evaluateMot(tudGt, tudPred), RUNS));
}
