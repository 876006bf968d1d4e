/**
 * MOT evaluation: MOTChallenge rows in, CLEAR-MOT + identity (py-motmetrics), HOTA (TrackEval)
 * and cross-chunk ID consistency out. Everything here is pure except `readMotFile`.
 */
export { parseMotFile, writeMotRows, MotFormatError, type MotRow } from './mot-format.ts';
export { readMotFile } from './mot-io.ts';
export { evaluateMot, type EvaluateOptions, type MotMetrics } from './evaluate.ts';
export { identityMetrics, type IdentityMetrics } from './identity.ts';
export { crossChunkConsistency, type IdConsistency, type InconsistentGtId } from './consistency.ts';
export { hotaMetrics, combineHota, HOTA_ALPHAS, type HotaMetrics, type HotaPerAlpha } from './hota.ts';
export type { ClearMetrics } from './clear.ts';
export type { MotSequenceOptions } from './sequence.ts';
export { motMetricsToJson, formatMotMetricsTable, METRIC_CONVENTIONS } from './report.ts';
