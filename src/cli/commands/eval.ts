import type { Command } from 'commander';
import { UsageError } from '../../errors/index.ts';
import { evaluateMot, formatMotMetricsTable, motMetricsToJson, readMotFile } from '../../eval/index.ts';

interface EvalOptions {
  gt: string;
  pred: string;
  json?: boolean;
  gtMinConf?: string;
  predMinConf?: string;
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description(
      'MOT metrics of predictions against ground truth (MOTChallenge text files): CLEAR-MOT and IDF1 as py-motmetrics, HOTA as TrackEval',
    )
    .requiredOption('--gt <file>', 'ground truth, frame,id,x,y,w,h,conf,... (frames 1-based)')
    .requiredOption('--pred <file>', 'predictions in the same format')
    .option('--json', 'print one JSON object instead of the table')
    .option('--gt-min-conf <n>', 'drop ground-truth rows with conf below n for CLEAR/identity (default -1 keeps all; MOTChallenge uses 1)')
    .option('--pred-min-conf <n>', 'drop predicted rows with conf below n for CLEAR/identity (default -1)')
    .action(async (options: EvalOptions) => {
      const gtMinConfidence = parseConfidence('--gt-min-conf', options.gtMinConf);
      const predMinConfidence = parseConfidence('--pred-min-conf', options.predMinConf);
      const [gt, pred] = await Promise.all([readMotFile(options.gt), readMotFile(options.pred)]);
      const metrics = evaluateMot(gt, pred, { gtMinConfidence, predMinConfidence });
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ gt: options.gt, pred: options.pred, ...motMetricsToJson(metrics) })}\n`);
      } else {
        process.stdout.write(`ground truth: ${options.gt} (${gt.length} rows)\npredictions:  ${options.pred} (${pred.length} rows)\n`);
        process.stdout.write(formatMotMetricsTable(metrics));
      }
    });
}

function parseConfidence(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${flag} must be a number, got "${raw}"`);
  return value;
}
