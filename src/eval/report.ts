/**
 * Presentation of MotMetrics: the `paddock eval --json` object (snake_case, NaN/±Infinity as
 * null) and the human-readable table.
 */
import type { MotMetrics } from './evaluate.ts';
import { HOTA_ALPHAS } from './hota.ts';

export const METRIC_CONVENTIONS = {
  clear_identity:
    'py-motmetrics: pairs need IoU >= 0.5 (1 - IoU <= 0.5); an object keeps last frame\'s partner while still allowed, the rest get a minimum-cost assignment on 1 - IoU; IDF1 from the optimal global ID assignment',
  motp: 'motp_iou = MOTChallenge MOTP (mean IoU of matched pairs, higher is better); motp_distance = py-motmetrics motp (mean 1 - IoU, lower is better)',
  hota: 'TrackEval: IoU similarity, per-frame matching on IoU x global ID alignment, values averaged over alpha = 0.05..0.95 step 0.05',
  id_consistency:
    'share of matched ground-truth IDs whose matched frames all map to one predicted ID (CLEAR matching); never-matched ground-truth IDs are excluded and counted in unmatched_gt_ids',
} as const;

/** Plain JSON-ready object; JSON.stringify turns NaN/Infinity (e.g. MOTA without objects) into null. */
export function motMetricsToJson(metrics: MotMetrics): Record<string, unknown> {
  const { clear, identity, hota, idConsistency } = metrics;
  return {
    mota: clear.mota,
    motp_iou: clear.motpIou,
    motp_distance: clear.motpDistance,
    idf1: identity.idf1,
    idp: identity.idp,
    idr: identity.idr,
    id_switches: clear.idSwitches,
    false_positives: clear.falsePositives,
    false_negatives: clear.falseNegatives,
    fragmentations: clear.fragmentations,
    mostly_tracked: clear.mostlyTracked,
    partially_tracked: clear.partiallyTracked,
    mostly_lost: clear.mostlyLost,
    precision: clear.precision,
    recall: clear.recall,
    num_objects: clear.numObjects,
    num_predictions: clear.numPredictions,
    num_matches: clear.numMatches,
    num_detections: clear.numDetections,
    num_unique_objects: clear.numUniqueObjects,
    num_frames: clear.numFrames,
    idtp: identity.idtp,
    idfp: identity.idfp,
    idfn: identity.idfn,
    hota: hota.hota,
    deta: hota.detA,
    assa: hota.assA,
    loca: hota.locA,
    detre: hota.detRe,
    detpr: hota.detPr,
    assre: hota.assRe,
    asspr: hota.assPr,
    hota_per_alpha: {
      alpha: HOTA_ALPHAS,
      hota: hota.perAlpha.hota,
      deta: hota.perAlpha.detA,
      assa: hota.perAlpha.assA,
      loca: hota.perAlpha.locA,
    },
    id_consistency: {
      ratio: idConsistency.ratio,
      consistent_gt_ids: idConsistency.consistentGtIds,
      inconsistent_gt_ids: idConsistency.inconsistentGtIds,
      unmatched_gt_ids: idConsistency.unmatchedGtIds,
      inconsistent: idConsistency.inconsistent.map((entry) => ({
        gt_id: entry.gtId,
        pred_ids: entry.predIds.map((p) => ({ pred_id: p.predId, frames: p.frames })),
      })),
    },
    conventions: METRIC_CONVENTIONS,
  };
}

/** Multi-line table for people; one metric per line with its convention where it matters. */
export function formatMotMetricsTable(metrics: MotMetrics): string {
  const { clear, identity, hota, idConsistency } = metrics;
  const lines: string[] = [];
  const row = (name: string, value: string, note = ''): void => {
    lines.push(`  ${name.padEnd(22)}${value.padStart(10)}${note === '' ? '' : `   ${note}`}`);
  };
  lines.push('CLEAR-MOT (py-motmetrics definitions, IoU >= 0.5)');
  row('MOTA', percent(clear.mota));
  row('MOTP (mean IoU)', decimal(clear.motpIou), 'MOTChallenge convention, higher is better');
  row('MOTP (distance)', decimal(clear.motpDistance), 'py-motmetrics motp = mean 1 - IoU, lower is better');
  row('ID switches', integer(clear.idSwitches));
  row('false positives', integer(clear.falsePositives));
  row('false negatives', integer(clear.falseNegatives));
  row('fragmentations', integer(clear.fragmentations));
  row('mostly tracked', integer(clear.mostlyTracked), `of ${clear.numUniqueObjects} ground-truth IDs (>= 80 % of frames)`);
  row('partially tracked', integer(clear.partiallyTracked));
  row('mostly lost', integer(clear.mostlyLost), '(< 20 % of frames)');
  row('precision', percent(clear.precision));
  row('recall', percent(clear.recall));
  row('objects', integer(clear.numObjects), 'ground-truth boxes');
  row('predictions', integer(clear.numPredictions), 'predicted boxes');
  row('matches', integer(clear.numMatches), `+ ${clear.idSwitches} switches = ${clear.numDetections} detections`);
  row('frames', integer(clear.numFrames));
  lines.push('Identity (py-motmetrics, optimal global ID assignment)');
  row('IDF1', percent(identity.idf1));
  row('IDP', percent(identity.idp));
  row('IDR', percent(identity.idr));
  row('IDTP / IDFP / IDFN', `${identity.idtp} / ${identity.idfp} / ${identity.idfn}`);
  lines.push('HOTA (TrackEval definitions, mean over alpha = 0.05..0.95)');
  row('HOTA', percent(hota.hota));
  row('DetA', percent(hota.detA));
  row('AssA', percent(hota.assA));
  row('LocA', percent(hota.locA));
  lines.push('ID consistency across the stream');
  row(
    'consistent GT IDs',
    percent(idConsistency.ratio),
    `${idConsistency.consistentGtIds} of ${idConsistency.consistentGtIds + idConsistency.inconsistentGtIds} matched` +
      (idConsistency.unmatchedGtIds > 0 ? `; ${idConsistency.unmatchedGtIds} never matched (excluded)` : ''),
  );
  for (const entry of idConsistency.inconsistent) {
    const parts = entry.predIds.map((p) => `${p.predId} (${p.frames} frame${p.frames === 1 ? '' : 's'})`).join(', ');
    lines.push(`    gt ${entry.gtId} -> ${parts}`);
  }
  return `${lines.join('\n')}\n`;
}

function percent(value: number): string {
  return Number.isFinite(value) ? `${(value * 100).toFixed(2)} %` : 'n/a';
}

function decimal(value: number): string {
  return Number.isFinite(value) ? value.toFixed(4) : 'n/a';
}

function integer(value: number): string {
  return String(value);
}
