import { describe, expect, it } from 'vitest';
import { evaluateMot, formatMotMetricsTable, motMetricsToJson } from '../../src/eval/index.ts';
import { row } from './helpers.ts';

describe('report', () => {
  it('writes undefined ratios as null in JSON and n/a in the table', () => {
    const metrics = evaluateMot([], []);
    const json = JSON.parse(JSON.stringify(motMetricsToJson(metrics))) as Record<string, unknown>;
    expect(json).toMatchObject({ mota: null, motp_iou: null, idf1: null, false_positives: 0, hota: 0 });
    expect(formatMotMetricsTable(metrics)).toMatch(/MOTA\s+n\/a/);
  });

  it('names both MOTP conventions and lists inconsistent IDs', () => {
    const gt = [row(1, 1, 0, 0), row(2, 1, 0, 0)];
    const pred = [row(1, 5, 0, 0), row(2, 6, 1, 0)];
    const metrics = evaluateMot(gt, pred);
    const json = motMetricsToJson(metrics);
    expect(json.motp_distance).toBeCloseTo(10 / 110, 12);
    expect(json.motp_iou).toBeCloseTo(100 / 110, 12);
    expect(json.id_consistency).toMatchObject({ ratio: 0, inconsistent: [{ gt_id: 1, pred_ids: [{ pred_id: 5, frames: 1 }, { pred_id: 6, frames: 1 }] }] });
    expect(json.conventions).toHaveProperty('hota');
    const table = formatMotMetricsTable(metrics);
    expect(table).toContain('MOTP (mean IoU)');
    expect(table).toContain('gt 1 -> 5 (1 frame), 6 (1 frame)');
  });
});
