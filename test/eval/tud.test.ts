/**
 * The public cross-check: py-motmetrics' bundled TUD-Campus / TUD-Stadtmitte ground truth and
 * tracker output. Expected CLEAR/identity values are the ones py-motmetrics asserts in
 * `motmetrics/tests/test_metrics.py::test_motchallenge_files` (printed to 6 decimals there);
 * expected HOTA values are those its `tests/test_evaluation.py` asserts for its
 * TrackEval-parity HOTA (checked against TrackEval in its CI).
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { combineHota, evaluateMot, identityMetrics, readMotFile, type MotMetrics, type MotRow } from '../../src/eval/index.ts';
import { MOT_DATA_DIR } from './helpers.ts';

/** idf1, idp, idr, recall, precision, GT, MT, PT, ML, FP, FN, IDs, FM, MOTA, MOTP (py-motmetrics order). */
const EXPECTED = {
  'TUD-Campus': [0.557659, 0.72973, 0.451253, 0.582173, 0.941441, 8, 1, 6, 1, 13, 150, 7, 7, 0.526462, 0.277201],
  'TUD-Stadtmitte': [0.644619, 0.81976, 0.531142, 0.608997, 0.93992, 10, 5, 4, 1, 45, 452, 7, 6, 0.564014, 0.345904],
} as const;

type Sequence = keyof typeof EXPECTED;
const inputs = new Map<Sequence, { gt: MotRow[]; pred: MotRow[] }>();
const results = new Map<Sequence, MotMetrics>();

beforeAll(async () => {
  for (const name of Object.keys(EXPECTED) as Sequence[]) {
    const gt = await readMotFile(path.join(MOT_DATA_DIR, name, 'gt.txt'));
    const pred = await readMotFile(path.join(MOT_DATA_DIR, name, 'test.txt'));
    inputs.set(name, { gt, pred });
    results.set(name, evaluateMot(gt, pred));
  }
});

/** Equal to the printed 6 decimals (half a unit in the last place, plus float slack). */
function expectPrinted(actual: number, printed: number): void {
  expect(Math.abs(actual - printed)).toBeLessThanOrEqual(5e-7 + 1e-12);
}

describe.each(Object.keys(EXPECTED) as Sequence[])('%s', (name) => {
  it('reproduces py-motmetrics CLEAR-MOT and identity metrics', () => {
    const { clear, identity } = results.get(name)!;
    const [idf1, idp, idr, recall, precision, gtIds, mt, pt, ml, fp, fn, ids, fm, mota, motp] = EXPECTED[name];
    expectPrinted(identity.idf1, idf1);
    expectPrinted(identity.idp, idp);
    expectPrinted(identity.idr, idr);
    expectPrinted(clear.recall, recall);
    expectPrinted(clear.precision, precision);
    expect([clear.numUniqueObjects, clear.mostlyTracked, clear.partiallyTracked, clear.mostlyLost]).toEqual([gtIds, mt, pt, ml]);
    expect([clear.falsePositives, clear.falseNegatives, clear.idSwitches, clear.fragmentations]).toEqual([fp, fn, ids, fm]);
    expectPrinted(clear.mota, mota);
    expectPrinted(clear.motpDistance, motp);
    expect(clear.motpIou).toBeCloseTo(1 - motp, 6);
  });

  it('gives the same identity metrics through identityMetrics alone', () => {
    const { gt, pred } = inputs.get(name)!;
    expect(identityMetrics(gt, pred)).toEqual(results.get(name)!.identity);
  });
});

describe('HOTA (TrackEval)', () => {
  it('matches TUD-Campus to 1e-12', () => {
    const { hota } = results.get('TUD-Campus')!;
    expect(Math.abs(hota.hota - 0.3913974378451139)).toBeLessThan(1e-12);
    expect(Math.abs(hota.detA - 0.418047030142763)).toBeLessThan(1e-12);
    expect(Math.abs(hota.assA - 0.36912068120832836)).toBeLessThan(1e-12);
  });

  it('matches the two-sequence combination (TrackEval combine_sequences) to 1e-12', () => {
    const combined = combineHota([results.get('TUD-Campus')!.hota, results.get('TUD-Stadtmitte')!.hota]);
    expect(Math.abs(combined.hota - 0.3999570912884786)).toBeLessThan(1e-12);
    expect(Math.abs(combined.detA - 0.3976832912424188)).toBeLessThan(1e-12);
    expect(Math.abs(combined.assA - 0.4124495298453543)).toBeLessThan(1e-12);
  });
});
